"""Registration (附件1 第二章): candidates, applications per occupation and level with the
documents declared, eligibility rules as data, refusals with reasons, bulk .xlsx import.

附件1 第6条: documents brought at registration (身份证、培训毕（结）业证书、学历证书、职业资格证书或
职业技能等级证书、工作年限承诺书); 第7条: 不具备资格的人员不予受理; 附件3 第9条: only filed
occupations (备案的职业（工种）) are examined.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.archive import check_workbook
from itembank.textcheck import text_problem
from itembank.domain import Level
from itembank.i18n import FieldMessage, Message, from_storable, to_storable
from itembank.occupations import get_occupation, occupation_from_record
from itembank.orm import OccupationRecord
from itembank.orm_lifecycle import (
    ApplicationRecord,
    CandidateRecord,
    EligibilityRuleRecord,
    ExamPlanRecord,
)
from lifecycle.domain import Application, ApplicationStatus, Candidate
from lifecycle.eligibility import (
    Declaration,
    Education,
    EligibilityResult,
    EligibilityRule,
    PriorCertificate,
    default_rules,
    evaluate_eligibility,
)
from lifecycle.errors import ConflictError, NotFoundError, ValidationError
from lifecycle.idnumbers import IdType, check_id_number

log = logging.getLogger(__name__)

DOCUMENT_KINDS = ("id_card", "training_certificate", "diploma", "prior_certificate", "work_years_pledge")
"""附件1 第6条: 身份证、培训毕（结）业证书、学历证书、职业资格证书或职业技能等级证书、工作年限承诺书."""


# --------------------------------------------------------------------------------------
# Candidates


def candidate_from_record(rec: CandidateRecord) -> Candidate:
    return Candidate(id=rec.id, name=rec.name, id_type=IdType(rec.id_type), id_number=rec.id_number,
                     birth_date=rec.birth_date, phone=rec.phone, email=rec.email, employer=rec.employer)


def validate_candidate(*, name: str, id_type: object, id_number: str, today: date | None = None,
                       ) -> tuple[list[FieldMessage], IdType | None, str, date | None]:
    """Problems of a candidate's identity fields (each naming its field), plus the parsed type,
    normalised number and birth date."""
    errors: list[FieldMessage] = []
    if not (name or "").strip():
        errors.append(FieldMessage("name", Message("the name is empty")))
    elif len(name.strip()) > 100:
        errors.append(FieldMessage("name", Message("longer than {limit} characters", limit=100)))
    try:
        t = IdType.parse(id_type)
    except ValueError as e:
        return errors + [FieldMessage("id_type", e.args[0])], None, id_number, None
    check = check_id_number(t, id_number or "", today=today)
    errors += list(check.errors)
    return errors, t, check.number, check.birth_date


def register_candidate(
    session: Session,
    *,
    name: str,
    id_type: IdType | str,
    id_number: str,
    actor: str,
    phone: str = "",
    email: str = "",
    employer: str = "",
    today: date | None = None,
) -> Candidate:
    """Register a candidate, or return the one already registered with this document (updating
    the contact details given). A known document under another name is refused: a typing
    error or an impersonation, either way staff must look."""
    errors, t, number, birth = validate_candidate(name=name, id_type=id_type, id_number=id_number, today=today)
    if errors:
        raise ValidationError(Message("Candidate {name} was not registered.", name=name), errors=errors)
    assert t is not None
    rec = session.scalar(select(CandidateRecord).where(CandidateRecord.id_type == t.value,
                                                       CandidateRecord.id_number == number))
    if rec is not None:
        if rec.name != name.strip():
            raise ConflictError(Message(
                "{id_type} {number} is registered to {registered}, not {name}: check the document.", id_type=t.zh,
                number=number, registered=rec.name, name=name.strip()), field="name", code="document_other_name")
        for attr, value in (("phone", phone), ("email", email), ("employer", employer)):
            if value:
                setattr(rec, attr, value)
        session.flush()
        return candidate_from_record(rec)
    rec = CandidateRecord(name=name.strip(), id_type=t.value, id_number=number, birth_date=birth, phone=phone,
                          email=email, employer=employer, created_by=actor)
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="candidate.register", object_type="candidate", object_id=rec.id,
                  details={"name": rec.name, "id_type": t.value})
    return candidate_from_record(rec)


def get_candidate(session: Session, *, candidate_id: int) -> Candidate:
    rec = session.get(CandidateRecord, candidate_id)
    if rec is None:
        raise NotFoundError(Message("There is no candidate number {id}.", id=candidate_id), field="candidate_id",
                            code="candidate_not_found")
    return candidate_from_record(rec)


def find_candidate(session: Session, *, id_type: IdType | str, id_number: str) -> Candidate | None:
    check = check_id_number(id_type, id_number)
    rec = session.scalar(select(CandidateRecord).where(CandidateRecord.id_type == check.id_type.value,
                                                       CandidateRecord.id_number == check.number))
    return None if rec is None else candidate_from_record(rec)


# --------------------------------------------------------------------------------------
# Eligibility rules (data)


def _rule_from_record(r: EligibilityRuleRecord) -> EligibilityRule:
    return EligibilityRule(
        level=Level(r.level), alternative=r.alternative, description=r.description,
        min_years_of_work=r.min_years_of_work,
        prior_level=Level(r.prior_level) if r.prior_level is not None else None,
        min_years_since_prior=r.min_years_since_prior, requires_training=r.requires_training,
        educations=frozenset(Education(e) for e in r.educations) if r.educations is not None else None,
    )


def eligibility_rules(session: Session, *, level: Level | int, occupation_code: str | None = None,
                      work_type: str | None = None) -> tuple[EligibilityRule, ...]:
    """The rules in force for a level: the occupation's own rows if it has any, else the
    centre's general rows for the level, else ``eligibility.DEFAULT_RULES``."""
    lvl = Level.parse(level)
    if occupation_code is not None:
        occ = get_occupation(session, code=occupation_code, work_type=work_type)
        own = session.scalars(select(EligibilityRuleRecord).where(
            EligibilityRuleRecord.level == int(lvl), EligibilityRuleRecord.occupation_id == occ.id)).all()
        if own:
            return tuple(sorted((_rule_from_record(r) for r in own), key=lambda r: r.alternative))
    general = session.scalars(select(EligibilityRuleRecord).where(
        EligibilityRuleRecord.level == int(lvl), EligibilityRuleRecord.occupation_id.is_(None))).all()
    if general:
        return tuple(sorted((_rule_from_record(r) for r in general), key=lambda r: r.alternative))
    return default_rules(lvl)


