"""The job code and the worker: what runs on the queue (``itembank.jobqueue``).

Tasks (procrastinate, the same code on PostgreSQL and SQLite):

- ``assembly_run``: an assembly run (``itembank.assembly_service.execute_run_job``: the solver
  in a child process killed at its deadline, progress stored while it solves, cancel honoured);
- ``import_items``: a large import, validated and committed in one transaction;
- ``analysis``: CTT and IRT of a session's responses, stored on the item versions;
- ``seal_batch``: sealed papers for several exam sessions (assembling first where needed);
- periodic: ``retention_sweep`` (daily: destroys what a review decided to destroy, past its
  period, not held), ``publication_deadlines`` (hourly: releases results whose publication period
  ended with every objection answered), ``retry_stalled_jobs`` (every minute, and at each worker
  start: jobs of workers that stopped heartbeating go back to the queue, or fail after their
  last attempt).

``itembank worker`` runs ``run_worker``; ``itembank serve`` on SQLite starts one in a thread of
the server (``LocalWorker``). Worker shutdown never waits on a solver: the running solve is
killed and its run goes back to the queue.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from procrastinate import App, Blueprint, JobContext, RetryStrategy
from procrastinate.job_context import AbortReason
from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank import assembly_service as asvc
from itembank import jobqueue
from itembank.config import Settings
from itembank.db import make_engine, make_sessionmaker, run_transaction
from itembank.errors import ItemBankError
from itembank.i18n import Message
from itembank.orm_assembly import AssemblyRunRecord, RunState
from itembank.orm_jobs import JobKind, JobRecord, JobState
from lifecycle.config import LifecycleSettings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
"""A job whose worker died (or stopped) is run again, at most this many times in all."""

tasks = Blueprint()


@dataclass
class Runtime:
    """What job code needs: sessions and settings (``additional_context["runtime"]``)."""

    maker: Callable[[], Session]
    settings: Settings
    lifecycle: LifecycleSettings


def _runtime(context: JobContext) -> Runtime:
    return context.additional_context["runtime"]


def _abort_reason(context: JobContext) -> Callable[[], str | None]:
    def reason() -> str | None:
        why = context.abort_reason()
        if why is None:
            return None
        return "shutdown" if why == AbortReason.SHUTDOWN else "cancel"
    return reason


# --------------------------------------------------------------------------------------
# Job code (plain functions: the tasks below call them, and so do tests without a queue)


def run_assembly(rt: Runtime, run_id: int, should_abort: Callable[[], str | None] = lambda: None) -> str:
    view = asvc.execute_run_job(rt.maker, run_id=run_id, should_abort=should_abort)
    return view.state.value


def _job(session: Session, job_id: int) -> JobRecord:
    rec = session.get(JobRecord, job_id)
    if rec is None:
        raise LookupError(f"no job {job_id}")
    return rec


def _start(session: Session, job_id: int) -> JobRecord | None:
    rec = _job(session, job_id)
    if rec.state not in (JobState.QUEUED, JobState.RUNNING):
        return None
    if rec.cancel_requested:
        rec.state, rec.finished_at = JobState.CANCELLED, datetime.now(timezone.utc)
        return None
    rec.state, rec.started_at, rec.attempts = JobState.RUNNING, datetime.now(timezone.utc), rec.attempts + 1
    rec.message = Message("Running").to_data()
    session.flush()
    return rec


def _finish(session: Session, job_id: int, *, state: JobState, message: Message,
            result: dict[str, Any] | None = None) -> None:
    rec = _job(session, job_id)
    rec.state, rec.finished_at, rec.progress = state, datetime.now(timezone.utc), 1.0
    rec.message = message.to_data()
    if result is not None:
        rec.result = result
    rec.payload = None  # the uploaded file is not kept once the job is done
    session.flush()


def _actor(session: Session, username: str):  # type: ignore[no-untyped-def]
    from itembank.accounts import get_user

    return get_user(session, username=username).actor()


def _fail(rt: Runtime, job_id: int, exc: ItemBankError) -> None:
    from api.errors import _problems

    run_transaction(rt.maker, lambda s: _finish(
        s, job_id, state=JobState.FAILED, message=Message("Refused: {reason}", reason=exc.head_text),
        result={"error": {"code": exc.code, "message": exc.head, "field": exc.field, "errors": exc.listed(),
                          "params": exc.params, "problems": _problems(exc)}}))


def run_import(rt: Runtime, job_id: int) -> str:
    """Validate and import the uploaded file in one transaction (all or nothing)."""
    from api.schemas.imports import ImportReportOut
    from itembank import imports, occupations

    if run_transaction(rt.maker, lambda s: _start(s, job_id)) is None:
        return "skipped"

    def work(session: Session) -> dict[str, Any]:
        rec = _job(session, job_id)
        p = rec.params
        bank = occupations.get_bank_by_id(session, int(p["bank_id"]))
        report = imports.import_items(session, actor=_actor(session, rec.requested_by), bank=bank,
                                      data=rec.payload or b"", filename=p["filename"], mode=p.get("mode", "draft"),
                                      batch_ref=p.get("batch_ref", ""), dry_run=bool(p.get("dry_run")),
                                      encoding=p.get("encoding"))
        result = ImportReportOut.of(report).model_dump(mode="json")
        _finish(session, job_id, state=JobState.FINISHED, result=result,
                message=Message("Imported: {created} new, {revised} revised, {unchanged} unchanged",
                                created=len(result["created"]), revised=len(result["revised"]),
                                unchanged=len(result["unchanged"])))
        return result

    try:
        run_transaction(rt.maker, work)
    except ItemBankError as exc:
        _fail(rt, job_id, exc)
        return "failed"
    return "finished"


def run_analysis(rt: Runtime, job_id: int) -> str:
    from itembank import analysis_service as ana

    if run_transaction(rt.maker, lambda s: _start(s, job_id)) is None:
        return "skipped"

    def work(session: Session) -> None:
        p = _job(session, job_id).params
        report = ana.analyse_session(session, session_code=p.get("session_code"), paper_codes=p.get("paper_codes"),
                                     model=p.get("model", "2pl"), polytomous_model=p.get("polytomous_model", "gpcm"),
                                     D=float(p.get("D", 1.0)), anchor=p.get("anchor", "existing"),
                                     actor=_job(session, job_id).requested_by, note=p.get("note", ""))
        _finish(session, job_id, state=JobState.FINISHED, result={"calibration_id": report.calibration.id},
                message=Message("Analysed; calibration {id}", id=report.calibration.id))

    try:
        run_transaction(rt.maker, work)
    except ItemBankError as exc:
        _fail(rt, job_id, exc)
        return "failed"
    return "finished"


def run_seal_batch(rt: Runtime, job_id: int, should_abort: Callable[[], str | None] = lambda: None) -> str:
    """Sealed papers for each exam session of the batch, each in its own short transaction;
    where papers are missing, an assembly run (in a child process, outside any transaction) first."""
    from lifecycle import sealing
    from lifecycle.sessions import get_exam_session

    rec = run_transaction(rt.maker, lambda s: _start(s, job_id))
    if rec is None:
        return "skipped"
    params, username = dict(rec.params), rec.requested_by
    results: dict[str, Any] = {}
    codes = list(params["session_codes"])
    for k, code in enumerate(codes):
        if should_abort() is not None:
            break

        def seal(session: Session, code: str = code) -> dict[str, Any]:
            out = sealing.seal_papers(session, exam_session_code=code, actor=_actor(session, username),
                                      settings=rt.lifecycle, n_backups=int(params.get("n_backups", 1)),
                                      assemble_if_needed=False, answer_sheet=bool(params.get("answer_sheet")))
            return {"main": out.main.paper_code, "backups": [b.paper_code for b in out.backups]}

        try:
            try:
                results[code] = run_transaction(rt.maker, seal)
            except ItemBankError as first:
                if not params.get("assemble_if_needed", True) or first.code != "no_papers":
                    raise
                _assemble_for_session(rt, code, username, params, should_abort, get_exam_session)
                results[code] = run_transaction(rt.maker, seal)
        except ItemBankError as exc:
            results[code] = {"error": exc.message}

        def progress(session: Session, done: int = k + 1) -> None:
            job = _job(session, job_id)
            job.progress, job.result = done / len(codes), {"sessions": dict(results)}
        run_transaction(rt.maker, progress)
    failed = [c for c, r in results.items() if "error" in r]
    run_transaction(rt.maker, lambda s: _finish(
        s, job_id, state=JobState.FAILED if failed and len(failed) == len(codes) else JobState.FINISHED,
        result={"sessions": results},
        message=Message("Sealed papers for {done} of {total} sessions", done=len(codes) - len(failed),
                        total=len(codes))))
    return "finished"


def _assemble_for_session(rt: Runtime, code: str, username: str, params: dict[str, Any],
                          should_abort: Callable[[], str | None], get_exam_session: Any) -> None:
    from itembank.occupations import get_bank_by_id
    from itembank.orm_lifecycle import ExamSessionRecord

    def request(session: Session) -> int:
        srec = session.scalar(select(ExamSessionRecord).where(ExamSessionRecord.code == code))
        if srec is None:
            get_exam_session(session, code=code)  # raises the not-found error in words
        bank = get_bank_by_id(session, srec.bank_id)
        try:
            stored = asvc.load_blueprint(session, bank=bank, part=srec.part)
        except ItemBankError:
            stored = asvc.derive_standard_blueprint(session, bank=bank, part=srec.part, actor=username)
        return asvc.request_run(session, bank=bank, blueprint=stored, actor=username, params=asvc.RunParams(  # type: ignore[arg-type]
            n_forms=1, n_backups=int(params.get("n_backups", 1)), solver=params.get("solver", "cbc"),
            time_limit_s=float(params.get("time_limit_s", 60)))).id

    run_id = run_transaction(rt.maker, request)
    asvc.execute_run_job(rt.maker, run_id=run_id, should_abort=should_abort)


def sweep_retention(rt: Runtime, on: date) -> int:
    """Destroy what a review decided to destroy, once past its period and not held
    (附件13 第3条(8): 审查后统一销毁); returns how many records."""
    from lifecycle.retention import run_destruction

    return run_transaction(rt.maker, lambda s: run_destruction(
        s, on=on, actor="system:retention-sweep", settings=rt.lifecycle).n_records)


def release_due_results(rt: Runtime, on: date) -> list[str]:
    """Release the results of every plan whose publication period has ended with every
    objection answered (附件1 第26条); a plan with open objections waits for them."""
    from itembank.orm_lifecycle import ExamPlanRecord, ResultPublicationRecord
    from lifecycle.errors import LifecycleError
    from lifecycle.publication import release_results

    due = run_transaction(rt.maker, lambda s: list(s.execute(
        select(ExamPlanRecord.code).join(ResultPublicationRecord, ResultPublicationRecord.plan_id == ExamPlanRecord.id)
        .where(ResultPublicationRecord.status == "open", ResultPublicationRecord.ends_on < on)).scalars()))
    released = []
    for code in due:
        try:
            run_transaction(rt.maker, lambda s, code=code: release_results(
                s, plan_code=code, on=on, actor="system:publication-deadline", settings=rt.lifecycle))
        except (LifecycleError, ItemBankError) as exc:
            log.info("results of plan %s not released: %s", code, exc)
            continue
        released.append(code)
    return released


# --------------------------------------------------------------------------------------
# Tasks


_RETRY = RetryStrategy(max_attempts=MAX_ATTEMPTS - 1, retry_exceptions={asvc.RunInterrupted})


@tasks.task(name="assembly_run", pass_context=True, retry=_RETRY)
def assembly_run_task(context: JobContext, run_id: int) -> str:
    return run_assembly(_runtime(context), run_id, _abort_reason(context))


@tasks.task(name="import_items", pass_context=True)
def import_items_task(context: JobContext, job_id: int) -> str:
    return run_import(_runtime(context), job_id)


@tasks.task(name="analysis", pass_context=True)
def analysis_task(context: JobContext, job_id: int) -> str:
    return run_analysis(_runtime(context), job_id)


@tasks.task(name="seal_batch", pass_context=True)
def seal_batch_task(context: JobContext, job_id: int) -> str:
    return run_seal_batch(_runtime(context), job_id, _abort_reason(context))


@tasks.periodic(cron="30 2 * * *")
@tasks.task(name="retention_sweep", pass_context=True, queueing_lock="retention_sweep")
def retention_sweep_task(context: JobContext, timestamp: int) -> int:
    return sweep_retention(_runtime(context), datetime.fromtimestamp(timestamp, timezone.utc).date())


@tasks.periodic(cron="5 * * * *")
@tasks.task(name="publication_deadlines", pass_context=True, queueing_lock="publication_deadlines")
def publication_deadlines_task(context: JobContext, timestamp: int) -> list[str]:
    return release_due_results(_runtime(context), datetime.fromtimestamp(timestamp, timezone.utc).date())


@tasks.periodic(cron="* * * * *")
@tasks.task(name="retry_stalled_jobs", pass_context=True, queueing_lock="retry_stalled_jobs")
async def retry_stalled_jobs_task(context: JobContext, timestamp: int) -> int:
    return await retry_stalled_jobs(context.app, _runtime(context))


async def retry_stalled_jobs(app: App, rt: Runtime) -> int:
    """Jobs whose worker stopped heartbeating (killed, machine lost): back to the queue, or
    failed after ``MAX_ATTEMPTS`` (and their record says why). The queue decides from the
    worker's heartbeat, not from a run's state."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=rt.settings.worker_stalled_s)
    n = 0
    for job in stalled:
        n += 1
        if job.attempts + 1 >= MAX_ATTEMPTS:
            await app.job_manager.finish_job(job, status=_failed_status(), delete_job=False)
            await asyncio.to_thread(_record_given_up, rt, job.task_name, job.task_kwargs)
        else:
            await app.job_manager.retry_job(job)
            await asyncio.to_thread(_record_requeued, rt, job.task_name, job.task_kwargs)
    if n:
        log.warning("%d stalled job(s) of stopped workers handed back to the queue or failed", n)
    return n


