"""Eligibility for registration (申报条件) as data, evaluated by a pure function.

附件1 第7条: 严格按照相应职业的国家职业技能标准……受理考生报名，不具备资格的人员不予受理.
Each level has alternatives (具备以下条件之一者); each alternative is a conjunction of
conditions on what the candidate declared (附件1 第6条: training certificate, diploma, prior
certificate, years of work). ``DEFAULT_RULES`` reproduce the typical 申报条件 of the national
occupational skill standards (2018 template); they are defaults — a centre stores its own per
level, or per occupation, with ``lifecycle.registration.set_eligibility_rules``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from itembank.domain import Level
from itembank.i18n import Message, Text


class Education(str, enum.Enum):
    """Highest diploma declared, as the 申报条件 distinguish them."""

    NONE = "none"  # 初中及以下 / none relevant
    SENIOR_SECONDARY = "senior_secondary"  # 普通高中
    VOCATIONAL_SECONDARY = "vocational_secondary"  # 中等职业学校 (中级技能培养目标)
    TECHNICAL_SCHOOL = "technical_school"  # 技工学校
    SENIOR_TECHNICAL_SCHOOL = "senior_technical_school"  # 高级技工学校、技师学院 (高级技能)
    PREP_TECHNICIAN = "prep_technician"  # 技师学院预备技师(技师)班
    HIGHER_VOCATIONAL = "higher_vocational"  # 高等职业学校 / 大专
    BACHELOR = "bachelor"  # 本科及以上

    @property
    def zh(self) -> str:
        return {
            "none": "无", "senior_secondary": "普通高中", "vocational_secondary": "中等职业学校",
            "technical_school": "技工学校", "senior_technical_school": "高级技工学校/技师学院",
            "prep_technician": "技师学院预备技师班", "higher_vocational": "高等职业学校(大专)",
            "bachelor": "本科及以上",
        }[self.value]

    @classmethod
    def parse(cls, value: object) -> "Education":
        if isinstance(value, cls):
            return value
        text = str(value or "none").strip()
        for e in cls:
            if text in (e.value, e.zh, e.name):
                return e
        aliases = {"大专": cls.HIGHER_VOCATIONAL, "本科": cls.BACHELOR, "研究生": cls.BACHELOR,
                   "中专": cls.VOCATIONAL_SECONDARY, "技校": cls.TECHNICAL_SCHOOL,
                   "高中": cls.SENIOR_SECONDARY, "初中": cls.NONE, "": cls.NONE}
        if text in aliases:
            return aliases[text]
        raise ValueError(Message("unknown education '{value}': use one of {educations}", value=value,
                                 educations=[f"{e.value} ({e.zh})" for e in cls]))


@dataclass(frozen=True, slots=True)
class PriorCertificate:
    """A vocational qualification or skill level certificate held (职业资格证书/职业技能等级证书)."""

    level: Level
    occupation_code: str
    number: str = ""
    issued_on: date | None = None


@dataclass(frozen=True, slots=True)
class Declaration:
    """What the candidate declared and documented at registration (附件1 第6条)."""

    years_of_work: float = 0.0  # 累计从事本职业或相关职业工作年限 (工作年限承诺书)
    prior_certificate: PriorCertificate | None = None
    prior_certificate_related: bool = False  # of another occupation declared as related (相关职业)
    years_since_prior: float | None = None  # years of work after the prior certificate; None: from its date
    training_completed: bool = False  # 培训结业证书 / 学徒期满
    education: Education = Education.NONE
    education_related: bool = False  # diploma in this or a related speciality (本专业或相关专业)

    def to_dict(self) -> dict:
        p = self.prior_certificate
        return {
            "years_of_work": self.years_of_work,
            "prior_certificate": None if p is None else {
                "level": int(p.level), "occupation_code": p.occupation_code, "number": p.number,
                "issued_on": p.issued_on.isoformat() if p.issued_on else None,
            },
            "prior_certificate_related": self.prior_certificate_related,
            "years_since_prior": self.years_since_prior,
            "training_completed": self.training_completed,
            "education": self.education.value,
            "education_related": self.education_related,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Declaration":
        p = d.get("prior_certificate")
        return cls(
            years_of_work=float(d.get("years_of_work") or 0.0),
            prior_certificate=None if not p else PriorCertificate(
                level=Level(int(p["level"])), occupation_code=p.get("occupation_code", ""),
                number=p.get("number", ""),
                issued_on=date.fromisoformat(p["issued_on"]) if p.get("issued_on") else None,
            ),
            prior_certificate_related=bool(d.get("prior_certificate_related")),
            years_since_prior=d.get("years_since_prior"),
            training_completed=bool(d.get("training_completed")),
            education=Education.parse(d.get("education")),
            education_related=bool(d.get("education_related")),
        )


@dataclass(frozen=True, slots=True)
class EligibilityRule:
    """One alternative (条件之一) of a level: every condition that is set must hold.

    ``prior_level``: a certificate of that level or higher (a smaller level number) in this or
    a related occupation; ``educations``: a diploma of one of these kinds in this or a related
    speciality.
    """

    level: Level
    alternative: int
    description: str
    min_years_of_work: float | None = None
    prior_level: Level | None = None
    min_years_since_prior: float | None = None
    requires_training: bool = False
    educations: frozenset[Education] | None = None

    def __post_init__(self) -> None:
        if self.min_years_since_prior is not None and self.prior_level is None:
            raise ValueError(Message("level {level} alternative {alternative}: years since a prior certificate need "
                                     "a prior certificate level", level=self.level, alternative=self.alternative))


@dataclass(frozen=True, slots=True)
class EligibilityResult:
    level: Level
    eligible: bool
    matched: EligibilityRule | None
    reasons: tuple[Text, ...]  # why each alternative fails (empty when eligible)

    def explanation(self) -> Message:
        if self.eligible and self.matched is not None:
            return Message("eligible by alternative ({alternative}) {description}",
                           alternative=self.matched.alternative, description=self.matched.description)
        return Message("not eligible for level {level} (附件1 第7条: applicants who do not qualify are not "
                       "accepted): {reasons}", level=self.level, reasons=list(self.reasons))


_E = Education
L5, L4, L3, L2, L1 = Level.L5, Level.L4, Level.L3, Level.L2, Level.L1

DEFAULT_RULES: tuple[EligibilityRule, ...] = (
    # 五级/初级工
    EligibilityRule(L5, 1, "累计从事本职业或相关职业工作1年（含）以上", min_years_of_work=1),
    EligibilityRule(L5, 2, "本职业或相关职业学徒期满（或取得培训结业证书）", requires_training=True),
    # 四级/中级工
    EligibilityRule(L4, 1, "取得本职业或相关职业五级/初级工证书后，累计从事本职业或相关职业工作4年（含）以上",
                    prior_level=L5, min_years_since_prior=4),
    EligibilityRule(L4, 2, "累计从事本职业或相关职业工作6年（含）以上", min_years_of_work=6),
    EligibilityRule(L4, 3, "取得技工学校本专业或相关专业毕业证书；或取得以中级技能为培养目标的中等及以上职业学校"
                           "本专业或相关专业毕业证书（含在校应届毕业生）",
                    educations=frozenset({_E.TECHNICAL_SCHOOL, _E.VOCATIONAL_SECONDARY, _E.SENIOR_TECHNICAL_SCHOOL,
                                          _E.PREP_TECHNICIAN, _E.HIGHER_VOCATIONAL})),
    # 三级/高级工
    EligibilityRule(L3, 1, "取得本职业或相关职业四级/中级工证书后，累计从事本职业或相关职业工作5年（含）以上",
                    prior_level=L4, min_years_since_prior=5),
    EligibilityRule(L3, 2, "取得本职业或相关职业四级/中级工证书，并具有高级技工学校、技师学院毕业证书，或以高级技能"
                           "为培养目标的高等职业学校本专业或相关专业毕业证书（含在校应届毕业生）",
                    prior_level=L4,
                    educations=frozenset({_E.SENIOR_TECHNICAL_SCHOOL, _E.PREP_TECHNICIAN, _E.HIGHER_VOCATIONAL})),
    EligibilityRule(L3, 3, "具有大专及以上本专业或相关专业毕业证书，并取得本职业或相关职业四级/中级工证书后，"
                           "累计从事本职业或相关职业工作2年（含）以上",
                    prior_level=L4, min_years_since_prior=2,
                    educations=frozenset({_E.HIGHER_VOCATIONAL, _E.BACHELOR})),
    # 二级/技师
    EligibilityRule(L2, 1, "取得本职业或相关职业三级/高级工证书后，累计从事本职业或相关职业工作4年（含）以上",
                    prior_level=L3, min_years_since_prior=4),
    EligibilityRule(L2, 2, "取得本职业或相关职业三级/高级工证书的高级技工学校、技师学院毕业生，累计从事本职业或"
                           "相关职业工作3年（含）以上",
                    prior_level=L3, min_years_of_work=3,
                    educations=frozenset({_E.SENIOR_TECHNICAL_SCHOOL, _E.PREP_TECHNICIAN})),
    EligibilityRule(L2, 3, "取得本职业或相关职业预备技师证书的技师学院毕业生，累计从事本职业或相关职业工作2年（含）以上",
                    prior_level=L3, min_years_of_work=2, educations=frozenset({_E.PREP_TECHNICIAN})),
    # 一级/高级技师
    EligibilityRule(L1, 1, "取得本职业或相关职业二级/技师证书后，累计从事本职业或相关职业工作4年（含）以上",
                    prior_level=L2, min_years_since_prior=4),
)


def default_rules(level: Level | int) -> tuple[EligibilityRule, ...]:
    lvl = Level(level)
    return tuple(r for r in DEFAULT_RULES if r.level == lvl)


def years_since_prior(decl: Declaration, *, on: date) -> float | None:
    """Declared years since the prior certificate, else the time since its date of issue,
    never more than the total years of work declared."""
    if decl.years_since_prior is not None:
        return float(decl.years_since_prior)
    p = decl.prior_certificate
    if p is None or p.issued_on is None:
        return None
    return min((on - p.issued_on).days / 365.25, float(decl.years_of_work))


def unmet_conditions(rule: EligibilityRule, decl: Declaration, *, occupation_code: str, on: date) -> list[Message]:
    """Every condition of ``rule`` that the declaration does not meet, in words."""
    out: list[Message] = []
    if rule.min_years_of_work is not None and decl.years_of_work + 1e-9 < rule.min_years_of_work:
        out.append(Message("needs {needed:g} years of work in the occupation, {declared:g} declared",
                           needed=rule.min_years_of_work, declared=decl.years_of_work))
    if rule.prior_level is not None:
        p = decl.prior_certificate
        if p is None:
            out.append(Message("needs a certificate of level {level} or higher in this or a related occupation; none "
                               "declared", level=rule.prior_level))
        elif int(p.level) > int(rule.prior_level):
            out.append(Message("needs a certificate of level {level} or higher in this or a related occupation; the "
                               "declared certificate is level {declared}", level=rule.prior_level, declared=p.level))
        elif p.occupation_code != occupation_code and not decl.prior_certificate_related:
            out.append(Message("needs a certificate of level {level} or higher in this or a related occupation; the "
                               "declared certificate is of occupation {occupation}, not declared related",
                               level=rule.prior_level, occupation=p.occupation_code))
        elif rule.min_years_since_prior is not None:
            since = years_since_prior(decl, on=on)
            if since is None:
                out.append(Message("needs {needed:g} years of work after obtaining that certificate; none declared",
                                   needed=rule.min_years_since_prior))
            elif since + 1e-9 < rule.min_years_since_prior:
                out.append(Message("needs {needed:g} years of work after obtaining that certificate; {declared:.1f} "
                                   "declared", needed=rule.min_years_since_prior, declared=since))
    if rule.requires_training and not decl.training_completed:
        out.append(Message("needs completed training or apprenticeship; none declared"))
    if rule.educations is not None:
        names = [e.zh for e in sorted(rule.educations, key=lambda e: list(Education).index(e))]
        if decl.education not in rule.educations:
            out.append(Message("needs a diploma of {names} in this or a related speciality; declared: {declared}",
                               names=names, declared=decl.education.zh))
        elif not decl.education_related:
            out.append(Message("needs the {declared} diploma to be in this or a related speciality",
                               declared=decl.education.zh))
    return out


def evaluate_eligibility(
    level: Level | int,
    declaration: Declaration,
    rules: Iterable[EligibilityRule],
    *,
    occupation_code: str,
    on: date,
) -> EligibilityResult:
    """Is the declaration eligible for ``level`` under ``rules`` (any one alternative)?

    The first alternative (by number) that is met is reported; when none is, every
    alternative's unmet conditions are listed, e.g. "(1) … needs 4 years …; (2) … ".
    """
    lvl = Level(level)
    mine: Sequence[EligibilityRule] = sorted((r for r in rules if r.level == lvl), key=lambda r: r.alternative)
    if not mine:
        return EligibilityResult(lvl, False, None, (Message("no eligibility rule is set for level {level}",
                                                            level=lvl),))
    reasons: list[Text] = []
    for rule in mine:
        unmet = unmet_conditions(rule, declaration, occupation_code=occupation_code, on=on)
        if not unmet:
            return EligibilityResult(lvl, True, rule, ())
        reasons.append(Message("({alternative}) {description}: {unmet}", alternative=rule.alternative,
                               description=rule.description, unmet=unmet))
    return EligibilityResult(lvl, False, None, tuple(reasons))