def set_eligibility_rules(
    session: Session,
    *,
    level: Level | int,
    rules: Sequence[EligibilityRule],
    actor: str,
    occupation_code: str | None = None,
    work_type: str | None = None,
) -> tuple[EligibilityRule, ...]:
    """Replace the rules of a level (for one occupation, or the general ones). An empty
    ``rules`` removes the stored rows, so the defaults (or general rows) apply again."""
    lvl = Level.parse(level)
    errors = [Message("alternative ({alternative}): level {level} is not {expected}", alternative=r.alternative,
                      level=r.level, expected=lvl) for r in rules if r.level != lvl]
    alts = [r.alternative for r in rules]
    if len(set(alts)) != len(alts):
        errors.append(Message("two alternatives have the same number"))
    errors += [Message("alternative ({alternative}) has no description", alternative=r.alternative)
               for r in rules if not r.description.strip()]
    errors += [Message("alternative ({alternative}) sets no condition", alternative=r.alternative) for r in rules
               if r.min_years_of_work is None and r.prior_level is None and not r.requires_training
               and r.educations is None]
    if errors:
        raise ValidationError(Message("The eligibility rules for level {level} were not saved.", level=lvl),
                              errors=errors)
    occ_id = None
    if occupation_code is not None:
        occ_id = get_occupation(session, code=occupation_code, work_type=work_type).id
    cond = EligibilityRuleRecord.occupation_id == occ_id if occ_id is not None else EligibilityRuleRecord.occupation_id.is_(None)
    session.execute(delete(EligibilityRuleRecord).where(EligibilityRuleRecord.level == int(lvl), cond))
    for r in rules:
        session.add(EligibilityRuleRecord(
            level=int(lvl), alternative=r.alternative, occupation_id=occ_id, description=r.description,
            min_years_of_work=r.min_years_of_work,
            prior_level=int(r.prior_level) if r.prior_level is not None else None,
            min_years_since_prior=r.min_years_since_prior, requires_training=r.requires_training,
            educations=sorted(e.value for e in r.educations) if r.educations is not None else None,
            created_by=actor))
    session.flush()
    ledger.append(session, actor=actor, action="eligibility.rules", object_type="level", object_id=int(lvl),
                  details={"occupation": occupation_code, "n_rules": len(rules),
                           "rules": [r.description for r in rules]})
    return eligibility_rules(session, level=lvl, occupation_code=occupation_code, work_type=work_type)


