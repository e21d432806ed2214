"""ORM rows of the authoring workflow (issue 3): the expert register, reviewer assignments,
reviews, and committee acceptance batches with their members, items and signatures.

The enums stored here are the workflow's domain vocabulary; ``itembank.experts`` and
``itembank.workflow`` re-export them (they live here so that the ORM module does not import
the service modules).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    LargeBinary,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from itembank.orm import Base, str_enum, utcnow


class ExpertRole(str, enum.Enum):
    """What an expert is registered to do for an occupation (附件11 第10条, 第19条 专家信息库)."""

    WRITER = "writer"  # 命题专家
    REVIEWER = "reviewer"  # 审题专家

    @property
    def zh(self) -> str:
        return {"writer": "命题专家", "reviewer": "审题专家"}[self.value]


class TitleRank(str, enum.Enum):
    """Rank of a professional title (专业技术职务)."""

    NONE = "none"
    JUNIOR = "junior"  # 初级
    INTERMEDIATE = "intermediate"  # 中级
    ASSOCIATE_SENIOR = "associate_senior"  # 副高级
    SENIOR = "senior"  # 正高级

    @property
    def zh(self) -> str:
        return {"none": "无", "junior": "初级", "intermediate": "中级",
                "associate_senior": "副高级", "senior": "正高级"}[self.value]

    @property
    def rank(self) -> int:
        return list(TitleRank).index(self)


class ReviewDecision(str, enum.Enum):
    APPROVE = "approve"  # 通过
    REQUEST_CHANGES = "request_changes"  # 修改后再审

    @property
    def zh(self) -> str:
        return {"approve": "通过", "request_changes": "修改后再审"}[self.value]


class BatchKind(str, enum.Enum):
    COMMITTEE = "committee"  # accepted here by a committee that signs (附件11 第17条)
    LEGACY = "legacy"  # imported as already accepted by a committee elsewhere; reference kept


class BatchState(str, enum.Enum):
    OPEN = "open"  # waiting for the members' votes
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # 验收不合格 (附件11 第17条(四))

    @property
    def zh(self) -> str:
        return {"open": "待签署", "accepted": "已验收", "rejected": "验收未通过"}[self.value]


class Vote(str, enum.Enum):
    """A committee member's vote on a batch; either way the member signs it (第17条(三))."""

    ACCEPT = "accept"  # 同意验收
    REFUSE = "refuse"  # 不予验收, with a reason


class AcceptanceRule(str, enum.Enum):
    """When a batch whose members have all voted is accepted (the centre's choice; 附件11
    第17条 asks that every member sign the result but sets no quorum)."""

    UNANIMOUS = "unanimous"  # every member accepts
    TWO_THIRDS = "two_thirds"  # at least two thirds accept
    MAJORITY = "majority"  # more than half accept

    def accepts(self, n_accept: int, n_members: int) -> bool:
        if self is AcceptanceRule.UNANIMOUS:
            return n_accept == n_members
        if self is AcceptanceRule.TWO_THIRDS:
            return 3 * n_accept >= 2 * n_members
        return 2 * n_accept > n_members


class ReviewKind(str, enum.Enum):
    REVIEW = "review"  # an assigned reviewer's review (第15条)
    COMMITTEE = "committee"  # an acceptance committee's refusal sent back to the writer (第17条(四))


# --------------------------------------------------------------------------------------
# Expert register (专家信息库)


class ExpertRecord(Base):
    """A person in the expert register. Occupation scopes are in ``expert_scopes``."""

    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    title_rank: Mapped[TitleRank] = mapped_column(str_enum(TitleRank, "title_rank"), default=TitleRank.NONE)
    title_name: Mapped[str] = mapped_column(String(100), default="")  # e.g. 高级工程师
    # 附件11 第10条(三): a past quality or confidentiality problem bars the expert; the reason is kept.
    suspended_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    scopes: Mapped[list[ExpertScopeRecord]] = relationship(
        back_populates="expert", order_by="ExpertScopeRecord.id", cascade="all, delete-orphan"
    )


