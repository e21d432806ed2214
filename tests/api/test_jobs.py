"""The job runner: assembly runs solved in a worker thread outside any transaction, failures
recorded, runs interrupted by a stop marked failed at the next start."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

import assembly as asm
from api.jobs import JobRunner, recover_interrupted
from itembank import assembly_service as svc
from itembank.demo import DemoBankSpec, build_demo
from itembank.domain import Level, Part
from itembank.orm_assembly import RunState
from itembank.readiness import set_minimum_rule


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


def test_a_run_is_solved_in_a_worker_thread(fresh_engine: Engine) -> None:
    maker = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    bank, stored = _setup(maker)
    with maker() as s, s.begin():
        run = svc.request_run(s, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(n_forms=2, n_backups=1))
    runner = JobRunner(maker)
    runner.submit_assembly(run.id)
    runner.wait(run.id, timeout=120)
    runner.shutdown()
    with maker() as s:
        done = svc.get_run(s, run_id=run.id)
    assert done.state is RunState.FINISHED and done.outcome in ("optimal", "feasible")
    assert len(done.paper_codes) == 3 and done.progress == 1.0 and done.started_at is not None


def test_a_failing_run_is_recorded_as_failed(fresh_engine: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    maker = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    bank, stored = _setup(maker)
    with maker() as s, s.begin():
        run = svc.request_run(s, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(n_forms=1, n_backups=0))

    def boom(prepared):  # type: ignore[no-untyped-def]
        raise MemoryError("solver ran out of memory")

    monkeypatch.setattr(svc, "solve_run", boom)
    runner = JobRunner(maker)
    runner.submit_assembly(run.id)
    runner.wait(run.id, timeout=60)
    with maker() as s:
        failed = svc.get_run(s, run_id=run.id)
    assert failed.state is RunState.FAILED and "out of memory" in failed.message and not failed.paper_codes


def test_interrupted_runs_are_marked_failed_at_start(fresh_engine: Engine) -> None:
    maker = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    bank, stored = _setup(maker)
    with maker() as s, s.begin():
        queued = svc.request_run(s, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(n_forms=1))
    assert recover_interrupted(maker) == 1
    with maker() as s:
        run = svc.get_run(s, run_id=queued.id)
    assert run.state is RunState.FAILED and "interrupted" in run.message
    assert recover_interrupted(maker) == 0
