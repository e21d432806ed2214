"""Domain objects of the lifecycle modules: enums and frozen dataclasses, no database.

Services convert ORM rows (``itembank.orm_lifecycle``) into these; the API issue's schemas
and the .docx rendering read them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from itembank.domain import NO_WORK_TYPE, Level, Occupation, Part
from itembank.i18n import Text
from lifecycle.eligibility import Declaration
from lifecycle.idnumbers import IdType
from lifecycle.scoring_rules import Outcome, PartStatus

__all__ = [
    "ApplicationStatus", "CardKind", "RelationKind", "ProctorRole", "ViolationKind",
    "CertificateStatus", "CertificateAction", "Outcome", "PartStatus", "IdType",
    "Candidate", "Application", "ExamPlan", "ExamRoom", "ExamSession", "TicketSitting",
    "AdmissionTicket", "StaffMember", "StaffCard", "PartResult", "ExamResult", "Certificate",
]


class ApplicationStatus(str, enum.Enum):
    ACCEPTED = "accepted"  # 受理
    REFUSED = "refused"  # 不予受理 (附件1 第7条), with the reasons
    WITHDRAWN = "withdrawn"
    DISQUALIFIED = "disqualified"  # 取消考试资格 (附件14 第3条, 附件1 第32条)

    @property
    def zh(self) -> str:
        return {"accepted": "已受理", "refused": "不予受理", "withdrawn": "已撤回", "disqualified": "已取消考试资格",
                }[self.value]


class CardKind(str, enum.Enum):
    EXAMINER = "examiner"  # 考评员证卡 (附件2 第16条)
    SUPERVISOR = "supervisor"  # 质量督导员证卡 (附件10 第13条)

    @property
    def zh(self) -> str:
        return {"examiner": "考评员证卡", "supervisor": "质量督导员证卡"}[self.value]


class RelationKind(str, enum.Enum):
    """Relations that require recusal (附件2 第8条(七): 亲属、师生、师徒关系)."""

    RELATIVE = "relative"  # 亲属
    TEACHER_STUDENT = "teacher_student"  # 师生
    MASTER_APPRENTICE = "master_apprentice"  # 师徒

    @property
    def zh(self) -> str:
        return {"relative": "亲属", "teacher_student": "师生", "master_apprentice": "师徒"}[self.value]


class ProctorRole(str, enum.Enum):
    """附件7 第1条: 每标准考场应配备 2 名监考人员，其中1名为主监考员，1名为副监考员."""

    CHIEF = "chief"  # 主监考员
    DEPUTY = "deputy"  # 副监考员

    @property
    def zh(self) -> str:
        return {"chief": "主监考员", "deputy": "副监考员"}[self.value]


class ViolationKind(str, enum.Enum):
    """Candidate violations and their consequence (附件14)."""

    WARNING = "warning"  # 第1条: 警告，责令改正 (a second one in the same sitting voids the paper)
    PAPER_VOIDED = "paper_voided"  # 第1条: 第二次仍不改正的……登记试卷作废
    SCORE_CANCELLED = "score_cancelled"  # 第2条: 取消本场考试成绩
    DISQUALIFIED = "disqualified"  # 第3条: 取消其考试资格; 附件1 第32条

    @property
    def zh(self) -> str:
        return {"warning": "警告", "paper_voided": "试卷作废", "score_cancelled": "取消本场考试成绩",
                "disqualified": "取消考试资格"}[self.value]


class CertificateStatus(str, enum.Enum):
    GENERATED = "generated"  # code allocated, not yet printed
    PRINTED = "printed"
    ISSUED = "issued"  # handed to the holder (核发)
    VOIDED = "voided"  # spoiled before issue (作废); the code is never reused
    REVOKED = "revoked"  # 撤回 (附件1 第32条, 附件3 第23条)

    @property
    def zh(self) -> str:
        return {"generated": "已生成", "printed": "已打印", "issued": "已核发", "voided": "已作废", "revoked": "已撤回",
                }[self.value]


class CertificateAction(str, enum.Enum):
    """The certificate ledger's acts (附件3 第17–18条)."""

    GENERATE = "generate"
    PRINT = "print"
    ISSUE = "issue"
    VOID = "void"
    REISSUE = "reissue"  # 补发
    CORRECT = "correct"  # 修改 (附件3 第17条)
    REVOKE = "revoke"

    @property
    def zh(self) -> str:
        return {"generate": "生成", "print": "打印", "issue": "核发", "void": "作废", "reissue": "补发",
                "correct": "修改", "revoke": "撤回"}[self.value]


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    name: str
    id_type: IdType
    id_number: str
    birth_date: date | None = None
    phone: str = ""
    email: str = ""
    employer: str = ""