class ExpertScopeRecord(Base):
    """An occupation an expert may write or review for, with the qualification held in it."""

    __tablename__ = "expert_scopes"
    __table_args__ = (
        UniqueConstraint("expert_id", "occupation_code", "role"),
        CheckConstraint("years_in_occupation >= 0", name="years_nonnegative"),
        CheckConstraint(
            "certificate_level IS NULL OR certificate_level BETWEEN 1 AND 5", name="certificate_level_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), index=True)
    occupation_code: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[ExpertRole] = mapped_column(str_enum(ExpertRole, "expert_role"))
    years_in_occupation: Mapped[int] = mapped_column(Integer)
    # 职业资格 / 技能等级 held in this occupation: 1 高级技师 .. 5 初级工; None: none
    certificate_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    certificate_no: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    granted_by: Mapped[str] = mapped_column(String(100), default="")
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    expert: Mapped[ExpertRecord] = relationship(back_populates="scopes")


# --------------------------------------------------------------------------------------
# Review


class ReviewAssignmentRecord(Base):
    """A reviewer assigned to an item (all its versions): reviewers see only their items."""

    __tablename__ = "review_assignments"
    __table_args__ = (UniqueConstraint("item_id", "reviewer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    reviewer: Mapped[str] = mapped_column(String(100), index=True)
    assigned_by: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewRecord(Base):
    """One reviewer's comment and decision on one version (附件11 第15条)."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100), index=True)
    decision: Mapped[ReviewDecision] = mapped_column(str_enum(ReviewDecision, "review_decision"))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[ReviewKind] = mapped_column(str_enum(ReviewKind, "review_kind"), default=ReviewKind.REVIEW,
                                             server_default=ReviewKind.REVIEW.value)
    batch_code: Mapped[str] = mapped_column(String(64), default="", server_default="")  # committee: the batch


# --------------------------------------------------------------------------------------
# Committee acceptance (附件11 第17条)


class AcceptanceBatchRecord(Base):
    """A batch of approved versions put to an acceptance committee, or (kind ``legacy``) the
    record of an earlier committee's acceptance of an imported bank."""

    __tablename__ = "acceptance_batches"
    __table_args__ = (Index("ix_acceptance_batches_bank_kind_ref", "bank_id", "kind", "external_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    kind: Mapped[BatchKind] = mapped_column(str_enum(BatchKind, "batch_kind"))
    state: Mapped[BatchState] = mapped_column(str_enum(BatchState, "batch_state"))
    meeting: Mapped[str] = mapped_column(String(400), default="")  # 会议审查: when and where
    note: Mapped[str] = mapped_column(Text, default="")
    external_ref: Mapped[str] = mapped_column(String(200), default="")  # legacy committee's reference
    # SHA-256 over the batch code, members and every (item code, version, content hash):
    # what each member signs.
    manifest_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by: Mapped[str] = mapped_column(String(100), default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    close_reason: Mapped[str] = mapped_column(Text, default="")
    # the decision rule in force when the batch was made (a later change of the centre's rule
    # does not change how an open batch is decided)
    rule: Mapped[AcceptanceRule] = mapped_column(str_enum(AcceptanceRule, "acceptance_rule"),
                                                 default=AcceptanceRule.UNANIMOUS,
                                                 server_default=AcceptanceRule.UNANIMOUS.value)

    members: Mapped[list[AcceptanceMemberRecord]] = relationship(order_by="AcceptanceMemberRecord.position")
    items: Mapped[list[AcceptanceItemRecord]] = relationship()
    signatures: Mapped[list[AcceptanceSignatureRecord]] = relationship(
        order_by="AcceptanceSignatureRecord.signed_at"
    )


class AcceptanceMemberRecord(Base):
    __tablename__ = "acceptance_members"

    batch_id: Mapped[int] = mapped_column(ForeignKey("acceptance_batches.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[str] = mapped_column(String(100), default="")  # 技术管理 / 培训 / 考核 ...


class AcceptanceItemRecord(Base):
    __tablename__ = "acceptance_items"

    batch_id: Mapped[int] = mapped_column(ForeignKey("acceptance_batches.id"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"), primary_key=True, index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    # set when a rejected batch sends this version back for changes (附件11 第17条(四))
    returned: Mapped[bool] = mapped_column(Boolean, default=False)


class AcceptanceSignatureRecord(Base):
    """A member's signed vote on a batch (附件11 第17条(三) 验收结果全体成员签字): accept, or
    refuse with a reason and the items to send back."""

    __tablename__ = "acceptance_signatures"

    batch_id: Mapped[int] = mapped_column(ForeignKey("acceptance_batches.id"), primary_key=True)
    member: Mapped[str] = mapped_column(String(100), primary_key=True)
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opinion: Mapped[str] = mapped_column(Text, default="")
    # SHA-256 over (manifest hash, member, time, vote, opinion): binds the signature to the batch content
    signature: Mapped[str] = mapped_column(String(64))
    vote: Mapped[Vote] = mapped_column(str_enum(Vote, "vote"), default=Vote.ACCEPT, server_default=Vote.ACCEPT.value)
    # refusals: the item codes the member wants sent back (empty: all of them)
    return_codes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))


# --------------------------------------------------------------------------------------
# Imports checked and waiting for confirmation


class StagedImportRecord(Base):
    """A file that passed a trial import (试导入), kept so that the bank manager can confirm
    the import of exactly that file without choosing it again. Its hash is shown and checked;
    it is deleted when imported and forgotten after a day."""

    __tablename__ = "staged_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    username: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # items | elements
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
