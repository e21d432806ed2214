"""Assembly runs and papers (issue 4, 6). A run is a job: POST answers 202 with the queued run
at once; GET polls its state, progress and, when finished, the solver report and the papers.
Bank managers of the occupation see runs and papers; reading a paper's content is ledgered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import PagingDep, SessionDep, SettingsDep, check_scope, require
from api.responses import DOCX, PNG, SVG, download, file_response
from api.schemas.assembly import BackupsIn, PaperOut, PaperSummary, RecheckOut, RowCheckOut, RunIn, RunOut
from api.schemas.common import CodePath, IdPath, Page
from exports import export_paper, plot_curves, render_assembly_report
from exports.from_assembly import report_data
from exports.service import DocumentKind
from itembank.i18n import render
from itembank import assembly_service as svc
from itembank import ledger, occupations
from itembank.domain import Actor, BankRef, Part, Role
from itembank.errors import ConflictError, NotFoundError
from itembank.orm_assembly import PaperStatus
from itembank.i18n import Message

router = APIRouter(tags=["assembly"])
ManagerDep = Annotated[Actor, require(Role.BANK_MANAGER)]


def _bank(session, bank_id: int, actor: Actor) -> BankRef:  # type: ignore[no-untyped-def]
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, Role.BANK_MANAGER)
    return bank


def _run(session, run_id: int, actor: Actor) -> svc.RunView:  # type: ignore[no-untyped-def]
    run = svc.get_run(session, run_id=run_id)
    _bank(session, run.bank_id, actor)
    return run


def _paper(session, code: str, actor: Actor, centre_name: str) -> svc.PaperView:  # type: ignore[no-untyped-def]
    view = svc.get_paper(session, code=code, centre_name=centre_name)
    check_scope(actor, view.paper.occupation.code, Role.BANK_MANAGER)
    return view


def jobs(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.jobs  # api.jobs: the queue (or inline in tests)


@router.post("/banks/{bank_id}/assembly-runs", response_model=RunOut, status_code=202,
             summary="Start an assembly run (a job)")
def start_run(bank_id: IdPath, body: RunIn, request: Request, session: SessionDep, actor: ManagerDep) -> RunOut:
    """Queues the run and returns it; poll ``GET /assembly-runs/{id}``. A bank below its
    minimums is refused (409) unless ``practice``."""
    bank = _bank(session, bank_id, actor)
    stored = svc.get_blueprint(session, body.blueprint_id)
    if stored.bank_id != bank.id:
        raise NotFoundError(Message("Bank {bank_id} has no blueprint number {blueprint_id}.", bank_id=bank_id,
                                    blueprint_id=body.blueprint_id), code="blueprint_not_found", field="blueprint_id")
    run = svc.request_run(session, bank=bank, blueprint=stored, actor=actor.username, params=svc.RunParams(
        n_forms=body.n_forms, n_backups=body.n_backups, solver=body.solver, time_limit_s=body.time_limit_s,
        rel_gap=body.rel_gap, seed=body.seed, practice=body.practice, time_allowed_min=body.time_allowed_min))
    session.commit()
    jobs(request).launch_assembly(run.id)
    return RunOut.of(run, with_report=False)


@router.get("/banks/{bank_id}/assembly-runs", response_model=Page[RunOut], summary="List a bank's assembly runs")
def list_runs(bank_id: IdPath, session: SessionDep, actor: ManagerDep, paging: PagingDep) -> dict:
    runs, total = svc.list_runs(session, bank=_bank(session, bank_id, actor), offset=paging.offset,
                                limit=paging.limit)
    return paging.page([RunOut.of(r, with_report=False) for r in runs], total)


@router.get("/assembly-runs/{run_id}", response_model=RunOut, summary="Poll an assembly run")
def get_run(run_id: IdPath, session: SessionDep, actor: ManagerDep) -> RunOut:
    """State (queued, running, finished, failed), progress 0–1, a message in words; once
    finished the solver report (status, objective, bound, gap, time, model size), the
    blueprint-vs-achieved rows of every paper, the diagnosis, and the paper codes. Once the
    run has papers, reading it (each form's item codes) is written to the ledger."""
    run = _run(session, run_id, actor)
    if run.paper_codes:
        ledger.append(session, actor=actor.username, action="papers.view", object_type="assembly_run",
                      object_id=run.id, details={"papers": list(run.paper_codes), "via": "api"})
        session.commit()
    return RunOut.of(run)


@router.post("/assembly-runs/{run_id}/cancel", response_model=RunOut, status_code=202,
             summary="Cancel a queued or running assembly run")
def cancel_run(run_id: IdPath, request: Request, session: SessionDep, actor: ManagerDep) -> RunOut:
    """A queued run is cancelled at once; a running one within about a second (its solver
    process is killed; no papers are kept). Poll ``GET /assembly-runs/{id}`` for the state
    ``cancelled``. A run that has ended: 409."""
    _run(session, run_id, actor)
    run = svc.request_cancel(session, run_id=run_id, actor=actor.username)
    session.commit()
    jobs(request).cancel_assembly(run.id, run.queue_job_id)
    return RunOut.of(run, with_report=False)


@router.post("/assembly-runs/{run_id}/backups", response_model=RunOut, status_code=201,
             summary="Assemble backup papers later, against the run's papers")
def add_backups(run_id: IdPath, body: BackupsIn, session: SessionDep, actor: ManagerDep) -> RunOut:
    _run(session, run_id, actor)
    run = svc.assemble_backups(session, run_id=run_id, n_backups=body.n_backups, actor=actor.username,
                               solver=body.solver, time_limit_s=body.time_limit_s, seed=body.seed)
    session.commit()
    return RunOut.of(run)


def _run_report(session, run_id: int, actor: Actor, centre_name: str):  # type: ignore[no-untyped-def]
    run = _run(session, run_id, actor)
    if not run.paper_codes:
        raise ConflictError(Message("Assembly run {run} has no papers ({state}: {reason}).", run=run_id, state=run.state,
                                    reason=run.message), code="run_without_papers")
    papers = [svc.get_paper(session, code=c, centre_name=centre_name) for c in run.paper_codes]
    p0 = papers[0].paper
    title = f"{p0.occupation.label}（{p0.level.title_zh}）{p0.part.zh} 组卷任务 #{run.id}"
    return report_data(run, papers, title=title, centre_name=centre_name)


@router.get("/assembly-runs/{run_id}/report", response_class=Response, responses=file_response(DOCX),
            summary="Download the assembly report (Word)")
def run_report(run_id: IdPath, session: SessionDep, settings: SettingsDep, actor: ManagerDep) -> Response:
    data = _run_report(session, run_id, actor, settings.centre_name)
    content = render_assembly_report(data)
    name = f"组卷报告_{run_id}.docx"
    ledger.append(session, actor=actor.username, action="assembly_run.report", object_type="assembly_run",
                  object_id=run_id, details={"papers": [p.code for p in data.papers], "document": name})
    session.commit()
    return download(content, name, DOCX)


@router.get("/assembly-runs/{run_id}/curves", response_class=Response, responses=file_response(PNG, SVG),
            summary="The papers' information and characteristic curves")
def run_curves(run_id: IdPath, session: SessionDep, settings: SettingsDep, actor: ManagerDep,
               fmt: Annotated[str, Query(pattern="^(png|svg)$")] = "png") -> Response:
    data = _run_report(session, run_id, actor, settings.centre_name)
    content = plot_curves(data, fmt=fmt)
    ledger.append(session, actor=actor.username, action="assembly_run.curves", object_type="assembly_run",
                  object_id=run_id, details={"format": fmt})
    session.commit()
    return Response(content=content, media_type=PNG if fmt == "png" else SVG)


@router.get("/banks/{bank_id}/papers", response_model=Page[PaperSummary], summary="List a bank's papers")
def list_papers(bank_id: IdPath, session: SessionDep, actor: ManagerDep, paging: PagingDep,
                part: Annotated[Part | None, Query()] = None,
                status: Annotated[PaperStatus | None, Query()] = None,
                run_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None) -> dict:
    rows, total = svc.list_papers(session, bank=_bank(session, bank_id, actor), part=part, status=status,
                                  run_id=run_id, offset=paging.offset, limit=paging.limit)
    return paging.page([PaperSummary(**r) for r in rows], total)


@router.get("/papers/{paper_code}", response_model=PaperOut, summary="Show a paper with its items (ledgered)")
def get_paper(paper_code: CodePath, session: SessionDep, settings: SettingsDep, actor: ManagerDep) -> PaperOut:
    view = _paper(session, paper_code, actor, settings.centre_name)
    ledger.append(session, actor=actor.username, action="paper.read", object_type="paper", object_id=paper_code,
                  details={"items": [it.ref for it in view.paper.items]})
    session.commit()
    return PaperOut.of(view)


@router.get("/papers/{paper_code}/recheck", response_model=RecheckOut,
            summary="Re-check a paper against its blueprint version (no solver)")
def recheck_paper(paper_code: CodePath, session: SessionDep, settings: SettingsDep, actor: ManagerDep) -> RecheckOut:
    _paper(session, paper_code, actor, settings.centre_name)
    report = svc.recheck_paper(session, code=paper_code)
    rows = [RowCheckOut(name=r.name, label=render(r.label), achieved=r.achieved, lo=r.lo, hi=r.hi, ok=r.ok)
            for p in report.papers for r in p.rows]
    return RecheckOut(ok=report.ok, rows=rows, violations=[render(v) for v in report.violations])


@router.get("/papers/{paper_code}/documents/{kind}", response_class=Response, responses=file_response(DOCX),
            summary="Download a paper's document (paper, key, sheets); ledgered")
def paper_document(paper_code: CodePath, kind: DocumentKind, session: SessionDep, settings: SettingsDep,
                   actor: ManagerDep) -> Response:
    view = _paper(session, paper_code, actor, settings.centre_name)
    (doc,) = export_paper(view.paper, kinds=[kind], answer_sheet=kind is DocumentKind.ANSWER_SHEET)
    ledger.append(session, actor=actor.username, action="paper.exported", object_type="paper", object_id=paper_code,
                  details={"document": doc.filename, "sha256": doc.sha256})
    session.commit()
    return download(doc.content, doc.filename, DOCX)
