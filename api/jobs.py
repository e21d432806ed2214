"""Launching and cancelling jobs from requests (``app.state.jobs``).

A route records what the job is about (an assembly run, a ``JobRecord``), commits, and hands it
here: ``QueueJobs`` defers it on the queue (``itembank.jobqueue``: procrastinate on PostgreSQL,
its SQLite stand-in on the embedded default), where any worker picks it up (``api.worker``).
``InlineJobs`` runs the same job code at once in the calling thread (tests whose sessions share
one connection; the solver still runs in its own process with its deadline).

Nothing here is state another process needs: the queue and the records are in the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from itembank.db import run_transaction
from itembank.errors import ItemBankError
from itembank.i18n import Message
from itembank.orm_assembly import AssemblyRunRecord
from itembank.orm_jobs import JobKind, JobRecord

log = logging.getLogger(__name__)

TASK_OF_KIND = {JobKind.IMPORT_ITEMS: "import_items", JobKind.ANALYSIS: "analysis",
                JobKind.SEAL_BATCH: "seal_batch"}


class QueueUnavailableError(ItemBankError):
    """The job could not be put on the queue (503)."""

    code = "queue_unavailable"


class Jobs:
    """The interface the routes use."""

    def launch_assembly(self, run_id: int) -> None:
        raise NotImplementedError

    def cancel_assembly(self, run_id: int, queue_job_id: int | None) -> None:
        raise NotImplementedError

    def launch(self, kind: JobKind, job_id: int) -> None:
        raise NotImplementedError

    def cancel(self, queue_job_id: int | None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class QueueJobs(Jobs):
    """Jobs on the queue; ``app`` is a procrastinate app opened for synchronous use."""

    def __init__(self, app: Any, maker: Callable[[], Session]) -> None:
        self.app = app
        self.maker = maker

    def _defer(self, task: str, **kwargs: Any) -> int:
        try:
            return int(self.app.configure_task(name=task).defer(**kwargs))
        except Exception as exc:  # noqa: BLE001 - any failure to queue is the same 503 for the user
            log.exception("could not queue %s %s", task, kwargs)
            raise QueueUnavailableError(Message(
                "The job could not be queued (the job queue is not reachable); try again shortly.")) from exc

    def launch_assembly(self, run_id: int) -> None:
        job_id = self._defer("assembly_run", run_id=run_id)

        def remember(session: Session) -> None:
            rec = session.get(AssemblyRunRecord, run_id)
            if rec is not None:
                rec.queue_job_id = job_id
        run_transaction(self.maker, remember)

    def cancel_assembly(self, run_id: int, queue_job_id: int | None) -> None:
        self.cancel(queue_job_id)
        if queue_job_id is not None and self.app.job_manager.get_job_status(queue_job_id).value == "cancelled":
            # it was waiting in the queue (between two attempts, say): no job will see the request
            from itembank.assembly_service import mark_cancelled

            run_transaction(self.maker, lambda s: mark_cancelled(s, run_id=run_id))

    def launch(self, kind: JobKind, job_id: int) -> None:
        queue_job_id = self._defer(TASK_OF_KIND[kind], job_id=job_id)

        def remember(session: Session) -> None:
            rec = session.get(JobRecord, job_id)
            if rec is not None:
                rec.queue_job_id = queue_job_id
        run_transaction(self.maker, remember)

    def cancel(self, queue_job_id: int | None) -> None:
        if queue_job_id is not None:
            # a job still waiting is cancelled; a running one is asked to abort (the job also
            # reads the record's cancel request, whichever comes first)
            self.app.job_manager.cancel_job_by_id(queue_job_id, abort=True)

    def close(self) -> None:
        self.app.close()


class InlineJobs(Jobs):
    """Run each job at once, in the calling thread, with ``maker``'s sessions."""

    def __init__(self, maker: Callable[[], Session], *, lifecycle: Any = None, settings: Any = None) -> None:
        self.maker = maker
        self.lifecycle = lifecycle
        self.settings = settings

    def _runtime(self) -> Any:
        from api.worker import Runtime
        from itembank.config import Settings
        from lifecycle.config import LifecycleSettings

        return Runtime(maker=self.maker, settings=self.settings or Settings(),
                       lifecycle=self.lifecycle or LifecycleSettings())

    def launch_assembly(self, run_id: int) -> None:
        from api.worker import run_assembly

        run_assembly(self._runtime(), run_id)

    def cancel_assembly(self, run_id: int, queue_job_id: int | None) -> None:
        pass  # the record's cancel request is all an inline job could see

    def launch(self, kind: JobKind, job_id: int) -> None:
        from api import worker

        run = {JobKind.IMPORT_ITEMS: worker.run_import, JobKind.ANALYSIS: worker.run_analysis,
               JobKind.SEAL_BATCH: worker.run_seal_batch}[kind]
        run(self._runtime(), job_id)

    def cancel(self, queue_job_id: int | None) -> None:
        pass
