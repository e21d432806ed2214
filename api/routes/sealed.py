"""Sealed papers of an exam session (附件12, 附件16, 附件7): the exam office requests them,
two different exam-office users open them within the session's window, then downloads are
released (each ledgered); incidents void a paper and activate the backup. Nobody reads paper
content here before the opening."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.deps import LifecycleSettingsDep, SessionDep, check_scope, require
from api.responses import DOCX, download, file_response
from api.schemas.assembly import IncidentIn, IncidentOut, OverrideIn, SealedPaperOut, SealIn, SealingOut
from api.schemas.common import CodePath
from itembank.domain import Actor, Role
from lifecycle import sealing, sessions

router = APIRouter(tags=["sealed papers"])
OfficeDep = Annotated[Actor, require(Role.EXAM_OFFICE)]
AdminDep = Annotated[Actor, require(Role.ADMIN)]
NamePath = Annotated[str, Path(min_length=1, max_length=200)]


def _check(session, actor: Actor, code: str) -> None:  # type: ignore[no-untyped-def]
    s = sessions.get_exam_session(session, code=code)
    check_scope(actor, s.occupation.code, Role.EXAM_OFFICE)


@router.post("/exam-sessions/{session_code}/sealed-papers", response_model=SealingOut, status_code=201,
             summary="Request a sealed paper and its backup(s) for the session")
def seal(session_code: CodePath, body: SealIn, session: SessionDep, settings: LifecycleSettingsDep,
         actor: OfficeDep) -> SealingOut:
    """Takes assembled papers of the session's bank and part (or assembles them), renders and
    encrypts their documents, records the usage of the main paper; all or nothing."""
    _check(session, actor, session_code)
    result = sealing.seal_papers(session, exam_session_code=session_code, actor=actor, settings=settings,
                                 n_backups=body.n_backups, assemble_if_needed=body.assemble_if_needed,
                                 answer_sheet=body.answer_sheet, solver=body.solver, time_limit_s=body.time_limit_s)
    session.commit()
    return SealingOut(exam_session_code=result.exam_session_code, main=SealedPaperOut.of(result.main),
                      backups=[SealedPaperOut.of(b) for b in result.backups], assembly_run_id=result.assembly_run_id)


@router.get("/exam-sessions/{session_code}/sealed-papers", response_model=list[SealedPaperOut],
            summary="The session's sealed papers (no content)")
def list_sealed(session_code: CodePath, session: SessionDep, settings: LifecycleSettingsDep,
                actor: OfficeDep) -> list[SealedPaperOut]:
    _check(session, actor, session_code)
    return [SealedPaperOut.of(v) for v in sealing.sealed_papers_of(session, exam_session_code=session_code,
                                                                      settings=settings)]


@router.post("/exam-sessions/{session_code}/sealed-papers/{paper_code}/open", response_model=SealedPaperOut,
             summary="Confirm the opening (two different exam-office users, within the window)")
def confirm_opening(session_code: CodePath, paper_code: CodePath, session: SessionDep,
                    settings: LifecycleSettingsDep, actor: OfficeDep) -> SealedPaperOut:
    """The first confirmation waits for a second, different user; the second opens the paper.
    Before the window (30 minutes before the start, 附件7) or by the same user twice: 409."""
    _check(session, actor, session_code)
    view = sealing.confirm_opening(session, exam_session_code=session_code, paper_code=paper_code, actor=actor,
                                   settings=settings)
    session.commit()
    return SealedPaperOut.of(view)


@router.post("/exam-sessions/{session_code}/sealed-papers/{paper_code}/open/override", response_model=SealedPaperOut,
             summary="Stand in for the second opener (administrator, with a reason; ledgered)")
def override_opening(session_code: CodePath, paper_code: CodePath, body: OverrideIn, session: SessionDep,
                     settings: LifecycleSettingsDep, actor: AdminDep) -> SealedPaperOut:
    """Only after one exam-office user of the paper's occupation has confirmed in person,
    within the window; a separate act with its own reason, written to the ledger
    (``paper.open_override``)."""
    view = sealing.override_opening(session, exam_session_code=session_code, paper_code=paper_code, actor=actor,
                                    reason=body.reason, settings=settings)
    session.commit()
    return SealedPaperOut.of(view)


@router.get("/exam-sessions/{session_code}/sealed-papers/{paper_code}/documents/{document}", response_class=Response,
            responses=file_response(DOCX), summary="Download a document of an opened paper (ledgered)")
def download_document(session_code: CodePath, paper_code: CodePath, document: NamePath, session: SessionDep,
                      settings: LifecycleSettingsDep, actor: OfficeDep) -> Response:
    _check(session, actor, session_code)
    try:
        content, info = sealing.open_document(session, exam_session_code=session_code, paper_code=paper_code,
                                              name=document, actor=actor, settings=settings)
    except sealing.TamperedError:
        session.commit()  # the failed attempt stays in the ledger; nothing is released (409)
        raise
    session.commit()
    return download(content, info.name, DOCX)


@router.post("/exam-sessions/{session_code}/incidents", response_model=IncidentOut, status_code=201,
             summary="Report an incident (leak, damage, missing paper)")
def report_incident(session_code: CodePath, body: IncidentIn, session: SessionDep, settings: LifecycleSettingsDep,
                    actor: OfficeDep) -> IncidentOut:
    """leak: the paper is void for every session it reached, its items compromised, the backup
    activated and a replacement backup sealed; otherwise this session's copy is void and the
    backup activated (附件16)."""
    _check(session, actor, session_code)
    inc = sealing.report_incident(session, exam_session_code=session_code, paper_code=body.paper_code,
                                  kind=body.kind, description=body.description, actor=actor, settings=settings,
                                  replace=body.replace, solver=body.solver, time_limit_s=body.time_limit_s)
    session.commit()
    return IncidentOut.of(inc)


@router.get("/exam-sessions/{session_code}/incidents", response_model=list[IncidentOut],
            summary="The session's incidents")
def list_incidents(session_code: CodePath, session: SessionDep, actor: OfficeDep) -> list[IncidentOut]:
    _check(session, actor, session_code)
    return [IncidentOut.of(i) for i in sealing.list_incidents(session, exam_session_code=session_code)]