# --------------------------------------------------------------------------------------
# Applications


def application_from_record(session: Session, rec: ApplicationRecord) -> Application:
    cand = session.get(CandidateRecord, rec.candidate_id)
    occ = session.get(OccupationRecord, rec.occupation_id)
    plan_code = None
    if rec.plan_id is not None:
        plan_code = session.scalar(select(ExamPlanRecord.code).where(ExamPlanRecord.id == rec.plan_id))
    assert cand is not None and occ is not None
    return Application(
        id=rec.id, candidate=candidate_from_record(cand), occupation=occupation_from_record(occ),
        level=Level(rec.level), status=ApplicationStatus(rec.status),
        declaration=Declaration.from_dict(rec.declaration or {}), applied_on=rec.applied_on,
        documents=tuple(rec.documents or ()), plan_code=plan_code, matched_rule=rec.matched_rule,
        refusal_reasons=tuple(from_storable(list(rec.refusal_reasons or ()))), status_reason=rec.status_reason,
    )


def _validate_documents(documents: Sequence[dict]) -> list[FieldMessage]:
    errors = []
    for i, d in enumerate(documents, start=1):
        if d.get("kind") not in DOCUMENT_KINDS:
            errors.append(FieldMessage(f"documents[{i}]", Message(
                "document {n}: '{kind}' is not a kind of document; use one of {kinds}", n=i, kind=d.get("kind"),
                kinds=list(DOCUMENT_KINDS))))
    return errors


def _plan_for(session: Session, plan_code: str | None) -> ExamPlanRecord | None:
    if plan_code is None:
        return None
    plan = session.scalar(select(ExamPlanRecord).where(ExamPlanRecord.code == plan_code))
    if plan is None:
        raise NotFoundError(Message("There is no exam plan {plan}.", plan=plan_code), field="plan_code",
                            code="plan_not_found")
    return plan


