"""Jobs on the queue (issue 13): an assembly run goes through procrastinate and a worker; the
solver runs in a child process killed at its deadline or on cancel; a worker that stops hands
its run back to the queue without waiting on the solver."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

import assembly as asm
from api.jobs import QueueJobs
from api.worker import LocalWorker, Runtime, make_app, run_assembly
from itembank import assembly_service as svc
from itembank.config import Settings
from itembank.demo import DemoBankSpec, build_demo
from itembank.domain import Level, Part
from itembank.errors import ConflictError
from itembank.orm_assembly import PaperRecord, RunState
from itembank.readiness import set_minimum_rule
from itembank.solver_process import SolveJob, SolveProgress, run_solver
from lifecycle.config import LifecycleSettings
from tests.conftest import url_of


def _setup(maker):  # type: ignore[no-untyped-def]
    with maker() as s, s.begin():
        bank = build_demo(s, seed=4, specs=(DemoBankSpec("electrician", Level.L5, n_theory=500, n_practical=20,
                                                         n_past_sessions=0, n_compromised=0),)).banks[0]
        set_minimum_rule(s, part=Part.THEORY, minimum=300, actor="admin")
        rows, _ = svc.element_rows(s, bank=bank, part=Part.THEORY)
        bp = asm.derive_blueprint(rows, [asm.TypeRule("single_choice", 16, 16.0), asm.TypeRule("true_false", 4, 4.0)],
                                  name="mini", level=5, tolerance=0.5, min_tolerance=2.0)
        stored = svc.save_blueprint(s, bank=bank, blueprint=bp, actor="m")
    return bank, stored


def _request(maker, bank, stored, **params):  # type: ignore[no-untyped-def]
    with maker() as s, s.begin():
        return svc.request_run(s, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(**params))


def _wait(maker, run_id: int, until, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with maker() as s:
            run = svc.get_run(s, run_id=run_id)
        if until(run):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not get there in {timeout} s: {run.state} {run.message}")


def _long_job(prepared: svc.PreparedRun) -> SolveJob:
    """A solve that would take far longer than the test: 20 papers and 10 backups of 100 items
    from a 3,000-item bank, proving optimality."""
    return SolveJob(pool=asm.benchmark_pool(3000), blueprint=asm.benchmark_blueprint(100), time_limit_s=600,
                    kwargs=dict(n_forms=20, n_backups=10, time_limit_s=600, rel_gap=0.0))


@pytest.fixture()
def maker(fresh_engine: Engine) -> Iterator[sessionmaker]:
    yield sessionmaker(bind=fresh_engine, expire_on_commit=False)


def test_a_run_goes_through_the_queue_to_a_worker(fresh_engine: Engine, maker) -> None:  # type: ignore[no-untyped-def]
    bank, stored = _setup(maker)
    settings = Settings(database_url=url_of(fresh_engine), worker_heartbeat_s=1.0, _env_file=None)
    queue = make_app(settings)
    queue.open()
    worker = LocalWorker(settings, LifecycleSettings(_env_file=None))
    worker.start()
    try:
        run = _request(maker, bank, stored, n_forms=2, n_backups=1)
        QueueJobs(queue, maker).launch_assembly(run.id)
        with maker() as s:
            assert svc.get_run(s, run_id=run.id).queue_job_id is not None
        done = _wait(maker, run.id, lambda r: r.done)
    finally:
        worker.stop()
        queue.close()
    assert done.state is RunState.FINISHED and done.outcome in ("optimal", "feasible"), done.message
    assert len(done.paper_codes) == 3 and done.progress == 1.0 and done.started_at is not None
    assert done.live["stage"] == "finished" and done.live["elapsed_s"] > 0


def test_cancel_stops_a_running_solve_within_two_seconds(maker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bank, stored = _setup(maker)
    monkeypatch.setattr(svc, "solve_job", _long_job)
    run = _request(maker, bank, stored, n_forms=1, time_limit_s=600)
    rt = Runtime(maker=maker, settings=Settings(_env_file=None), lifecycle=LifecycleSettings(_env_file=None))
    thread = threading.Thread(target=run_assembly, args=(rt, run.id))
    thread.start()
    try:
        running = _wait(maker, run.id, lambda r: r.state is RunState.RUNNING and r.live.get("elapsed_s", 0) > 0.5,
                        timeout=60)
        assert running.live["stage"] and 0.1 <= running.progress < 0.95  # progress moves while solving
        asked = time.monotonic()
        with maker() as s, s.begin():
            svc.request_cancel(s, run_id=run.id, actor="m2")
        thread.join(10)
        took = time.monotonic() - asked
    finally:
        thread.join(30)
    with maker() as s:
        done = svc.get_run(s, run_id=run.id)
        assert not s.scalars(select(PaperRecord).where(PaperRecord.run_id == run.id)).all()
    assert done.state is RunState.CANCELLED and done.outcome == "cancelled", done.message
    assert took < 2.0, f"cancel took {took:.2f} s"
    assert "m2" in str(done.live["stage_text"])


def test_a_queued_run_cancelled_never_runs(maker) -> None:  # type: ignore[no-untyped-def]
    bank, stored = _setup(maker)
    run = _request(maker, bank, stored, n_forms=1)
    with maker() as s, s.begin():
        svc.request_cancel(s, run_id=run.id, actor="m")
    rt = Runtime(maker=maker, settings=Settings(_env_file=None), lifecycle=LifecycleSettings(_env_file=None))
    assert run_assembly(rt, run.id) == "cancelled"
    with maker() as s:
        assert svc.get_run(s, run_id=run.id).started_at is None
        with pytest.raises(ConflictError, match="cancelled"):
            svc.request_cancel(s, run_id=run.id, actor="m")


def test_the_solver_is_killed_at_its_deadline_plus_grace() -> None:
    job = SolveJob(pool=asm.benchmark_pool(3000), blueprint=asm.benchmark_blueprint(100), time_limit_s=1.0,
                   kwargs=dict(n_forms=20, n_backups=10, time_limit_s=600, rel_gap=0.0))
    seen: list[object] = []
    started = time.monotonic()
    outcome = run_solver(job, on_progress=seen.append, grace_s=0.5)
    took = time.monotonic() - started
    assert outcome.status == "time_limit" and outcome.result is None
    assert took < 1.0 + 0.5 + 1.5, f"the kill came after {took:.2f} s"
    assert seen and all(0 <= getattr(p, "fraction", 0) <= 1 for p in seen)  # elapsed reported while solving


def test_a_run_killed_at_its_deadline_reports_time_limit(maker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bank, stored = _setup(maker)
    monkeypatch.setattr(svc, "solve_job", lambda p: SolveJob(
        pool=asm.benchmark_pool(3000), blueprint=asm.benchmark_blueprint(100), time_limit_s=1.0,
        kwargs=dict(n_forms=20, n_backups=10, time_limit_s=600, rel_gap=0.0)))
    run = _request(maker, bank, stored, n_forms=1, time_limit_s=1)
    rt = Runtime(maker=maker, settings=Settings(_env_file=None), lifecycle=LifecycleSettings(_env_file=None))
    run_assembly(rt, run.id)
    with maker() as s:
        done = svc.get_run(s, run_id=run.id)
    assert done.state is RunState.FINISHED and done.outcome == "time_limit"
    assert done.report["diagnosis"][0].msgid.startswith("stopped at the time limit of {limit:g} s")
    assert done.report["report"]["status"] == "time_limit"
    from itembank.solver_process import GRACE_S

    assert done.report["report"]["time_s"] < 1.0 + GRACE_S + 1.0  # killed at deadline + grace


def test_best_papers_reported_before_the_kill_are_kept_when_they_check(maker) -> None:  # type: ignore[no-untyped-def]
    bank, stored = _setup(maker)
    run = _request(maker, bank, stored, n_forms=2, n_backups=0)
    with maker() as s, s.begin():
        prepared = svc.prepare_run(s, run_id=run.id)
    solved = svc.solve_run(prepared)
    assert solved.forms
    progress = SolveProgress(stage="solving", stage_text=asm.AssemblyError.__name__, fraction=0.5, elapsed_s=1.0,
                             incumbent=solved.report.objective, bound=solved.report.best_bound, gap=0.02,
                             best_forms=solved.forms)
    kept = svc.stopped_result(prepared, progress, elapsed_s=1.2)
    assert kept.status == "time_limit" and kept.forms == solved.forms and kept.checks is not None and kept.checks.ok
    assert kept.report.rel_gap == 0.02 and kept.report.objective == solved.report.objective
    broken = SolveProgress(stage="solving", stage_text="x", fraction=0.5, elapsed_s=1.0, incumbent=None, bound=None,
                           gap=None, best_forms=(solved.forms[0], solved.forms[0]))  # two identical papers: overlap
    refused = svc.stopped_result(prepared, broken, elapsed_s=1.2)
    assert refused.forms == () and "are not kept" in refused.diagnosis[-1].msgid
    with maker() as s, s.begin():
        view = svc.record_run_result(s, prepared=prepared, result=kept)
    assert view.outcome == "time_limit" and len(view.paper_codes) == 2


def test_stopping_a_worker_does_not_wait_on_the_solver(fresh_engine: Engine, maker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bank, stored = _setup(maker)
    monkeypatch.setattr(svc, "solve_job", _long_job)
    settings = Settings(database_url=url_of(fresh_engine), worker_heartbeat_s=1.0, _env_file=None)
    queue = make_app(settings)
    queue.open()
    worker = LocalWorker(settings, LifecycleSettings(_env_file=None))
    worker.start()
    try:
        run = _request(maker, bank, stored, n_forms=1, time_limit_s=600)
        QueueJobs(queue, maker).launch_assembly(run.id)
        _wait(maker, run.id, lambda r: r.state is RunState.RUNNING and r.live.get("elapsed_s", 0) > 0.5, timeout=60)
        asked = time.monotonic()
        worker.stop()
        took = time.monotonic() - asked
        with maker() as s:
            back = svc.get_run(s, run_id=run.id)
            job = s.get(svc.AssemblyRunRecord, run.id).queue_job_id
        status = queue.job_manager.get_job_status(job)
    finally:
        worker.stop()
        queue.close()
    assert took < 5.0, f"the worker took {took:.1f} s to stop"
    assert back.state is RunState.QUEUED and "queued again" in str(back.live["stage_text"]["msgid"])
    assert status.value == "todo"  # the queue runs it again (retry), on this or another worker
