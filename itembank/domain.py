"""Domain objects of the item bank: plain frozen dataclasses and enums, no database.

The ORM rows in :mod:`itembank.orm` are converted to these by the repositories; everything
above ``itembank`` (exports, lifecycle, api) works with these objects only.
Rules quoted from ../shared/DOMAIN.md and the regulation (附件N 第M条).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from analysis.messages import N_, Message

NO_WORK_TYPE = "——"  # printed where an occupation has no work type (附件3 第12条)


class Level(enum.IntEnum):
    """The five skill levels. The number is the official level: 5 is the lowest."""

    L5 = 5
    L4 = 4
    L3 = 3
    L2 = 2
    L1 = 1

    @property
    def zh(self) -> str:
        return _LEVEL_ZH[self]

    @property
    def title_zh(self) -> str:
        """Full Chinese title, e.g. ``五级/初级工`` (what Chinese documents print)."""
        return f"{_LEVEL_NUMERAL[self]}级/{_LEVEL_ZH[self]}"

    @property
    def title(self) -> Message:
        """The title in the reader's locale: 五级/初级工, Level 5 (junior worker)."""
        return Message(_LEVEL_TITLES[self])

    @property
    def has_defence(self) -> bool:
        """Levels 二级 (技师) and 一级 (高级技师) add defence / technical review (附件1 第23条)."""
        return self in (Level.L2, Level.L1)

    @classmethod
    def parse(cls, value: object) -> "Level":
        """Accept 5, "5", "L5", "五级", "初级工" ...; raise ValueError naming the value."""
        if isinstance(value, Level):
            return value
        text = str(value).strip()
        if text.upper().startswith("L"):
            text = text[1:]
        if text.isdigit() and int(text) in {m.value for m in cls}:
            return cls(int(text))
        for lvl in cls:
            if text in (_LEVEL_ZH[lvl], f"{_LEVEL_NUMERAL[lvl]}级", lvl.title_zh):
                return lvl
        raise ValueError(Message(
            "unknown level '{value}': use 5, 4, 3, 2 or 1 (五级/初级工 … 一级/高级技师)", value=value))


_LEVEL_ZH = {
    Level.L5: "初级工",
    Level.L4: "中级工",
    Level.L3: "高级工",
    Level.L2: "技师",
    Level.L1: "高级技师",
}
_LEVEL_NUMERAL = {Level.L5: "五", Level.L4: "四", Level.L3: "三", Level.L2: "二", Level.L1: "一"}
_LEVEL_TITLES = {  # catalog msgids: the zh_CN catalog has the titles of the regulation (五级/初级工 …)
    Level.L5: N_("Level 5 (junior worker)"), Level.L4: N_("Level 4 (intermediate worker)"),
    Level.L3: N_("Level 3 (senior worker)"), Level.L2: N_("Level 2 (technician)"),
    Level.L1: N_("Level 1 (senior technician)"),
}


class OccupationCategory(str, enum.Enum):
    """Occupation types of 附件11 第6条."""

    TECHNICAL_SKILL = "technical_skill"  # 技术技能型
    KNOWLEDGE_SKILL = "knowledge_skill"  # 知识技能型
    COMPOSITE_SKILL = "composite_skill"  # 复合技能型

    @property
    def zh(self) -> str:
        return {
            "technical_skill": "技术技能型",
            "knowledge_skill": "知识技能型",
            "composite_skill": "复合技能型",
        }[self.value]


class Part(str, enum.Enum):
    """Parts of a bank: theory items, practical tasks, defence / technical review topics."""

    THEORY = "theory"  # 理论知识
    PRACTICAL = "practical"  # 实际操作
    DEFENCE = "defence"  # 论文答辩 / 技术评审

    @property
    def zh(self) -> str:
        return {"theory": "理论知识", "practical": "实际操作", "defence": "论文答辩/技术评审"}[
            self.value
        ]


class ItemType(str, enum.Enum):
    SINGLE_CHOICE = "single_choice"  # 单项选择题
    MULTIPLE_CHOICE = "multiple_choice"  # 多项选择题
    TRUE_FALSE = "true_false"  # 判断题
    FILL_IN = "fill_in"  # 填空题
    SHORT_ANSWER = "short_answer"  # 简答题
    CALCULATION = "calculation"  # 计算题
    ESSAY = "essay"  # 论述题
    PRACTICAL_TASK = "practical_task"  # 实际操作试题
    DEFENCE_TOPIC = "defence_topic"  # 答辩/评审题

    @property
    def zh(self) -> str:
        return _TYPE_ZH[self]

    @property
    def part(self) -> Part:
        if self is ItemType.PRACTICAL_TASK:
            return Part.PRACTICAL
        if self is ItemType.DEFENCE_TOPIC:
            return Part.DEFENCE
        return Part.THEORY

    @property
    def is_objective(self) -> bool:
        """Objective items are scored by key (附件1 第16条)."""
        return self in OBJECTIVE_TYPES

    @property
    def has_options(self) -> bool:
        return self in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE)