def submit_application(
    session: Session,
    *,
    candidate_id: int,
    occupation_code: str,
    level: Level | int,
    declaration: Declaration,
    actor: str,
    work_type: str | None = None,
    documents: Sequence[dict] = (),
    plan_code: str | None = None,
    applied_on: date | None = None,
) -> Application:
    """Record an application and decide it against the eligibility rules in force.

    The application is always recorded: ``accepted`` with the alternative that qualifies, or
    ``refused`` with every reason (附件1 第7条 不予受理) so the refusal can be explained and
    audited. Check ``application.status``.
    """
    lvl = Level.parse(level)
    applied_on = applied_on or date.today()
    occupation = get_occupation(session, code=occupation_code, work_type=work_type)
    occ = occupation  # the domain object carries id, code, name and filed
    if session.get(CandidateRecord, candidate_id) is None:
        raise NotFoundError(Message("There is no candidate number {id}.", id=candidate_id), field="candidate_id",
                            code="candidate_not_found")
    errors = _validate_documents(documents)
    if declaration.years_of_work < 0 or (declaration.years_since_prior or 0) < 0:
        errors.append(FieldMessage("declaration", Message("the years of work cannot be negative")))
    if errors:
        raise ValidationError(Message("The application was not saved."), errors=errors)
    plan = _plan_for(session, plan_code)
    if plan is not None:
        _check_plan_matches(session, plan, occ.id, lvl)
    same_plan = ApplicationRecord.plan_id == plan.id if plan else ApplicationRecord.plan_id.is_(None)
    dup = session.scalar(select(ApplicationRecord.id).where(
        ApplicationRecord.candidate_id == candidate_id, ApplicationRecord.occupation_id == occ.id,
        ApplicationRecord.level == int(lvl), ApplicationRecord.status == ApplicationStatus.ACCEPTED.value,
        same_plan))
    if dup is not None:
        raise ConflictError(
            Message("Candidate {candidate} already has an accepted application (number {application}) for {occupation}, "
                    "level {level}, in exam plan {plan}.", candidate=candidate_id, application=dup,
                    occupation=occ.code, level=lvl, plan=plan_code) if plan_code else
            Message("Candidate {candidate} already has an accepted application (number {application}) for {occupation}, "
                    "level {level}.", candidate=candidate_id, application=dup, occupation=occ.code, level=lvl),
            code="application_exists")
    if not occupation.filed:
        result = EligibilityResult(lvl, False, None, (Message(
            "occupation {code} {name} is not filed (未备案): the centre may not examine it (附件3 第9条)",
            code=occ.code, name=occ.name),))
    else:
        rules = eligibility_rules(session, level=lvl, occupation_code=occupation_code, work_type=work_type)
        result = evaluate_eligibility(lvl, declaration, rules, occupation_code=occupation_code, on=applied_on)
    rec = ApplicationRecord(
        candidate_id=candidate_id, occupation_id=occ.id, level=int(lvl), plan_id=plan.id if plan else None,
        status=(ApplicationStatus.ACCEPTED if result.eligible else ApplicationStatus.REFUSED).value,
        declaration=declaration.to_dict(), documents=[dict(d) for d in documents],
        matched_rule=(f"({result.matched.alternative}) {result.matched.description}" if result.matched else ""),
        refusal_reasons=to_storable(list(result.reasons)), applied_on=applied_on, created_by=actor,
    )
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action=f"application.{rec.status}", object_type="application",
                  object_id=rec.id, details={"candidate_id": candidate_id, "occupation": occ.code,
                                             "level": int(lvl), "rule": rec.matched_rule,
                                             "reasons": to_storable(list(result.reasons))})
    return application_from_record(session, rec)


def _check_plan_matches(session: Session, plan: ExamPlanRecord, occupation_id: int, level: Level) -> None:
    from itembank.orm import BankRecord

    bank = session.get(BankRecord, plan.bank_id)
    assert bank is not None
    if bank.occupation_id != occupation_id or bank.level != int(level):
        raise ValidationError(Message("Exam plan {plan} is for another occupation or level.", plan=plan.code),
                              field="plan_code")
    if plan.status != "open":
        raise ConflictError(Message("Exam plan {plan} is closed.", plan=plan.code), field="plan_code",
                            code="plan_closed")


def get_application(session: Session, *, application_id: int) -> Application:
    rec = session.get(ApplicationRecord, application_id)
    if rec is None:
        raise NotFoundError(Message("There is no application number {id}.", id=application_id),
                            field="application_id", code="application_not_found")
    return application_from_record(session, rec)


def list_applications(session: Session, *, plan_code: str | None = None,
                      status: ApplicationStatus | None = None) -> list[Application]:
    q = select(ApplicationRecord).order_by(ApplicationRecord.id)
    if plan_code is not None:
        plan = _plan_for(session, plan_code)
        q = q.where(ApplicationRecord.plan_id == plan.id)  # type: ignore[union-attr]
    if status is not None:
        q = q.where(ApplicationRecord.status == ApplicationStatus(status).value)
    return [application_from_record(session, r) for r in session.scalars(q)]


def assign_to_plan(session: Session, *, application_id: int, plan_code: str, actor: str) -> Application:
    """Put an accepted application into an exam plan (附件1 第8条 汇总报名信息，制定考试计划)."""
    rec = session.get(ApplicationRecord, application_id)
    if rec is None:
        raise NotFoundError(Message("There is no application number {id}.", id=application_id),
                            field="application_id", code="application_not_found")
    if rec.status != ApplicationStatus.ACCEPTED.value:
        raise ConflictError(Message("Application {id} is {status}; only accepted applications join an exam plan.",
                                    id=application_id, status=ApplicationStatus(rec.status)),
                            code="application_not_accepted")
    plan = _plan_for(session, plan_code)
    assert plan is not None
    _check_plan_matches(session, plan, rec.occupation_id, Level(rec.level))
    rec.plan_id = plan.id
    session.flush()
    ledger.append(session, actor=actor, action="application.plan", object_type="application", object_id=rec.id,
                  details={"plan": plan_code})
    return application_from_record(session, rec)