def _failed_status():  # type: ignore[no-untyped-def]
    from procrastinate.jobs import Status

    return Status.FAILED


def _record_requeued(rt: Runtime, task_name: str, kwargs: dict[str, Any]) -> None:
    reason = Message("The worker running it stopped; queued again")
    if task_name == "assembly_run":
        run_transaction(rt.maker, lambda s: asvc.requeue_run(s, run_id=int(kwargs["run_id"]), reason=reason))
    elif "job_id" in kwargs:
        def requeue(session: Session) -> None:
            rec = session.get(JobRecord, int(kwargs["job_id"]))
            if rec is not None and rec.state is JobState.RUNNING:
                rec.state, rec.message = JobState.QUEUED, reason.to_data()
        run_transaction(rt.maker, requeue)


def _record_given_up(rt: Runtime, task_name: str, kwargs: dict[str, Any]) -> None:
    message = f"failed: the worker running it stopped {MAX_ATTEMPTS} times"
    if task_name == "assembly_run":
        def fail(session: Session) -> None:
            rec = session.get(AssemblyRunRecord, int(kwargs["run_id"]))
            if rec is not None and rec.state in (RunState.RUNNING, RunState.QUEUED):
                asvc.mark_failed(session, run_id=rec.id, message=message)
        run_transaction(rt.maker, fail)
    elif "job_id" in kwargs:
        def fail_job(session: Session) -> None:
            rec = session.get(JobRecord, int(kwargs["job_id"]))
            if rec is not None and rec.state in (JobState.RUNNING, JobState.QUEUED):
                _finish(session, rec.id, state=JobState.FAILED,
                        message=Message("Failed: the worker running it stopped {n} times", n=MAX_ATTEMPTS))
        run_transaction(rt.maker, fail_job)


