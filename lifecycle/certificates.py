"""Skill level certificates (附件3): unique codes, the fields of 第11条, the certificate
ledger (printing, issue, voiding, reissue, correction, revocation) and QR verification.

Only a candidate who passed gets one (附件3 第8条; 附件15 第7条: 私自给成绩不合格者或无成绩者办证 is
a disciplinary offence), and only after the results were released (附件1 第26条).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from itembank import ledger
from itembank.domain import NO_WORK_TYPE, Level
from itembank.orm import OccupationRecord
from itembank.orm_lifecycle import (
    ApplicationRecord,
    CandidateRecord,
    CertificateEventRecord,
    CertificateRecord,
    ExamPlanRecord,
    ExamResultRecord,
)
from lifecycle.codes import DEFAULT_LAYOUT, CertificateCodeLayout, certificate_scope, format_certificate_code
from lifecycle.config import LifecycleSettings
from lifecycle.domain import ApplicationStatus, Certificate, CertificateAction, CertificateStatus, IdType, Outcome
from lifecycle.errors import (
    CertificateRefusedError,
    CertificateStateError,
    NotFoundError,
    ValidationError,
)
from lifecycle.idnumbers import check_id_number
from lifecycle.keys import qr_secret
from lifecycle.qr import build_qr_payload, render_qr, verify_qr_payload
from lifecycle.serials import next_serial
from itembank.i18n import FieldMessage, Message, Text, from_storable, to_storable

LIVE = (CertificateStatus.GENERATED.value, CertificateStatus.PRINTED.value, CertificateStatus.ISSUED.value)


def code_values(settings: LifecycleSettings, *, year: int, level: int) -> dict[str, object]:
    """Segment values of the default layout from the settings (the institution's filing number)."""
    return {"organisation_kind": settings.organisation_kind, "organisation": settings.organisation_code,
            "province": settings.province_code, "site": settings.site_serial, "year": year % 100, "level": level}


def certificate_from_record(rec: CertificateRecord, settings: LifecycleSettings) -> Certificate:
    return Certificate(
        id=rec.id, code=rec.code, holder_name=rec.holder_name, id_type=IdType(rec.id_type), id_number=rec.id_number,
        occupation_code=rec.occupation_code, occupation_name=rec.occupation_name, work_type_name=rec.work_type_name,
        level=Level(rec.level), institution=rec.institution, issued_on=rec.issued_on,
        status=CertificateStatus(rec.status), qr_payload=qr_payload_of(rec, settings), print_count=rec.print_count,
        application_id=rec.application_id,
    )


def qr_payload_of(rec: CertificateRecord, settings: LifecycleSettings) -> str:
    return build_qr_payload(code=rec.code, holder_name=rec.holder_name, id_number=rec.id_number,
                            occupation_code=rec.occupation_code, level=rec.level, issued_on=rec.issued_on,
                            secret=qr_secret(settings, session=object_session(rec)), base_url=settings.verify_url)


def _event(session: Session, rec: CertificateRecord, action: CertificateAction, *, actor: str, reason: str = "",
           details: Mapping[str, object] | None = None) -> None:
    session.add(CertificateEventRecord(certificate_id=rec.id, action=action.value, actor=actor, reason=reason,
                                       details=dict(details or {})))
    session.flush()
    ledger.append(session, actor=actor, action=f"certificate.{action.value}", object_type="certificate",
                  object_id=rec.code, details={"reason": reason, **dict(details or {})})


def refusal_reasons(session: Session, *, application_id: int) -> list[Message]:
    """Why the application may not get a certificate (empty: it may)."""
    app = session.get(ApplicationRecord, application_id)
    if app is None:
        return [Message("there is no application number {id}", id=application_id)]
    reasons: list[Message] = []
    if app.status != ApplicationStatus.ACCEPTED.value:
        reasons.append(Message("the application is {status}", status=ApplicationStatus(app.status)))
    res = session.scalar(select(ExamResultRecord).where(ExamResultRecord.application_id == app.id))
    if res is None:
        reasons.append(Message("the result is not decided yet: no certificate before the candidate has passed "
                               "(附件3 第8条, 附件15 第7条)"))
    elif res.outcome != Outcome.PASSED.value:
        why = from_storable(list(res.reasons or []))
        reasons.append(
            Message("the result is {outcome} ({reasons}): no certificate for a candidate who did not pass "
                    "(附件3 第8条, 附件15 第7条)", outcome=Outcome(res.outcome), reasons=why) if why else
            Message("the result is {outcome}: no certificate for a candidate who did not pass (附件3 第8条, 附件15 第7条)",
                    outcome=Outcome(res.outcome)))
    elif res.released_at is None:
        reasons.append(Message("the result is not released yet: certificates follow the publication of 5 working "
                               "days (附件1 第26条)"))
    occ = session.get(OccupationRecord, app.occupation_id)
    if occ is not None and not occ.filed:
        reasons.append(Message("occupation {code} is not filed (附件3 第9条)", code=occ.code))
    live = session.scalar(select(CertificateRecord.code).where(CertificateRecord.application_id == app.id,
                                                               CertificateRecord.status.in_(LIVE)))
    if live is not None:
        reasons.append(Message("certificate {code} already exists for this application (one certificate, one code)",
                               code=live))
    return reasons


def issue_certificate(
    session: Session,
    *,
    application_id: int,
    actor: str,
    settings: LifecycleSettings,
    issued_on: date | None = None,
    layout: CertificateCodeLayout = DEFAULT_LAYOUT,
    values: Mapping[str, object] | None = None,
) -> Certificate:
    """Create the certificate of a passed, released application with a new unique code
    (附件3 第13条) and the fields of 第11条; recorded in the certificate ledger.

    Raises ``CertificateRefusedError`` for anyone who did not pass, whose result is not yet
    released, or who already holds a live certificate of this application. ``values``
    overrides the code segments (for a custom ``layout``); the serial always comes from the
    counter of (prefix, year, level).
    """
    reasons = refusal_reasons(session, application_id=application_id)
    if reasons:
        raise CertificateRefusedError(Message("No certificate for application {id}.", id=application_id),
                                      errors=reasons)
    app = session.get(ApplicationRecord, application_id)
    assert app is not None
    cand = session.get(CandidateRecord, app.candidate_id)
    occ = session.get(OccupationRecord, app.occupation_id)
    res = session.scalar(select(ExamResultRecord).where(ExamResultRecord.application_id == app.id))
    assert cand is not None and occ is not None and res is not None
    issued_on = issued_on or date.today()
    vals = dict(values) if values is not None else code_values(settings, year=issued_on.year, level=app.level)
    scope = "certificate:" + certificate_scope(vals, layout)
    serial = next_serial(session, scope=scope, maximum=layout.max_serial)
    code = format_certificate_code({**vals, "serial": serial}, layout)
    rec = CertificateRecord(
        code=code, application_id=app.id, result_id=res.id, candidate_id=cand.id, holder_name=cand.name,
        id_type=cand.id_type, id_number=cand.id_number, occupation_code=occ.code, occupation_name=occ.name,
        work_type_name=occ.work_type or NO_WORK_TYPE, level=app.level, institution=settings.institution,
        issued_on=issued_on, status=CertificateStatus.GENERATED.value, print_count=0,
    )
    session.add(rec)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as e:  # the unique constraints are the last line of defence
        raise CertificateStateError(Message("Certificate code {code}, or a valid certificate of application {id}, already exists.",
                                            code=code, id=application_id), code="certificate_exists") from e
    _event(session, rec, CertificateAction.GENERATE, actor=actor, details={"application_id": app.id})
    return certificate_from_record(rec, settings)


def issue_certificates_for_plan(
    session: Session, *, plan_code: str, actor: str, settings: LifecycleSettings, issued_on: date | None = None,
) -> list[Certificate]:
    """A certificate for every passed, released application of the plan that has none yet."""
    plan = session.scalar(select(ExamPlanRecord).where(ExamPlanRecord.code == plan_code))
    if plan is None:
        raise NotFoundError(Message("There is no exam plan {plan}.", plan=plan_code), field="plan_code",
                            code="plan_not_found")
    app_ids = session.scalars(
        select(ApplicationRecord.id).join(ExamResultRecord, ExamResultRecord.application_id == ApplicationRecord.id)
        .where(ApplicationRecord.plan_id == plan.id, ExamResultRecord.outcome == Outcome.PASSED.value,
               ExamResultRecord.released_at.is_not(None))
        .where(~ApplicationRecord.id.in_(select(CertificateRecord.application_id).where(CertificateRecord.status.in_(LIVE))))
        .order_by(ApplicationRecord.id)).all()
    return [issue_certificate(session, application_id=a, actor=actor, settings=settings, issued_on=issued_on)
            for a in app_ids]


def _cert(session: Session, code: str) -> CertificateRecord:
    rec = session.scalar(select(CertificateRecord).where(CertificateRecord.code == code))
    if rec is None:
        raise NotFoundError(Message("There is no certificate {code}.", code=code), field="code",
                            code="certificate_not_found")
    return rec


def _require(rec: CertificateRecord, allowed: tuple[CertificateStatus, ...], act: CertificateAction) -> None:
    if rec.status not in {s.value for s in allowed}:
        raise CertificateStateError(Message(
            "Certificate {code} is {status}: the act '{act}' is allowed only when it is {allowed}.", code=rec.code,
            status=CertificateStatus(rec.status), act=act, allowed=list(allowed)))


def print_certificate(session: Session, *, code: str, actor: str, settings: LifecycleSettings) -> Certificate:
    """Record the printing of a generated certificate (附件3 第15条, 第18条 印制台账)."""
    rec = _cert(session, code)
    _require(rec, (CertificateStatus.GENERATED,), CertificateAction.PRINT)
    rec.status, rec.print_count = CertificateStatus.PRINTED.value, rec.print_count + 1
    _event(session, rec, CertificateAction.PRINT, actor=actor, details={"copy": rec.print_count})
    return certificate_from_record(rec, settings)


def hand_over_certificate(session: Session, *, code: str, actor: str, settings: LifecycleSettings,
                          recipient: str = "") -> Certificate:
    """Record the issue (核发) of a printed certificate to its holder."""
    rec = _cert(session, code)
    _require(rec, (CertificateStatus.PRINTED,), CertificateAction.ISSUE)
    rec.status = CertificateStatus.ISSUED.value
    _event(session, rec, CertificateAction.ISSUE, actor=actor, details={"recipient": recipient or rec.holder_name})
    return certificate_from_record(rec, settings)


def void_certificate(session: Session, *, code: str, reason: str, actor: str, settings: LifecycleSettings) -> Certificate:
    """Void a spoiled certificate before issue (作废, recorded for 销毁 in 附件3 第18条). Its code is
    never used again; a new certificate with a new code may then be made."""
    rec = _cert(session, code)
    _require(rec, (CertificateStatus.GENERATED, CertificateStatus.PRINTED), CertificateAction.VOID)
    _need_reason(reason)
    rec.status, rec.status_reason = CertificateStatus.VOIDED.value, reason
    _event(session, rec, CertificateAction.VOID, actor=actor, reason=reason)
    return certificate_from_record(rec, settings)


def reissue_certificate(session: Session, *, code: str, reason: str, actor: str,
                        settings: LifecycleSettings) -> Certificate:
    """Print a replacement of an issued certificate (补发), same code: one certificate, one code."""
    rec = _cert(session, code)
    _require(rec, (CertificateStatus.ISSUED,), CertificateAction.REISSUE)
    _need_reason(reason)
    rec.print_count += 1
    _event(session, rec, CertificateAction.REISSUE, actor=actor, reason=reason, details={"copy": rec.print_count})
    return certificate_from_record(rec, settings)


CORRECTABLE = ("holder_name", "id_type", "id_number")


def correct_certificate(
    session: Session, *, code: str, changes: Mapping[str, str], reason: str, actor: str, settings: LifecycleSettings,
) -> Certificate:
    """Correct the holder's details (附件3 第17条: 修改手续，并登记存档); old and new are kept in
    the ledger. The code, occupation and level are never corrected: that would be another
    certificate."""
    rec = _cert(session, code)
    _require(rec, (CertificateStatus.GENERATED, CertificateStatus.PRINTED, CertificateStatus.ISSUED), CertificateAction.CORRECT)
    _need_reason(reason)
    bad = sorted(set(changes) - set(CORRECTABLE))
    if bad:
        raise ValidationError(Message("Only {fields} can be corrected, not {bad}.", fields=list(CORRECTABLE), bad=bad), field="changes")
    new = {k: getattr(rec, k) for k in CORRECTABLE} | dict(changes)
    check = check_id_number(new["id_type"], new["id_number"])
    if not check.ok or not str(new["holder_name"]).strip():
        raise ValidationError(Message("Certificate {code} was not corrected.", code=code),
                              errors=list(check.errors) or [FieldMessage("holder_name", Message("the name is empty"))])
    new["id_type"], new["id_number"] = check.id_type.value, check.number
    old = {k: getattr(rec, k) for k in CORRECTABLE}
    for k, v in new.items():
        setattr(rec, k, v)
    _event(session, rec, CertificateAction.CORRECT, actor=actor, reason=reason,
           details={"old": old, "new": {k: new[k] for k in CORRECTABLE}})
    return certificate_from_record(rec, settings)


def revoke_certificate(session: Session, *, code: str, reason: str, actor: str,
                       settings: LifecycleSettings) -> Certificate:
    """Revoke (撤回) a certificate: fraud found later (附件1 第32条) or a certificate obtained by
    deception, altered or transferred (附件3 第23条)."""
    rec = _cert(session, code)
    _require(rec, (CertificateStatus.GENERATED, CertificateStatus.PRINTED, CertificateStatus.ISSUED), CertificateAction.REVOKE)
    _need_reason(reason)
    rec.status, rec.status_reason = CertificateStatus.REVOKED.value, reason
    _event(session, rec, CertificateAction.REVOKE, actor=actor, reason=reason)
    return certificate_from_record(rec, settings)


def revoke_live_certificate(session: Session, *, application_id: int, reason: str, actor: str) -> str | None:
    """Revoke the application's live certificate, if any; returns its code."""
    rec = session.scalar(select(CertificateRecord).where(CertificateRecord.application_id == application_id,
                                                         CertificateRecord.status.in_(LIVE)))
    if rec is None:
        return None
    rec.status, rec.status_reason = CertificateStatus.REVOKED.value, reason
    _event(session, rec, CertificateAction.REVOKE, actor=actor, reason=reason)
    return rec.code


def _need_reason(reason: str) -> None:
    if not (reason or "").strip():
        raise ValidationError(Message("Say why (it goes into the certificate ledger)."), field="reason")


def get_certificate(session: Session, *, code: str, settings: LifecycleSettings) -> Certificate:
    return certificate_from_record(_cert(session, code), settings)


def certificate_history(session: Session, *, code: str) -> list[tuple[str, str, str, dict]]:
    """(action, actor, reason, details) of the certificate's ledger, oldest first."""
    rec = _cert(session, code)
    rows = session.execute(select(CertificateEventRecord.action, CertificateEventRecord.actor,
                                  CertificateEventRecord.reason, CertificateEventRecord.details)
                           .where(CertificateEventRecord.certificate_id == rec.id)
                           .order_by(CertificateEventRecord.id)).all()
    return [(a, who, why, dict(d or {})) for a, who, why, d in rows]


def certificate_qr_image(session: Session, *, code: str, settings: LifecycleSettings, kind: str = "png") -> bytes:
    return render_qr(qr_payload_of(_cert(session, code), settings), kind=kind)


@dataclass(frozen=True, slots=True)
class CertificateVerification:
    valid: bool
    message: Text
    certificate: Certificate | None = None


def verify_certificate(session: Session, *, payload: str, settings: LifecycleSettings) -> CertificateVerification:
    """What a third party learns from scanning a certificate's QR code: the signature is the
    centre's, the certificate exists with these fields, and it is issued (not revoked or void)."""
    check = verify_qr_payload(payload, secret=qr_secret(settings, session=session))
    if not check.valid or check.fields is None:
        return CertificateVerification(False, check.problem)
    rec = session.scalar(select(CertificateRecord).where(CertificateRecord.code == check.fields.code))
    if rec is None:
        return CertificateVerification(False, Message("There is no certificate {code} in the register.",
                                                      code=check.fields.code))
    cert = certificate_from_record(rec, settings)
    if (rec.holder_name != check.fields.holder_name or rec.level != check.fields.level
            or rec.occupation_code != check.fields.occupation_code or rec.issued_on != check.fields.issued_on):
        return CertificateVerification(False, Message("The certificate was corrected after this code was printed; "
                                                      "ask the holder for the current certificate."), cert)
    if rec.status != CertificateStatus.ISSUED.value:
        status = CertificateStatus(rec.status)
        return CertificateVerification(
            False, Message("Certificate {code} is {status}: {reason}", code=rec.code, status=status,
                           reason=rec.status_reason) if rec.status_reason else
            Message("Certificate {code} is {status}.", code=rec.code, status=status), cert)
    return CertificateVerification(True, Message(
        "Certificate {code} is valid: {holder}, {occupation}, level {level}, {institution}.", code=rec.code,
        holder=rec.holder_name, occupation=rec.occupation_name, level=Level(rec.level), institution=rec.institution),
        cert)
