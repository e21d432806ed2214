"""The ORM's CHECK-constraint value lists and the lifecycle enums agree (the ORM layer cannot
import the enums, so both sides are spelled out and compared here)."""

from itembank import orm_lifecycle as o
from itembank.domain import Part
from lifecycle.domain import (
    ApplicationStatus,
    CardKind,
    CertificateAction,
    CertificateStatus,
    ProctorRole,
    RelationKind,
    ViolationKind,
)
from lifecycle.idnumbers import IdType
from lifecycle.scoring_rules import Outcome, PartStatus


def test_enum_values_match_the_check_constraints() -> None:
    pairs = [
        (IdType, o.ID_TYPES), (ApplicationStatus, o.APPLICATION_STATUSES), (CardKind, o.CARD_KINDS),
        (RelationKind, o.RELATION_KINDS), (ProctorRole, o.PROCTOR_ROLES), (PartStatus, o.PART_RESULT_STATUSES),
        (Outcome, o.OUTCOMES), (ViolationKind, o.VIOLATION_KINDS), (CertificateStatus, o.CERTIFICATE_STATUSES),
        (CertificateAction, o.CERTIFICATE_ACTIONS), (Part, o.SESSION_PARTS),
    ]
    for enum_cls, values in pairs:
        assert {m.value for m in enum_cls} == set(values), enum_cls