def withdraw_application(session: Session, *, application_id: int, reason: str, actor: str) -> Application:
    rec = session.get(ApplicationRecord, application_id)
    if rec is None:
        raise NotFoundError(Message("There is no application number {id}.", id=application_id),
                            field="application_id", code="application_not_found")
    if rec.status != ApplicationStatus.ACCEPTED.value:
        raise ConflictError(Message("Application {id} is {status}; it cannot be withdrawn.", id=application_id,
                                    status=ApplicationStatus(rec.status)), code="application_not_accepted")
    rec.status, rec.status_reason = ApplicationStatus.WITHDRAWN.value, reason
    session.flush()
    ledger.append(session, actor=actor, action="application.withdrawn", object_type="application",
                  object_id=rec.id, details={"reason": reason})
    return application_from_record(session, rec)


# --------------------------------------------------------------------------------------
# Bulk import (.xlsx)

IMPORT_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    # (field, Chinese header, required)
    ("name", "姓名", True),
    ("id_type", "证件类型", True),
    ("id_number", "证件号码", True),
    ("phone", "联系电话", False),
    ("employer", "工作单位", False),
    ("occupation_code", "职业代码", True),
    ("work_type", "工种", False),
    ("level", "申报等级", True),
    ("years_of_work", "累计工作年限", True),
    ("prior_level", "原证书等级", False),
    ("prior_occupation_code", "原证书职业代码", False),
    ("prior_number", "原证书编号", False),
    ("prior_issued_on", "原证书发证日期", False),
    ("prior_related", "原证书为相关职业", False),
    ("years_since_prior", "取得原证书后工作年限", False),
    ("training_completed", "培训结业或学徒期满", False),
    ("education", "学历", False),
    ("education_related", "本专业或相关专业", False),
)
_TRUE = {"是", "Y", "YES", "TRUE", "1", "√"}
_FALSE = {"否", "N", "NO", "FALSE", "0", "", "×"}


@dataclass(frozen=True, slots=True)
class ImportReport:
    n_rows: int
    accepted: tuple[Application, ...]
    refused: tuple[Application, ...]


