"""Errors of the lifecycle modules. Each subclasses an ``itembank.errors`` class so that
``api/errors.py`` maps it to an HTTP status by its base; every message says which candidate,
session, card or certificate is concerned and why, in words the centre's staff understand."""

from __future__ import annotations

from collections.abc import Sequence

from itembank.errors import ConflictError, ItemBankError, Listed, NotFoundError, ValidationError
from itembank.i18n import Text

__all__ = [
    "LifecycleError", "NotFoundError", "ValidationError", "ConflictError",
    "IneligibleError", "CapacityError", "ConflictOfInterestError", "StaffingError",
    "CardNotValidError", "ScoringError", "PublicationError", "CertificateRefusedError",
    "CertificateStateError", "RetentionError",
]


class LifecycleError(ItemBankError):
    code = "lifecycle_error"


class IneligibleError(ConflictError):
    """The application does not meet any alternative of the level's 申报条件 (附件1 第7条)."""

    code = "ineligible"

    def __init__(self, message: Text, *, reasons: Sequence[Listed] = (), code: str | None = None) -> None:
        super().__init__(message, errors=reasons, code=code)

    @property
    def reasons(self) -> list[Listed]:
        return self.errors


class CapacityError(ConflictError):
    code = "room_capacity"


class ConflictOfInterestError(ConflictError):
    """A staff member has a declared relation to a candidate of the room or session
    (附件2 第8条(七): 对有亲属、师生、师徒关系的考生应予以回避)."""

    code = "conflict_of_interest"


class StaffingError(ConflictError):
    code = "staffing"


class CardNotValidError(ConflictError):
    """The staff member holds no card valid for the task (expired, revoked, lapsed training)."""

    code = "card_not_valid"


class ScoringError(ConflictError):
    code = "scoring"


class PublicationError(ConflictError):
    code = "publication"


class CertificateRefusedError(ConflictError):
    """No certificate for an unsuccessful candidate (附件15 第7条, 附件3 第8条)."""

    code = "certificate_refused"


class CertificateStateError(ConflictError):
    code = "certificate_state"


class RetentionError(ConflictError):
    code = "retention"