_TYPE_ZH = {
    ItemType.SINGLE_CHOICE: "单项选择题",
    ItemType.MULTIPLE_CHOICE: "多项选择题",
    ItemType.TRUE_FALSE: "判断题",
    ItemType.FILL_IN: "填空题",
    ItemType.SHORT_ANSWER: "简答题",
    ItemType.CALCULATION: "计算题",
    ItemType.ESSAY: "论述题",
    ItemType.PRACTICAL_TASK: "实际操作试题",
    ItemType.DEFENCE_TOPIC: "答辩/评审题",
}
OBJECTIVE_TYPES = frozenset({ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.TRUE_FALSE})


class Importance(str, enum.Enum):
    """Importance of an element in the element table: X core, Y general, Z minor."""

    X = "X"
    Y = "Y"
    Z = "Z"


class VersionState(str, enum.Enum):
    """Workflow state of one item version (issue: authoring workflow).

    draft -> submitted -> in_review -> (changes_requested -> submitted) -> approved -> accepted;
    accepted -> retired; accepted -> superseded when a newer version of the item is accepted.
    Only ``accepted`` versions are eligible for papers.
    """

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    SUPERSEDED = "superseded"
    RETIRED = "retired"

    @property
    def zh(self) -> str:
        return {"draft": "草稿", "submitted": "已提交", "in_review": "审核中", "changes_requested": "退回修改",
                "approved": "审核通过", "accepted": "已验收", "superseded": "已被新版本替代", "retired": "已停用",
                }[self.value]


class IrtModel(str, enum.Enum):
    RASCH = "rasch"
    ONE_PL = "1pl"
    TWO_PL = "2pl"
    THREE_PL = "3pl"
    GRM = "grm"  # graded response
    PCM = "pcm"  # partial credit
    GPCM = "gpcm"  # generalised partial credit

    @property
    def title(self) -> str:
        """The model as the literature names it: Rasch, 2PL, GPCM (the same in every language)."""
        return "Rasch" if self is IrtModel.RASCH else self.value.upper()


# --------------------------------------------------------------------------------------
# Occupations and banks


@dataclass(frozen=True, slots=True)
class Occupation:
    code: str  # national occupation code, e.g. "6-31-01-03"
    name: str
    category: OccupationCategory
    work_type: str | None = None  # 工种; None when the occupation has none
    filed: bool = True  # 备案: banks may only be created for filed occupations
    id: int | None = None

    @property
    def display_work_type(self) -> str:
        return self.work_type or NO_WORK_TYPE

    @property
    def label(self) -> str:
        return f"{self.name}（{self.work_type}）" if self.work_type else self.name


@dataclass(frozen=True, slots=True)
class BankRef:
    """One bank: occupation x level."""

    occupation: Occupation
    level: Level
    id: int | None = None

    @property
    def label(self) -> str:
        """``6-31-01-03 电工 五级/初级工``: the level's title in the reader's locale."""
        return f"{self.occupation.code} {self.occupation.label} {self.level.title}"


# --------------------------------------------------------------------------------------
# Element specification table (认定要素细目表)


@dataclass(frozen=True, slots=True)
class ElementNode:
    """A scope (鉴定范围) or, at the leaves, an element (鉴定点).

    ``weight`` is the 鉴定比重 in percent of the whole part; a node's children's weights
    sum to its own. Leaves are elements and carry an importance X/Y/Z; scopes carry none.
    """

    code: str
    name: str
    weight: float
    parent_code: str | None = None
    importance: Importance | None = None


