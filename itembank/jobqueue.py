"""The job queue: procrastinate, on PostgreSQL and on the embedded SQLite default.

On PostgreSQL procrastinate keeps its jobs in its own tables (``procrastinate_*``, made by the
migration ``0009_rt_jobs``) and any number of workers, on any machines, fetch them
(``FOR UPDATE SKIP LOCKED``), heartbeat, abort and retry them, and defer the periodic ones
exactly once per tick. On SQLite, ``SQLiteConnector`` answers procrastinate's queries on tables
of the same names in the same database file, so the same procrastinate worker runs the same
job code (``api.worker``); ``itembank serve`` starts one inside the server process. Claims
there are atomic by SQLite's write lock (``BEGIN IMMEDIATE``).

A worker that dies (kill -9, a lost machine) stops heartbeating; the queue's own stalled-job
check (``api.worker.retry_stalled_jobs``, periodic) hands its jobs back to the queue or fails
them after their last attempt. Nobody guesses from a run's state whether its process is alive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from procrastinate import App, connector, exceptions, manager, sql, types

from itembank.db import BUSY_TIMEOUT_S
from itembank.errors import ConfigurationError
from itembank.i18n import Message

SQLITE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS procrastinate_workers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        last_heartbeat REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS procrastinate_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue_name VARCHAR(128) NOT NULL,
        task_name VARCHAR(128) NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        lock TEXT,
        queueing_lock TEXT,
        args TEXT NOT NULL DEFAULT '{}',
        status VARCHAR(16) NOT NULL DEFAULT 'todo',
        scheduled_at REAL,
        attempts INTEGER NOT NULL DEFAULT 0,
        abort_requested BOOLEAN NOT NULL DEFAULT 0,
        worker_id INTEGER REFERENCES procrastinate_workers(id) ON DELETE SET NULL,
        updated_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS procrastinate_jobs_fetch ON procrastinate_jobs (status, priority DESC, id)",
    """CREATE TABLE IF NOT EXISTS procrastinate_periodic_defers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_name VARCHAR(128) NOT NULL,
        defer_timestamp INTEGER,
        job_id INTEGER REFERENCES procrastinate_jobs(id) ON DELETE SET NULL,
        periodic_id VARCHAR(128) NOT NULL DEFAULT '',
        UNIQUE (task_name, periodic_id, defer_timestamp))""",
)

_JOB_COLUMNS = ("id", "status", "task_name", "priority", "lock", "queueing_lock", "args", "scheduled_at",
                "queue_name", "attempts", "worker_id", "abort_requested")


def _when(epoch: float | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, dt.timezone.utc)


def _epoch(at: dt.datetime | None) -> float | None:
    return None if at is None else at.timestamp()


class SQLiteConnector(connector.BaseAsyncConnector):
    """procrastinate's queries answered on a SQLite file (see the module docstring). Each call
    is one short transaction on a connection of the calling thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.reverse_queries = {value: key for key, value in sql.queries.items()}
        self._local = threading.local()

    # -- plumbing -------------------------------------------------------------------

    def get_sync_connector(self) -> connector.BaseConnector:
        return self

    def open(self, pool: Any = None) -> None:
        pass

    def close(self) -> None:
        pass

    async def open_async(self, pool: Any = None) -> None:
        pass

    async def close_async(self) -> None:
        pass

    def _connection(self) -> sqlite3.Connection:
        cx = getattr(self._local, "cx", None)
        if cx is None:
            cx = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
            cx.row_factory = sqlite3.Row
            cx.execute("PRAGMA journal_mode=WAL")
            cx.execute("PRAGMA foreign_keys=ON")
            self._local.cx = cx
        return cx

    def _run(self, query: str, **arguments: Any) -> Any:
        name = self.reverse_queries.get(query)
        if name is None:
            raise exceptions.ConnectorException("this query is not supported on SQLite")
        handler = getattr(self, f"_q_{name}", None)
        if handler is None:
            raise exceptions.ConnectorException(f"procrastinate query {name} is not supported on SQLite")
        cx = self._connection()
        cx.execute("BEGIN IMMEDIATE")
        try:
            result = handler(cx, **arguments)
        except BaseException:
            cx.execute("ROLLBACK")
            raise
        cx.execute("COMMIT")
        return result

    def execute_query(self, query: str, **arguments: Any) -> None:  # type: ignore[override]
        self._run(query, **arguments)

    def execute_query_one(self, query: str, **arguments: Any) -> dict[str, Any]:  # type: ignore[override]
        return self._run(query, **arguments)

    def execute_query_all(self, query: str, **arguments: Any) -> list[dict[str, Any]]:  # type: ignore[override]
        return self._run(query, **arguments)

    async def execute_query_async(self, query: str, **arguments: Any) -> None:  # type: ignore[override]
        await asyncio.to_thread(self._run, query, **arguments)

    async def execute_query_one_async(self, query: str, **arguments: Any) -> dict[str, Any]:  # type: ignore[override]
        return await asyncio.to_thread(self._run, query, **arguments)

    async def execute_query_all_async(self, query: str, **arguments: Any) -> list[dict[str, Any]]:  # type: ignore[override]
        return await asyncio.to_thread(self._run, query, **arguments)

    async def listen_notify(self, on_notification: connector.Notify, channels: Iterable[str]) -> None:
        # no LISTEN/NOTIFY: SQLite workers poll (api.worker sets a short polling interval)
        await asyncio.Event().wait()

    # -- the queries ----------------------------------------------------------------

    @staticmethod
    def _row(r: sqlite3.Row | None) -> dict[str, Any]:
        if r is None:
            return {c: None for c in _JOB_COLUMNS}
        d = {c: r[c] for c in _JOB_COLUMNS}
        d["args"] = json.loads(d["args"] or "{}")
        d["scheduled_at"] = _when(d["scheduled_at"])
        d["abort_requested"] = bool(d["abort_requested"])
        return d

    def _insert(self, cx: sqlite3.Connection, job: types.JobToDefer) -> int:
        if job.queueing_lock is not None and cx.execute(
                "SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = ? AND status = 'todo'",
                (job.queueing_lock,)).fetchone():
            raise exceptions.UniqueViolation(constraint_name=manager.QUEUEING_LOCK_CONSTRAINT,
                                             queueing_lock=job.queueing_lock)
        cur = cx.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args,"
            " scheduled_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (job.queue_name, job.task_name, job.priority, job.lock, job.queueing_lock,
             json.dumps(job.args), _epoch(job.scheduled_at), time.time()))
        return int(cur.lastrowid or 0)

    def _q_defer_jobs(self, cx: sqlite3.Connection, *, jobs: list[types.JobToDefer]) -> list[dict[str, Any]]:
        return [{"id": self._insert(cx, job)} for job in jobs]

    def _q_defer_periodic_job(self, cx: sqlite3.Connection, *, queue: str, lock: str | None,
                              queueing_lock: str | None, task_name: str, priority: int, periodic_id: str,
                              defer_timestamp: int, args: dict[str, Any]) -> dict[str, Any]:
        if cx.execute("SELECT 1 FROM procrastinate_periodic_defers WHERE task_name = ? AND periodic_id = ?"
                      " AND defer_timestamp = ?", (task_name, periodic_id, defer_timestamp)).fetchone():
            return {"id": None}
        job_id = self._insert(cx, types.JobToDefer(queue_name=queue, task_name=task_name, priority=priority,
                                                   lock=lock, queueing_lock=queueing_lock, args=args,
                                                   scheduled_at=None))
        cx.execute("INSERT INTO procrastinate_periodic_defers (task_name, defer_timestamp, job_id, periodic_id)"
                   " VALUES (?, ?, ?, ?)", (task_name, defer_timestamp, job_id, periodic_id))
        cx.execute("DELETE FROM procrastinate_periodic_defers WHERE task_name = ? AND periodic_id = ?"
                   " AND defer_timestamp < ?", (task_name, periodic_id, defer_timestamp))
        return {"id": job_id}

    def _q_fetch_job(self, cx: sqlite3.Connection, *, queues: Iterable[str] | None, worker_id: int) -> dict[str, Any]:
        now = time.time()
        params: list[Any] = [now]
        where = ""
        if queues is not None:
            queues = list(queues)
            where = f" AND j.queue_name IN ({', '.join('?' * len(queues))})"
            params += queues
        r = cx.execute(
            "SELECT * FROM procrastinate_jobs j WHERE j.status = 'todo'"
            " AND (j.scheduled_at IS NULL OR j.scheduled_at <= ?)" + where +
            " AND (j.lock IS NULL OR NOT EXISTS (SELECT 1 FROM procrastinate_jobs o WHERE o.lock = j.lock AND"
            "  (o.status = 'doing' OR (o.status = 'todo' AND (o.priority > j.priority OR"
            "   (o.priority = j.priority AND o.id < j.id))))))"
            " ORDER BY j.priority DESC, j.id LIMIT 1", params).fetchone()
        if r is None:
            return self._row(None)
        cx.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = ?, updated_at = ? WHERE id = ?",
                   (worker_id, now, r["id"]))
        return {**self._row(r), "status": "doing", "worker_id": worker_id}

    def _q_select_stalled_jobs_by_heartbeat(self, cx: sqlite3.Connection, *, queue: str | None,
                                            task_name: str | None,
                                            seconds_since_heartbeat: float) -> list[dict[str, Any]]:
        rows = cx.execute(
            "SELECT j.* FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id"
            " WHERE j.status = 'doing' AND (? IS NULL OR j.queue_name = ?) AND (? IS NULL OR j.task_name = ?)"
            " AND (w.id IS NULL OR w.last_heartbeat < ?)",
            (queue, queue, task_name, task_name, time.time() - seconds_since_heartbeat)).fetchall()
        return [self._row(r) for r in rows]

    def _q_select_stalled_jobs_by_started(self, cx: sqlite3.Connection, *, nb_seconds: int, queue: str | None,
                                          task_name: str | None) -> list[dict[str, Any]]:
        rows = cx.execute(
            "SELECT * FROM procrastinate_jobs WHERE status = 'doing' AND (? IS NULL OR queue_name = ?)"
            " AND (? IS NULL OR task_name = ?) AND updated_at < ?",
            (queue, queue, task_name, task_name, time.time() - nb_seconds)).fetchall()
        return [self._row(r) for r in rows]

    def _q_delete_old_jobs(self, cx: sqlite3.Connection, *, nb_hours: int, queue: str | None,
                           statuses: Iterable[str]) -> None:
        statuses = list(statuses)
        cx.execute(f"DELETE FROM procrastinate_jobs WHERE status IN ({', '.join('?' * len(statuses))})"
                   " AND (? IS NULL OR queue_name = ?) AND updated_at < ?",
                   (*statuses, queue, queue, time.time() - nb_hours * 3600))

    def _q_finish_job(self, cx: sqlite3.Connection, *, job_id: int, status: str, delete_job: bool) -> None:
        if status not in ("succeeded", "failed", "aborted"):
            raise exceptions.ConnectorException(f"end status {status!r} (job {job_id})")
        if delete_job:
            n = cx.execute("DELETE FROM procrastinate_jobs WHERE id = ? AND status IN ('todo', 'doing')",
                           (job_id,)).rowcount
        else:
            n = cx.execute(
                "UPDATE procrastinate_jobs SET status = ?, abort_requested = 0, updated_at = ?,"
                " attempts = CASE status WHEN 'doing' THEN attempts + 1 ELSE attempts END"
                " WHERE id = ? AND status IN ('todo', 'doing')", (status, time.time(), job_id)).rowcount
        if not n:
            raise exceptions.ConnectorException(f"job {job_id} was not found or not todo/doing")

    def _q_cancel_job(self, cx: sqlite3.Connection, *, job_id: int, abort: bool, delete_job: bool) -> dict[str, Any]:
        now = time.time()
        if delete_job and cx.execute("DELETE FROM procrastinate_jobs WHERE id = ? AND status = 'todo'",
                                     (job_id,)).rowcount:
            return {"id": job_id}
        if abort:
            n = cx.execute("UPDATE procrastinate_jobs SET abort_requested = 1, updated_at = ?,"
                           " status = CASE status WHEN 'todo' THEN 'cancelled' ELSE status END"
                           " WHERE id = ? AND status IN ('todo', 'doing')", (now, job_id)).rowcount
        else:
            n = cx.execute("UPDATE procrastinate_jobs SET status = 'cancelled', updated_at = ?"
                           " WHERE id = ? AND status = 'todo'", (now, job_id)).rowcount
        return {"id": job_id if n else None}

    def _q_get_job_status(self, cx: sqlite3.Connection, *, job_id: int) -> dict[str, Any]:
        r = cx.execute("SELECT status FROM procrastinate_jobs WHERE id = ?", (job_id,)).fetchone()
        return {"status": r["status"] if r else None}

    def _q_retry_job(self, cx: sqlite3.Connection, *, job_id: int, retry_at: dt.datetime,
                     new_priority: int | None, new_queue_name: str | None, new_lock: str | None) -> None:
        r = cx.execute("SELECT status, abort_requested FROM procrastinate_jobs WHERE id = ?"
                       " AND status IN ('doing', 'failed')", (job_id,)).fetchone()
        if r is None:
            raise exceptions.ConnectorException(f"job {job_id} was not found or cannot be retried")
        if r["status"] == "doing" and r["abort_requested"]:
            cx.execute("UPDATE procrastinate_jobs SET status = 'failed', updated_at = ? WHERE id = ?",
                       (time.time(), job_id))
            return
        cx.execute("UPDATE procrastinate_jobs SET status = 'todo', attempts = attempts + 1, scheduled_at = ?,"
                   " priority = COALESCE(?, priority), queue_name = COALESCE(?, queue_name),"
                   " lock = COALESCE(?, lock), worker_id = NULL, updated_at = ? WHERE id = ?",
                   (_epoch(retry_at), new_priority, new_queue_name, new_lock, time.time(), job_id))

    def _q_check_connection(self, cx: sqlite3.Connection) -> dict[str, Any]:
        r = cx.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'procrastinate_jobs'").fetchone()
        return {"check": True if r else None}

    def _q_list_jobs_to_abort(self, cx: sqlite3.Connection, *, queue_name: str | None) -> list[dict[str, Any]]:
        rows = cx.execute("SELECT id FROM procrastinate_jobs WHERE status = 'doing' AND abort_requested = 1"
                          " AND (? IS NULL OR queue_name = ?)", (queue_name, queue_name)).fetchall()
        return [{"id": r["id"]} for r in rows]

    def _q_register_worker(self, cx: sqlite3.Connection) -> dict[str, Any]:
        cur = cx.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (?)", (time.time(),))
        return {"worker_id": cur.lastrowid}

    def _q_unregister_worker(self, cx: sqlite3.Connection, *, worker_id: int) -> None:
        cx.execute("DELETE FROM procrastinate_workers WHERE id = ?", (worker_id,))

    def _q_update_heartbeat(self, cx: sqlite3.Connection, *, worker_id: int) -> None:
        cx.execute("UPDATE procrastinate_workers SET last_heartbeat = ? WHERE id = ?", (time.time(), worker_id))

    def _q_prune_stalled_workers(self, cx: sqlite3.Connection, *,
                                 seconds_since_heartbeat: float) -> list[dict[str, Any]]:
        rows = cx.execute("SELECT id FROM procrastinate_workers WHERE last_heartbeat < ?",
                          (time.time() - seconds_since_heartbeat,)).fetchall()
        for r in rows:
            cx.execute("DELETE FROM procrastinate_workers WHERE id = ?", (r["id"],))
        return [{"worker_id": r["id"]} for r in rows]


