"""Errors of the item bank. Every message names the occupation, level, element, item, row or
field concerned and says what to do; ``api/errors.py`` maps these to HTTP codes."""

from __future__ import annotations

from collections.abc import Sequence


class ItemBankError(Exception):
    """Base class. ``field`` names the offending input field where there is one."""

    code = "itembank_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(ItemBankError):
    code = "not_found"


class ConflictError(ItemBankError):
    """The request contradicts the current state (duplicate code, wrong workflow state ...)."""

    code = "conflict"


class ValidationError(ItemBankError):
    """Bad input. ``errors`` lists every problem found, not only the first."""

    code = "validation_error"

    def __init__(
        self, message: str, *, errors: Sequence[str] = (), field: str | None = None
    ) -> None:
        self.errors = list(errors) or [message]
        full = message if not errors else message + "\n" + "\n".join(f"  - {e}" for e in errors)
        super().__init__(full, field=field)


class OccupationNotFiledError(ConflictError):
    code = "occupation_not_filed"


class ElementTableError(ValidationError):
    code = "element_table_invalid"


class ItemValidationError(ValidationError):
    code = "item_invalid"


class BankNotReadyError(ConflictError):
    """A bank below its minimums may not issue an official paper (附件11 第7条)."""

    code = "bank_not_ready"

    def __init__(self, message: str, *, shortfalls: Sequence[str] = ()) -> None:
        self.shortfalls = list(shortfalls)
        full = message if not shortfalls else message + "\n" + "\n".join(f"  - {s}" for s in shortfalls)
        super().__init__(full)


class PermissionDeniedError(ItemBankError):
    code = "permission_denied"


class AuthenticationError(ItemBankError):
    """Wrong credentials, or a missing, expired or revoked token."""

    code = "not_authenticated"


class TooManyAttemptsError(ItemBankError):
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


# --------------------------------------------------------------------------------------
# Authoring workflow, expert register, import / export (issue 3)


class WorkflowError(ConflictError):
    """A workflow act that the item's current state does not allow (wrong state, wrong
    batch, nothing to do). ``from_state``/``to_state`` name the refused move when there is one."""

    code = "workflow_conflict"

    def __init__(
        self, message: str, *, from_state: str | None = None, to_state: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.from_state = from_state
        self.to_state = to_state


class NotQualifiedError(PermissionDeniedError):
    """An expert lacks a qualification of 附件11 第10条; ``missing`` lists each one in words."""

    code = "not_qualified"

    def __init__(self, message: str, *, missing: Sequence[str] = (), field: str | None = None) -> None:
        self.missing = list(missing)
        full = message if not missing else message + "\n" + "\n".join(f"  - {m}" for m in missing)
        super().__init__(full, field=field)


class ImportFileError(ValidationError):
    """A file to import (xlsx, csv, QTI) has problems; nothing was written.

    ``problems`` holds every problem with its sheet, row and column (``ImportProblem``)."""

    code = "import_invalid"

    def __init__(self, message: str, *, problems: Sequence[object] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message, errors=[str(p) for p in problems])