def registration_template_xlsx() -> bytes:
    """An empty import sheet with the headers (Chinese, with the field name below) and one example row."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "报名信息"
    ws.append([h for _, h, _ in IMPORT_COLUMNS])
    ws.append(["张三", "居民身份证", "11010519491231002X", "13800000000", "某电力公司", "6-31-01-03", "", 5, 2,
               "", "", "", "", "否", "", "否", "高中", "否"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_HEADER = {f: h for f, h, _ in IMPORT_COLUMNS}


def _at(row: int, field: str | None = None) -> Message:
    """Where a problem of the sheet is: its row and the column by its Chinese header."""
    if field is None:
        return Message("row {row}", row=row)
    return Message("row {row}, column {column}", row=row, column=_HEADER.get(field, field))


def _header_map(header: Sequence[object]) -> tuple[dict[str, int], list[Message]]:
    names = {f: f for f, _, _ in IMPORT_COLUMNS} | {h: f for f, h, _ in IMPORT_COLUMNS}
    found: dict[str, int] = {}
    errors: list[Message] = []
    for i, cell in enumerate(header):
        text = str(cell).strip() if cell is not None else ""
        if not text:
            continue
        if text not in names:
            errors.append(Message("header row: column {n} '{text}' is not a column of the template", n=i + 1,
                                  text=text))
        else:
            found[names[text]] = i
    for f, h, required in IMPORT_COLUMNS:
        if required and f not in found:
            errors.append(Message("header row: the required column {column} is missing", column=h))
    return found, errors


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _parse_bool(text: str, where: Message, errors: list[Message]) -> bool:
    t = text.upper()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    errors.append(Message("{where}: '{text}' is not 是 or 否", where=where, text=text))
    return False


def _parse_float(text: str, where: Message, errors: list[Message], *, required: bool) -> float | None:
    if not text:
        if required:
            errors.append(Message("{where}: empty", where=where))
        return None
    try:
        v = float(text)
    except ValueError:
        errors.append(Message("{where}: '{text}' is not a number", where=where, text=text))
        return None
    if v < 0 or v > 60:
        errors.append(Message("{where}: {years:g} years is not plausible", where=where, years=v))
    return v


def import_applications_xlsx(
    session: Session,
    *,
    data: bytes,
    actor: str,
    plan_code: str | None = None,
    applied_on: date | None = None,
    sheet: str | None = None,
) -> ImportReport:
    """Import candidates and their applications from an .xlsx sheet (one row each).

    All or nothing, like the item import: every row is validated first (identity document
    and check digit, occupation filed, level, numbers, dates, yes/no columns, duplicates within
    the file and against registered candidates); on any problem nothing is written and the
    ``ValidationError`` lists every problem by row. Valid rows are then registered and decided
    against the eligibility rules: ineligible applications are recorded as refused with
    their reasons (附件1 第7条), not treated as input errors.
    """
    from openpyxl import load_workbook

    applied_on = applied_on or date.today()
    check_workbook(data, source="workbook")  # bounded unpacking first (itembank.archive): 422 when refused
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several kinds for a file that is not .xlsx
        raise ValidationError(Message("The file is not a readable .xlsx workbook ({reason}).",
                                      reason=e.__class__.__name__), field="file") from e
    ws = wb[sheet] if sheet else wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    wb.close()
    if not rows:
        raise ValidationError(Message("The sheet is empty."), field="file")
    cols, header_errors = _header_map(rows[0])
    if header_errors:
        raise ValidationError(Message("The header row is not the registration template's; nothing was imported."),
                              errors=header_errors)
    errors: list[Message] = []
    plan = _plan_for(session, plan_code)

    parsed: list[dict] = []
    seen_docs: dict[tuple[str, str], tuple[int, str]] = {}
    seen_apps: dict[tuple[str, str, str, int], int] = {}
    occ_cache: dict[tuple[str, str], OccupationRecord | None] = {}
    for r_i, row in enumerate(rows[1:], start=2):
        values = {f: _cell_text(row[i]) if i < len(row) else "" for f, i in cols.items()}
        if not any(values.values()):
            continue
        where = _at(r_i)
        unsafe = [Message("{where}: {message}", where=_at(r_i, f), message=problem)
                  for f, v in values.items() if (problem := text_problem(v)) is not None]
        if unsafe:  # text documents cannot hold (itembank.textcheck)
            errors += unsafe
            continue
        identity, t, number, _birth = validate_candidate(
            name=values.get("name", ""), id_type=values.get("id_type", ""),
            id_number=values.get("id_number", ""), today=applied_on)
        row_errors: list[Message] = [Message("{where}: {message}", where=_at(r_i, p.field), message=p.message)
                                     for p in identity]
        try:
            lvl = Level.parse(values.get("level", ""))
        except ValueError as e:
            row_errors.append(Message("{where}: {message}", where=_at(r_i, "level"), message=e.args[0]))
            lvl = None
        key = (values.get("occupation_code", ""), values.get("work_type", ""))
        if key not in occ_cache:
            occ_cache[key] = session.scalar(select(OccupationRecord).where(
                OccupationRecord.code == key[0], OccupationRecord.work_type == key[1]))
        occ = occ_cache[key]
        if occ is None:
            row_errors.append(
                Message("{where}: no occupation {code} with work type {work_type} is registered",
                        where=_at(r_i, "occupation_code"), code=key[0], work_type=key[1]) if key[1] else
                Message("{where}: no occupation {code} is registered", where=_at(r_i, "occupation_code"),
                        code=key[0]))
        elif plan is not None and lvl is not None:
            try:
                _check_plan_matches(session, plan, occ.id, lvl)
            except (ValidationError, ConflictError) as e:
                row_errors.append(Message("{where}: {message}", where=where, message=e.head_text))
        years = _parse_float(values.get("years_of_work", ""), _at(r_i, "years_of_work"), row_errors, required=True)
        since = _parse_float(values.get("years_since_prior", ""), _at(r_i, "years_since_prior"), row_errors,
                             required=False)
        prior = None
        if values.get("prior_level"):
            try:
                p_level = Level.parse(values["prior_level"])
                p_date = date.fromisoformat(values["prior_issued_on"]) if values.get("prior_issued_on") else None
                prior = PriorCertificate(p_level, values.get("prior_occupation_code") or key[0],
                                         values.get("prior_number", ""), p_date)
            except ValueError as e:
                row_errors.append(Message("{where}: {message}", where=_at(r_i, "prior_level"),
                                          message=e.args[0] if e.args and isinstance(e.args[0], Message) else str(e)))
        try:
            education = Education.parse(values.get("education", ""))
        except ValueError as e:
            row_errors.append(Message("{where}: {message}", where=_at(r_i, "education"), message=e.args[0]))
            education = Education.NONE
        flags = {f: _parse_bool(values.get(f, ""), _at(r_i, f), row_errors)
                 for f in ("prior_related", "training_completed", "education_related")}
        if t is not None and not row_errors:
            doc = (t.value, number)
            name = values["name"].strip()
            if doc in seen_docs and seen_docs[doc][1] != name:
                row_errors.append(Message("{where}: {id_type} {number} appears in row {other} under the name {name}",
                                          where=_at(r_i, "id_number"), id_type=t.zh, number=number,
                                          other=seen_docs[doc][0], name=seen_docs[doc][1]))
            seen_docs.setdefault(doc, (r_i, name))
            existing = session.scalar(select(CandidateRecord.name).where(
                CandidateRecord.id_type == t.value, CandidateRecord.id_number == number))
            if existing is not None and existing != name:
                row_errors.append(Message("{where}: {id_type} {number} is registered to {registered}, not {name}",
                                          where=_at(r_i, "name"), id_type=t.zh, number=number, registered=existing,
                                          name=name))
            app_key = (t.value, number, key[0] + "/" + key[1], int(lvl))  # type: ignore[arg-type]
            if app_key in seen_apps:
                row_errors.append(Message("{where}: the same application as row {other}", where=where,
                                          other=seen_apps[app_key]))
            seen_apps.setdefault(app_key, r_i)
        errors += row_errors
        if not row_errors:
            parsed.append({"row": r_i, "values": values, "id_type": t, "id_number": number, "level": lvl,
                           "occupation": occ, "declaration": Declaration(
                               years_of_work=years or 0.0, prior_certificate=prior,
                               prior_certificate_related=flags["prior_related"], years_since_prior=since,
                               training_completed=flags["training_completed"], education=education,
                               education_related=flags["education_related"])})
    if errors:
        raise ValidationError(Message("{n} problem(s) in the sheet; nothing was imported.", n=len(errors)),
                              errors=errors)
    if not parsed:
        raise ValidationError(Message("The sheet has no data rows."), field="file")

    accepted: list[Application] = []
    refused: list[Application] = []
    for p in parsed:
        v = p["values"]
        cand = register_candidate(session, name=v["name"], id_type=p["id_type"], id_number=p["id_number"],
                                  phone=v.get("phone", ""), employer=v.get("employer", ""), actor=actor,
                                  today=applied_on)
        app = submit_application(
            session, candidate_id=cand.id, occupation_code=p["occupation"].code,
            work_type=p["occupation"].work_type or None, level=p["level"], declaration=p["declaration"],
            actor=actor, plan_code=plan_code, applied_on=applied_on,
            documents=[{"kind": "id_card", "number": p["id_number"]},
                       {"kind": "work_years_pledge", "years": p["declaration"].years_of_work}],
        )
        (accepted if app.status is ApplicationStatus.ACCEPTED else refused).append(app)
    ledger.append(session, actor=actor, action="applications.import", object_type="plan",
                  object_id=plan_code or "-", details={"n_rows": len(parsed), "accepted": len(accepted),
                                                       "refused": len(refused)})
    return ImportReport(len(parsed), tuple(accepted), tuple(refused))