@dataclass(frozen=True, slots=True)
class Application:
    id: int
    candidate: Candidate
    occupation: Occupation
    level: Level
    status: ApplicationStatus
    declaration: Declaration
    applied_on: date
    documents: tuple[dict, ...] = ()
    plan_code: str | None = None
    matched_rule: str = ""
    refusal_reasons: tuple[Text, ...] = ()
    status_reason: str = ""


@dataclass(frozen=True, slots=True)
class ExamPlan:
    id: int
    code: str
    occupation: Occupation
    level: Level
    bank_id: int
    title: str = ""
    status: str = "open"
    closed_on: date | None = None


@dataclass(frozen=True, slots=True)
class ExamRoom:
    id: int
    code: str
    capacity: int
    location: str = ""


@dataclass(frozen=True, slots=True)
class ExamSession:
    """One sitting of one part of one bank: what the sealed-paper service needs
    (occupation, level, part, time window, place, rooms)."""

    id: int
    code: str
    plan_code: str
    bank_id: int
    occupation: Occupation
    level: Level
    part: Part
    starts_at: datetime
    ends_at: datetime
    place: str
    status: str = "planned"
    rooms: tuple[ExamRoom, ...] = ()

    @property
    def capacity(self) -> int:
        return sum(r.capacity for r in self.rooms)


@dataclass(frozen=True, slots=True)
class TicketSitting:
    session_code: str
    part: Part
    starts_at: datetime
    ends_at: datetime
    place: str
    room: str
    seat_no: int


@dataclass(frozen=True, slots=True)
class AdmissionTicket:
    """准考证 (附件1 第10条): 姓名、身份证号、准考证号、职业（工种）、等级、考试时间、地点以及考试须知."""

    number: str
    name: str
    id_type: IdType
    id_number: str
    occupation: Occupation
    level: Level
    sittings: tuple[TicketSitting, ...]
    institution: str
    plan_code: str
    notes: tuple[str, ...] = ()

    @property
    def work_type(self) -> str:
        return self.occupation.work_type or NO_WORK_TYPE


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: int
    name: str
    organisation: str = ""
    id_number: str = ""


@dataclass(frozen=True, slots=True)
class StaffCard:
    id: int
    staff_id: int
    kind: CardKind
    number: str
    issued_on: date
    valid_until: date
    status: str
    grade: int | None = None
    occupation_code: str | None = None


@dataclass(frozen=True, slots=True)
class PartResult:
    part: Part
    session_code: str
    raw_points: float
    max_points: float
    score: float  # 100-point scale
    status: PartStatus
    flagged: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ExamResult:
    application_id: int
    candidate_name: str
    outcome: Outcome
    parts: tuple[PartResult, ...] = ()
    review_passed: bool | None = None
    reasons: tuple[Text, ...] = ()
    released: bool = False


@dataclass(frozen=True, slots=True)
class Certificate:
    """附件3 第11条: 姓名、证件类型、证件号码、职业名称、工种名称、职业技能等级、证书编号、二维码、评价机构、发证日期."""

    id: int
    code: str
    holder_name: str
    id_type: IdType
    id_number: str
    occupation_code: str
    occupation_name: str
    work_type_name: str  # "——" when the occupation has none (附件3 第12条)
    level: Level
    institution: str
    issued_on: date
    status: CertificateStatus
    qr_payload: str = ""
    print_count: int = 0
    application_id: int | None = None
    extra: dict = field(default_factory=dict)
