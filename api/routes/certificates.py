"""Skill level certificates (附件3) and their ledger: issue (only to candidates who passed and
whose results were released, 附件3 第8条, 附件15 第7条; the service refuses the others), print,
hand over, void, reissue, correct, revoke. Plus the public verification of the QR code: no
login, and only what a third party may see."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Response

from api.deps import LifecycleSettingsDep, PagingDep, SessionDep, check_scope, require
from api.responses import PNG, SVG, download, file_response
from api.schemas.common import MAX_ID, CodePath, Page, Text
from api.schemas.lifecycle import (
    CertificateEventOut,
    CertificateIssueIn,
    CertificateOut,
    CorrectionIn,
    HandOverIn,
    PlanCertificatesIn,
    PublicCertificateOut,
    ReasonIn,
    VerificationOut,
)
from itembank.domain import Actor, Role
from itembank.i18n import Message, render
from lifecycle import certificates, listing, registration, sessions
from lifecycle.domain import CertificateStatus

router = APIRouter(tags=["certificates"])
public_router = APIRouter(prefix="/public", tags=["certificates"])
OfficeDep = Annotated[Actor, require(Role.EXAM_OFFICE)]
ReaderDep = Annotated[Actor, require(Role.EXAM_OFFICE, Role.AUDITOR)]
CertCode = Annotated[str, Path(min_length=1, max_length=32, description="The 22-character certificate code.")]
QrField = Annotated[Text | None, Query(max_length=200)]


def _cert(session, actor: Actor, code: str, settings, *roles: Role):  # type: ignore[no-untyped-def]
    cert = certificates.get_certificate(session, code=code, settings=settings)
    check_scope(actor, cert.occupation_code, *(roles or (Role.EXAM_OFFICE,)))
    return cert


@router.post("/certificates", response_model=CertificateOut, status_code=201, summary="Make a candidate's certificate")
def issue(body: CertificateIssueIn, session: SessionDep, actor: OfficeDep,
          settings: LifecycleSettingsDep) -> CertificateOut:
    """A new unique code (附件3 第13条) and the fields of 第11条. Refused (409, with the reason)
    for anyone who did not pass, whose result is not released, or who holds one already."""
    app = registration.get_application(session, application_id=body.application_id)
    check_scope(actor, app.occupation.code, Role.EXAM_OFFICE)
    cert = certificates.issue_certificate(session, application_id=body.application_id, issued_on=body.issued_on,
                                          actor=actor.username, settings=settings)
    session.commit()
    return CertificateOut.of(cert)


@router.post("/exam-plans/{plan_code}/certificates", response_model=list[CertificateOut], status_code=201,
             summary="Make the certificates of every passed candidate of a plan")
def issue_for_plan(plan_code: CodePath, body: PlanCertificatesIn, session: SessionDep, actor: OfficeDep,
                   settings: LifecycleSettingsDep) -> list[CertificateOut]:
    plan = sessions.get_exam_plan(session, code=plan_code)
    check_scope(actor, plan.occupation.code, Role.EXAM_OFFICE)
    made = certificates.issue_certificates_for_plan(session, plan_code=plan_code, issued_on=body.issued_on,
                                                    actor=actor.username, settings=settings)
    session.commit()
    return [CertificateOut.of(c) for c in made]


@router.get("/certificates", response_model=Page[CertificateOut], summary="List certificates")
def list_certificates(session: SessionDep, actor: ReaderDep, settings: LifecycleSettingsDep, paging: PagingDep,
                      status: CertificateStatus | None = None,
                      plan_code: Annotated[Text | None, Query(max_length=64)] = None,
                      application_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                      holder_name: Annotated[Text | None, Query(max_length=100)] = None) -> dict:
    found, total = listing.page_certificates(session, settings=settings, status=status.value if status else None,
                                             plan_code=plan_code, application_id=application_id,
                                             holder_name=holder_name, occupation_codes=actor.occupations_for(Role.EXAM_OFFICE, Role.AUDITOR),
                                             offset=paging.offset, limit=paging.limit)
    return paging.page([CertificateOut.of(c) for c in found], total)


@router.get("/certificates/{code}", response_model=CertificateOut, summary="Show a certificate")
def get_certificate(code: CertCode, session: SessionDep, actor: ReaderDep,
                    settings: LifecycleSettingsDep) -> CertificateOut:
    return CertificateOut.of(_cert(session, actor, code, settings, Role.EXAM_OFFICE, Role.AUDITOR))


@router.get("/certificates/{code}/history", response_model=Page[CertificateEventOut],
            summary="The certificate's ledger: printing, issue, voiding, reissue, corrections")
def history(code: CertCode, session: SessionDep, actor: ReaderDep, settings: LifecycleSettingsDep,
            paging: PagingDep) -> dict:
    _cert(session, actor, code, settings, Role.EXAM_OFFICE, Role.AUDITOR)
    events = certificates.certificate_history(session, code=code)
    return paging.page([CertificateEventOut(action=a, actor=who, reason=why, details=d) for a, who, why, d in events])


@router.get("/certificates/{code}/qr", response_class=Response, responses=file_response(PNG, SVG),
            summary="The certificate's QR code as an image")
def qr_image(code: CertCode, session: SessionDep, actor: OfficeDep, settings: LifecycleSettingsDep,
             kind: Annotated[str, Query(pattern="^(png|svg)$")] = "png") -> Response:
    _cert(session, actor, code, settings)
    data = certificates.certificate_qr_image(session, code=code, settings=settings, kind=kind)
    return download(data, f"{code}.{kind}", PNG if kind == "png" else SVG)


def _act(session, actor: Actor, code: str, settings, fn, **kwargs) -> CertificateOut:  # type: ignore[no-untyped-def]
    _cert(session, actor, code, settings)
    cert = fn(session, code=code, actor=actor.username, settings=settings, **kwargs)
    session.commit()
    return CertificateOut.of(cert)


@router.post("/certificates/{code}/print", response_model=CertificateOut, summary="Record the printing")
def print_(code: CertCode, session: SessionDep, actor: OfficeDep, settings: LifecycleSettingsDep) -> CertificateOut:
    return _act(session, actor, code, settings, certificates.print_certificate)


@router.post("/certificates/{code}/hand-over", response_model=CertificateOut,
             summary="Record the hand-over to the holder (核发)")
def hand_over(code: CertCode, body: HandOverIn, session: SessionDep, actor: OfficeDep,
              settings: LifecycleSettingsDep) -> CertificateOut:
    return _act(session, actor, code, settings, certificates.hand_over_certificate, recipient=body.recipient)


@router.post("/certificates/{code}/void", response_model=CertificateOut, summary="Void a spoiled certificate (作废)")
def void(code: CertCode, body: ReasonIn, session: SessionDep, actor: OfficeDep,
         settings: LifecycleSettingsDep) -> CertificateOut:
    """Before hand-over only; the code is never used again."""
    return _act(session, actor, code, settings, certificates.void_certificate, reason=body.reason)


@router.post("/certificates/{code}/reissue", response_model=CertificateOut, summary="Reissue a certificate (补发)")
def reissue(code: CertCode, body: ReasonIn, session: SessionDep, actor: OfficeDep,
            settings: LifecycleSettingsDep) -> CertificateOut:
    """A replacement copy of an issued certificate, same code (one certificate, one code)."""
    return _act(session, actor, code, settings, certificates.reissue_certificate, reason=body.reason)


@router.post("/certificates/{code}/correct", response_model=CertificateOut,
             summary="Correct the holder's name or ID (修改)")
def correct(code: CertCode, body: CorrectionIn, session: SessionDep, actor: OfficeDep,
            settings: LifecycleSettingsDep) -> CertificateOut:
    """Old and new go into the certificate ledger (附件3 第17条); code, occupation and level are
    never corrected."""
    changes = {k: (v.value if hasattr(v, "value") else v) for k, v in
               (("holder_name", body.holder_name), ("id_type", body.id_type), ("id_number", body.id_number))
               if v is not None}
    return _act(session, actor, code, settings, certificates.correct_certificate, changes=changes, reason=body.reason)


@router.post("/certificates/{code}/revoke", response_model=CertificateOut, summary="Revoke a certificate (撤回)")
def revoke(code: CertCode, body: ReasonIn, session: SessionDep, actor: OfficeDep,
           settings: LifecycleSettingsDep) -> CertificateOut:
    """Fraud found later (附件1 第32条), or a certificate obtained by deception, altered or
    transferred (附件3 第23条)."""
    return _act(session, actor, code, settings, certificates.revoke_certificate, reason=body.reason)


@public_router.get("/certificates/verify", response_model=VerificationOut,
                   summary="Verify a certificate's QR code (public, no login)")
def verify(session: SessionDep, settings: LifecycleSettingsDep, v: QrField = None, c: QrField = None,
           n: QrField = None, i: QrField = None, o: QrField = None, l: QrField = None,  # noqa: E741
           d: QrField = None, s: QrField = None) -> VerificationOut:
    """The QR code printed on a certificate opens this address with its fields (``v c n i o l
    d s``; point ``ITEMBANK_LIFECYCLE_VERIFY_URL`` here). The answer says whether the code is
    the centre's and the certificate is valid, with only what a third party may see: name,
    masked ID number, occupation, level, code, status and date of issue."""
    fields = {k: val for k, val in (("v", v), ("c", c), ("n", n), ("i", i), ("o", o), ("l", l), ("d", d), ("s", s))
              if val is not None}
    result = certificates.verify_certificate(session, payload=f"{settings.verify_url}?{urlencode(fields)}",
                                             settings=settings)
    cert = result.certificate
    if cert is None:
        return VerificationOut(valid=False, message=render(result.message), certificate=None)
    if result.valid:
        message = render(Message("Certificate {code} is valid.", code=cert.code))
    elif cert.status is not CertificateStatus.ISSUED:  # the reason stays internal
        message = render(Message("Certificate {code} is {status}: it is not valid.", code=cert.code, status=cert.status))
    else:
        message = render(result.message)
    return VerificationOut(valid=result.valid, message=message, certificate=PublicCertificateOut.of(cert))