@dataclass(frozen=True, slots=True)
class ElementTable:
    occupation_code: str
    level: Level
    part: Part
    version: int
    nodes: tuple[ElementNode, ...]
    work_type: str | None = None
    created_at: datetime | None = None
    note: str = ""

    def leaves(self) -> tuple[ElementNode, ...]:
        parents = {n.parent_code for n in self.nodes if n.parent_code is not None}
        return tuple(n for n in self.nodes if n.code not in parents)

    def node(self, code: str) -> ElementNode:
        for n in self.nodes:
            if n.code == code:
                return n
        raise KeyError(code)

    def children(self, code: str | None) -> tuple[ElementNode, ...]:
        return tuple(n for n in self.nodes if n.parent_code == code)

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Codes of the scopes above ``code``, nearest first."""
        by_code = {n.code: n for n in self.nodes}
        out: list[str] = []
        parent = by_code[code].parent_code
        while parent is not None:
            out.append(parent)
            parent = by_code[parent].parent_code
        return tuple(out)


# --------------------------------------------------------------------------------------
# Items


@dataclass(frozen=True, slots=True)
class Option:
    label: str  # "A", "B", ...
    text: str


@dataclass(frozen=True, slots=True)
class RubricPoint:
    """One scoring point of a practical task or subjective item (评分要点)."""

    description: str
    points: float
    criteria: str = ""  # 评分标准 / deduction rule, e.g. "每错一处扣1分"


@dataclass(frozen=True, slots=True)
class ClassicalStats:
    p_value: float | None = None  # facility
    discrimination: float | None = None  # corrected item-total / point-biserial
    n: int = 0


@dataclass(frozen=True, slots=True)
class IrtParams:
    """IRT parameters in the a/b/c form with the logistic constant ``D`` stored alongside.

    For polytomous models ``thresholds`` holds the category step / boundary parameters.
    """

    model: IrtModel
    a: float = 1.0
    b: float = 0.0
    c: float = 0.0
    se_a: float | None = None
    se_b: float | None = None
    se_c: float | None = None
    thresholds: tuple[float, ...] = ()
    D: float = 1.0
    calibration_id: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    count: int = 0
    last_used_on: date | None = None
    compromised: bool = False


@dataclass(frozen=True, slots=True)
class ItemContent:
    """What a writer writes; changing any of it makes a new version (附件11 第14条)."""

    item_type: ItemType
    stem: str
    points: float
    element_codes: tuple[str, ...]
    options: tuple[Option, ...] = ()
    key: tuple[str, ...] = ()  # option labels; ("T",)/("F",) for true/false; text answers
    rubric: tuple[RubricPoint, ...] = ()
    analysis: str = ""  # 解析 / scoring standard text for subjective items
    time_limit_min: float | None = None  # practical tasks
    equipment: str = ""  # practical tasks: 设备、工具、材料
    estimated_time_s: float = 60.0
    difficulty_rating: int = 3  # expert rating 1 (easiest) .. 5 (hardest)

    @property
    def part(self) -> Part:
        return self.item_type.part


@dataclass(frozen=True, slots=True)
class Item:
    """One version of an item, with the statistics and usage attached to it."""

    code: str
    version: int
    content: ItemContent
    state: VersionState
    occupation_code: str = ""
    level: Level | None = None
    set_code: str | None = None  # items of one set are taken whole
    classical: ClassicalStats | None = None
    irt: IrtParams | None = None
    usage: Usage = field(default_factory=Usage)
    enemies: tuple[str, ...] = ()  # codes of items never to share a paper with this one
    id: int | None = None  # item id
    version_id: int | None = None

    @property
    def item_type(self) -> ItemType:
        return self.content.item_type

    @property
    def part(self) -> Part:
        return self.content.item_type.part

    @property
    def points(self) -> float:
        return self.content.points

    @property
    def ref(self) -> str:
        return f"{self.code} v{self.version}"


# --------------------------------------------------------------------------------------
# People


class Role(str, enum.Enum):
    """Roles of the centre's users (DOMAIN.md "Who uses it"). A user may hold several."""

    ADMIN = "admin"
    BANK_MANAGER = "bank_manager"  # 题库管理人员
    ITEM_WRITER = "item_writer"  # 命题专家
    REVIEWER = "reviewer"  # 审题专家
    COMMITTEE_MEMBER = "committee_member"  # 验收小组成员
    EXAM_OFFICE = "exam_office"  # 考务
    EXAMINER = "examiner"  # 考评员
    AUDITOR = "auditor"

    @property
    def zh(self) -> str:
        return {
            "admin": "系统管理员", "bank_manager": "题库管理人员", "item_writer": "命题专家",
            "reviewer": "审题专家", "committee_member": "验收委员", "exam_office": "考务人员",
            "examiner": "考评员", "auditor": "审计人员",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Grant:
    """One role held for one occupation, or for every occupation (``occupation_code`` None).

    A user's grants are kept pair by pair: a bank manager of X who is also exam office of Y
    is a bank manager of X only (附件12 第9条 need-to-know; 附件11 第23条)."""

    role: Role
    occupation_code: str | None = None


@dataclass(frozen=True, slots=True, init=False)
class Actor:
    """Who is acting: the username recorded in the ledger and the grants held.

    Every permission asks one question, :meth:`has`: does the actor hold role R for
    occupation O. ``Actor(name, roles, occupation_codes)`` is a shorthand giving *each* of
    ``roles`` for *each* of ``occupation_codes`` (None: every occupation); accounts with
    different scopes per role pass ``grants`` (``itembank.accounts.actor_from_roles``).

    Administrators (an ``admin`` grant for every occupation) pass every check. An ``admin``
    grant limited to one occupation gives nothing: the accounts service refuses to make one.
    """

    username: str
    grants: frozenset[Grant]

    def __init__(self, username: str, roles: Iterable[Role] = (), occupation_codes: Iterable[str] | None = None,
                 *, grants: Iterable[Grant] | None = None) -> None:
        made = set(grants or ())
        codes = None if occupation_codes is None else tuple(occupation_codes)
        for role in roles:
            made |= {Grant(Role(role), None)} if codes is None else {Grant(Role(role), c) for c in codes}
        object.__setattr__(self, "username", username)
        object.__setattr__(self, "grants", frozenset(made))

    @property
    def is_admin(self) -> bool:
        return Grant(Role.ADMIN, None) in self.grants

    @property
    def roles(self) -> frozenset[Role]:
        """The roles held for at least one occupation (menus and the first, coarse check)."""
        return frozenset(g.role for g in self.grants if g.role is not Role.ADMIN or g.occupation_code is None)

    def has(self, role: Role, *, occupation_code: str) -> bool:
        """Does the actor hold ``role`` for ``occupation_code`` (admin: always)."""
        if occupation_code is None:  # "for some occupation" is has_role; never a silent pass here
            raise TypeError("Actor.has needs the occupation; use has_role for 'held anywhere'")
        if self.is_admin:
            return True
        return Grant(role, None) in self.grants or Grant(role, occupation_code) in self.grants

    def holds(self, role: Role, *, occupation_code: str) -> bool:
        """A grant of ``role`` itself for ``occupation_code`` (or every occupation), without the
        administrator's pass: acts a named role must do in person (the two-person opening)."""
        return Grant(role, None) in self.grants or Grant(role, occupation_code) in self.grants

    def has_role(self, *roles: Role) -> bool:
        """Does the actor hold one of ``roles`` for at least one occupation (admin: always)."""
        return self.is_admin or bool(self.roles & set(roles))

    def has_everywhere(self, role: Role) -> bool:
        """Does the actor hold ``role`` for every occupation (centre-wide registers)."""
        return self.is_admin or Grant(role, None) in self.grants

    def occupations_for(self, *roles: Role) -> frozenset[str] | None:
        """The occupations one of ``roles`` covers: None for every occupation (admin, or an
        unscoped grant of one of them), else the codes (possibly none)."""
        if self.is_admin or any(Grant(r, None) in self.grants for r in roles):
            return None
        return frozenset(g.occupation_code for g in self.grants if g.role in roles and g.occupation_code)


SYSTEM_ACTOR = Actor("system", frozenset({Role.ADMIN}))


# --------------------------------------------------------------------------------------
# Papers


class PaperKind(str, enum.Enum):
    FORM = "form"  # a main parallel form (A卷, B卷 ...)
    BACKUP = "backup"  # 备用试卷 (附件16)

    @property
    def zh(self) -> str:
        return {"form": "正式试卷", "backup": "备用试卷"}[self.value]


@dataclass(frozen=True, slots=True)
class Paper:
    """An assembled paper ready to print or seal.

    ``items`` are in printed order, grouped by item type (the order of sections); numbering
    is continuous across sections. ``points_override`` is unused when empty: each item's own
    points count.
    """

    code: str  # e.g. "DG5-2026-03-A"
    occupation: Occupation
    level: Level
    part: Part
    form_label: str  # "A", "B", "备用1" ...
    kind: PaperKind
    items: tuple[Item, ...]
    time_allowed_min: int
    centre_name: str = "职业技能等级认定中心"
    session_code: str | None = None
    practice: bool = False
    blueprint_version: int | None = None
    created_at: datetime | None = None
    # the pictures the items show, SHA-256 -> stored bytes (itembank.media): printed with them
    pictures: Mapping[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def total_points(self) -> float:
        return float(sum(it.points for it in self.items))

    @property
    def title(self) -> str:
        occ = self.occupation.label
        return f"{occ}（{self.level.title_zh}）{self.part.zh}试卷"