def _postgres_conninfo(url: str) -> tuple[str, dict[str, Any]]:
    """psycopg's conninfo for a SQLAlchemy URL (``postgresql+psycopg://...?options=...``)."""
    parts = urlsplit(url)
    plain = parts._replace(scheme="postgresql", query="").geturl()
    kwargs: dict[str, Any] = {}
    for key, values in parse_qs(parts.query).items():
        kwargs[key] = unquote(values[-1])
    return plain, kwargs


def make_connector(url: str) -> connector.BaseAsyncConnector:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if not path or path == ":memory:":
            raise ConfigurationError(Message(
                "the job queue needs a SQLite database file, not an in-memory database: set ITEMBANK_DATABASE_URL to "
                "a file such as sqlite:///itembank.db"), field="database_url")
        return SQLiteConnector(path.split("?", 1)[0])
    from procrastinate import PsycopgConnector

    conninfo, kwargs = _postgres_conninfo(url)
    return PsycopgConnector(conninfo=conninfo, kwargs=kwargs, min_size=1, max_size=4)


def make_queue(url: str) -> App:
    """A procrastinate app on the database at ``url`` (the tasks are added by ``api.worker``)."""
    return App(connector=make_connector(url))


def postgres_schema_sql() -> str:
    """procrastinate's own schema (functions, types, tables), applied by migration 0009."""
    from procrastinate.schema import SchemaManager

    return SchemaManager.get_schema()