# --------------------------------------------------------------------------------------
# Workers


def make_app(settings: Settings) -> App:
    app = jobqueue.make_queue(settings.database_url)
    app.add_tasks_from(tasks, namespace="")
    return app


def make_runtime(settings: Settings, lifecycle: LifecycleSettings | None = None, *,
                 maker: Callable[[], Session] | None = None) -> Runtime:
    if maker is None:
        maker = make_sessionmaker(make_engine(settings))
    return Runtime(maker=maker, settings=settings, lifecycle=lifecycle or LifecycleSettings())


async def run_worker_async(app: App, rt: Runtime, *, concurrency: int = 2, install_signal_handlers: bool = True,
                           stop: asyncio.Event | None = None, name: str = "worker") -> None:
    """Work until stopped. SQLite has no LISTEN/NOTIFY: poll twice a second."""
    sqlite = rt.settings.database_url.startswith("sqlite")
    async with app.open_async():
        await retry_stalled_jobs(app, rt)  # a worker starting after a crash hands back the dead one's jobs
        worker = app.run_worker_async(
            name=name, concurrency=concurrency, wait=True, listen_notify=not sqlite,
            fetch_job_polling_interval=0.5 if sqlite else 5.0, abort_job_polling_interval=0.5,
            shutdown_graceful_timeout=0.0, install_signal_handlers=install_signal_handlers,
            update_heartbeat_interval=rt.settings.worker_heartbeat_s,
            stalled_worker_timeout=rt.settings.worker_stalled_s,
            additional_context={"runtime": rt})
        if stop is None:
            await worker
            return
        task = asyncio.ensure_future(worker)
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()  # procrastinate stops gracefully: running jobs are aborted (shutdown)
        try:
            await task
        except asyncio.CancelledError:
            pass
        stopper.cancel()


class LocalWorker:
    """A worker in a thread of this process (``itembank serve`` on SQLite: one command)."""

    def __init__(self, settings: Settings, lifecycle: LifecycleSettings | None = None, *, concurrency: int = 2) -> None:
        self.settings = settings
        self.lifecycle = lifecycle
        self.concurrency = concurrency
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def start(self) -> None:
        ready = threading.Event()

        def main() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._stop = asyncio.Event()
            ready.set()
            rt = make_runtime(self.settings, self.lifecycle)
            try:
                self._loop.run_until_complete(run_worker_async(
                    make_app(self.settings), rt, concurrency=self.concurrency, install_signal_handlers=False,
                    stop=self._stop, name="local-worker"))
            except Exception:  # noqa: BLE001 - logged; the server keeps serving
                log.exception("the local job worker stopped")
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=main, name="itembank-local-worker", daemon=True)
        self._thread.start()
        ready.wait(5)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop now: a running solver is killed and its run queued again (never waited on)."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)


__all__ = ["JobKind", "LocalWorker", "Runtime", "make_app", "make_runtime", "run_worker_async", "tasks"]
