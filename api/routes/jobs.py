"""Jobs a user follows (issue 13): a large import, an analysis of a session's responses, a batch
of sealed papers. Each POST records the job, commits and queues it (``api.jobs``), answering 202
at once; ``GET /jobs/{id}`` polls its state, progress and outcome (the import report, the
calibration, the sealed papers per session, or the error with every problem). Assembly runs are
jobs too, with their own resource (``/assembly-runs``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field

from api.deps import SessionDep, check_scope, require
from api.routes.imports import BatchRefForm, DryRunForm, ModeForm, UploadDep, _read
from api.schemas.assembly import AnalysisIn, SealIn
from api.schemas.common import Code, IdPath, Text
from itembank import occupations
from itembank.domain import Actor, Role
from itembank.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from itembank.i18n import Message
from itembank.imports import ImportMode
from itembank.orm_jobs import JobKind, JobRecord, JobState
from lifecycle import sessions

router = APIRouter(tags=["jobs"])
ManagerDep = Annotated[Actor, require(Role.BANK_MANAGER)]
OfficeDep = Annotated[Actor, require(Role.EXAM_OFFICE)]
FollowerDep = Annotated[Actor, require(Role.BANK_MANAGER, Role.EXAM_OFFICE)]


class JobOut(BaseModel):
    id: int
    kind: JobKind
    state: JobState = Field(description="queued | running | finished | failed | cancelled")
    progress: float
    message: str = Field(description="Where the job stands, in words.")
    result: dict[str, Any] = Field(description="The outcome once finished (or the error once failed).")
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, rec: JobRecord) -> "JobOut":
        return cls(id=rec.id, kind=rec.kind, state=rec.state, progress=rec.progress,
                   message=str(Message.from_data(rec.message)) if rec.message else "", result=dict(rec.result or {}),
                   requested_by=rec.requested_by, requested_at=rec.requested_at, started_at=rec.started_at,
                   finished_at=rec.finished_at)


class SealBatchIn(SealIn):
    session_codes: list[Code] = Field(min_length=1, max_length=200, description="The exam sessions to seal for.")


def _queue(request: Request, session, rec: JobRecord) -> JobOut:  # type: ignore[no-untyped-def]
    session.add(rec)
    session.flush()
    out = JobOut.of(rec)
    session.commit()
    request.app.state.jobs.launch(rec.kind, rec.id)
    return out


@router.post("/banks/{bank_id}/imports/items/jobs", response_model=JobOut, status_code=202,
             summary="Import items from a large file as a job")
def import_items_job(bank_id: IdPath, file: UploadDep, request: Request, session: SessionDep, actor: ManagerDep,
                     mode: ModeForm = ImportMode.DRAFT, batch_ref: BatchRefForm = "", dry_run: DryRunForm = False,
                     encoding: Annotated[Text | None, Form(max_length=32, description="CSV only, e.g. gb18030.")] = None,
                     ) -> JobOut:
    """The same import as ``POST /banks/{id}/imports/items`` (all or nothing, every problem
    with its row and column), run by a worker: a file of tens of thousands of rows never holds
    a request. Poll ``GET /jobs/{id}``; the report (or the problems) is in ``result``."""
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, Role.BANK_MANAGER)
    data, name = _read(file)
    return _queue(request, session, JobRecord(
        kind=JobKind.IMPORT_ITEMS, occupation_code=bank.occupation.code, requested_by=actor.username, payload=data,
        params={"bank_id": bank_id, "filename": name, "mode": ImportMode(mode).value, "batch_ref": batch_ref,
                "dry_run": dry_run, "encoding": encoding}, message=Message("Queued").to_data()))


@router.post("/analyses/jobs", response_model=JobOut, status_code=202, summary="Analyse responses as a job")
def analysis_job(body: AnalysisIn, request: Request, session: SessionDep, actor: ManagerDep) -> JobOut:
    """The same analysis as ``POST /analyses``, run by a worker; ``result.calibration_id``
    names the stored analysis (``GET /analyses/{id}``)."""
    if (body.session_code is None) == (body.paper_codes is None):
        raise ValidationError(Message("Give either the exam session or the papers, not both."), field="session_code")
    occupation = ""
    if body.session_code is not None:
        occupation = sessions.get_exam_session(session, code=body.session_code).occupation.code
        check_scope(actor, occupation, Role.BANK_MANAGER)
    return _queue(request, session, JobRecord(
        kind=JobKind.ANALYSIS, occupation_code=occupation, requested_by=actor.username,
        params=body.model_dump(mode="json"), message=Message("Queued").to_data()))


@router.post("/sealed-paper-batches", response_model=JobOut, status_code=202,
             summary="Request sealed papers for several exam sessions (a job)")
def seal_batch(body: SealBatchIn, request: Request, session: SessionDep, actor: OfficeDep) -> JobOut:
    """For each session, as ``POST /exam-sessions/{code}/sealed-papers``; where papers are
    missing (and ``assemble_if_needed``), an assembly run first, outside any transaction.
    ``result.sessions`` maps each session to its sealed papers or its error."""
    codes = list(dict.fromkeys(body.session_codes))
    occupations_seen = set()
    for code in codes:
        occ = sessions.get_exam_session(session, code=code).occupation.code
        check_scope(actor, occ, Role.EXAM_OFFICE)
        occupations_seen.add(occ)
    return _queue(request, session, JobRecord(
        kind=JobKind.SEAL_BATCH, occupation_code=",".join(sorted(occupations_seen))[:32], requested_by=actor.username,
        params={**body.model_dump(mode="json"), "session_codes": codes}, message=Message("Queued").to_data()))


def _own(session, job_id: int, actor: Actor) -> JobRecord:  # type: ignore[no-untyped-def]
    rec = session.get(JobRecord, job_id)
    if rec is None:
        raise NotFoundError(Message("There is no job number {id}.", id=job_id), field="job_id")
    if rec.requested_by != actor.username and not actor.is_admin:
        raise PermissionDeniedError(Message("Job number {id} was requested by someone else; only they follow it.",
                                            id=job_id))
    return rec


@router.get("/jobs/{job_id}", response_model=JobOut, summary="Poll a job")
def get_job(job_id: IdPath, session: SessionDep, actor: FollowerDep) -> JobOut:
    return JobOut.of(_own(session, job_id, actor))


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, status_code=202, summary="Cancel a job")
def cancel_job(job_id: IdPath, request: Request, session: SessionDep, actor: FollowerDep) -> JobOut:
    """A queued job is cancelled at once; a running one stops at its next step (a sealed-paper
    batch between sessions; an import or analysis runs to its all-or-nothing end)."""
    rec = _own(session, job_id, actor)
    if rec.state not in (JobState.QUEUED, JobState.RUNNING):
        raise ConflictError(Message("Job {job} has already ended ({state}).", job=job_id, state=rec.state.value))
    rec.cancel_requested = True
    if rec.state is JobState.QUEUED:
        rec.state = JobState.CANCELLED
        rec.message = Message("Cancelled by {user}", user=actor.username).to_data()
    session.flush()
    out = JobOut.of(rec)
    session.commit()
    request.app.state.jobs.cancel(rec.queue_job_id)
    return out
