"""Long work as jobs: an assembly run is queued by a request, solved in a worker thread, and
polled by its id (``GET /assembly-runs/{id}``: state, progress, message).

The solve runs outside any database transaction (``prepare_run`` → ``solve_run`` →
``record_run_result``, each database step short), so a 60-second solve never holds the
database. Jobs are in-process: a run left ``running`` by a stopped server is marked failed
at the next start (``recover_interrupted``).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank import assembly_service as svc
from itembank.orm_assembly import AssemblyRunRecord, RunState

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, maker: Callable[[], Session], *, max_workers: int = 1) -> None:
        self._maker = maker
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="assembly")
        self._futures: dict[int, Future[None]] = {}

    def submit_assembly(self, run_id: int) -> Future[None]:
        future = self._pool.submit(self._run_assembly, run_id)
        self._futures[run_id] = future
        return future

    def wait(self, run_id: int, timeout: float | None = None) -> None:
        """Block until the run's job ends (tests, CLI)."""
        future = self._futures.get(run_id)
        if future is not None:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

    def _run_assembly(self, run_id: int) -> None:
        try:
            with self._maker() as s, s.begin():
                prepared = svc.prepare_run(s, run_id=run_id)
                svc.set_progress(s, run_id=run_id, progress=0.2,
                                 message=f"solving with {prepared.params.solver} "
                                         f"({len(prepared.bank_pool.items)} items, limit {prepared.params.time_limit_s:g} s)")
            result = svc.solve_run(prepared)
            with self._maker() as s, s.begin():
                svc.record_run_result(s, prepared=prepared, result=result)
        except Exception as e:  # noqa: BLE001 - the job's failure is data the requester polls
            log.exception("assembly run %s failed", run_id)
            with self._maker() as s, s.begin():
                svc.mark_failed(s, run_id=run_id, message=f"{e.__class__.__name__}: {e}")


def recover_interrupted(maker: Callable[[], Session]) -> int:
    """Mark runs left queued/running by a stopped server as failed; returns how many."""
    with maker() as s, s.begin():
        stale = s.scalars(select(AssemblyRunRecord).where(
            AssemblyRunRecord.state.in_([RunState.QUEUED, RunState.RUNNING]))).all()
        for rec in stale:
            rec.state = RunState.FAILED
            rec.finished_at = datetime.now(timezone.utc)
            rec.message = "interrupted: the server stopped before the run finished; request it again"
        return len(stale)
