"""Engine, sessions and schema migrations. Nothing connects at import time."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from itembank.config import Settings

T = TypeVar("T")

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


BUSY_TIMEOUT_S = 10.0
"""SQLite: how long a writer waits for the write lock before "database is locked" (then the API
answers 503 with Retry-After). Writes are short (uploads are parsed, solvers run and documents are
rendered outside any write transaction), so waiting longer than this means something is wrong."""

_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


def make_engine(settings: Settings | None = None, *, url: str | None = None,
                sqlite_immediate: bool = False) -> Engine:
    """Create the engine for ``settings.database_url`` (or ``url``).

    SQLite gets foreign keys on, the WAL journal (readers never wait for the writer), a busy
    timeout (``BUSY_TIMEOUT_S``) and real transactions (pysqlite's implicit transaction handling
    is switched off so that BEGIN and SAVEPOINT behave as on PostgreSQL; SQLAlchemy 2.0 docs,
    "Serializable isolation / Savepoints").

    SQLite transactions begin deferred (``BEGIN``: a read snapshot, no lock), and take the write
    lock only when they first write (``BEGIN IMMEDIATE``, see ``_begin_writing``): a transaction
    that reads for a second and writes for a millisecond holds the one write lock for that
    millisecond. ``sqlite_immediate``: take the write lock at the start instead (a unit of work
    whose every read must be current when it writes).

    PostgreSQL: pre-ping, and the one lock order (``itembank.ledger.lock``).
    """
    settings = settings or Settings()
    url = url or settings.database_url
    if url.startswith("sqlite"):
        from itembank.keys import private_database_file

        private_database_file(url)  # 0600: the file holds every item in clear
        engine = create_engine(
            url,
            echo=settings.echo_sql,
            connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        _configure_sqlite(engine, immediate=sqlite_immediate)
        return engine
    return create_engine(url, echo=settings.echo_sql, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, *, immediate: bool = False) -> None:
    # The writers of this process take turns on a lock before they ask SQLite for its write lock:
    # SQLite's own busy handler waits by sleeping in growing steps (up to 100 ms a try), which
    # put 100 ms tails on short writes (an item read writes its ledger entry); a lock hands the
    # turn over at once. Held only from BEGIN IMMEDIATE to COMMIT/ROLLBACK, never by readers.
    turn = threading.Lock()
    _turns[engine] = turn

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        write = conn.get_execution_options().get("sqlite_immediate", immediate)
        if write:
            _take_turn(conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
        except Exception:
            _give_turn(conn.info)
            raise
        conn.info["itembank_tx"] = "write" if write else "read"

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if conn.info.get("itembank_tx") == "read" and _writes(statement):
            _begin_writing(conn)

    for name in ("commit", "rollback"):
        @event.listens_for(engine, name)
        def _on_end(conn):  # type: ignore[no-untyped-def]
            conn.info.pop("itembank_tx", None)
            _give_turn(conn.info)

    @event.listens_for(engine, "reset")
    def _on_reset(_dbapi_connection, record, _state=None):  # type: ignore[no-untyped-def]
        _give_turn(record.info)  # a connection returned to the pool mid-transaction

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_connection, record, _exc):  # type: ignore[no-untyped-def]
        _give_turn(record.info)


_turns: "weakref.WeakKeyDictionary[Engine, threading.Lock]" = weakref.WeakKeyDictionary()


def _take_turn(conn: Connection) -> None:
    """Wait for this process's write turn on the connection's SQLite file (see _configure_sqlite)."""
    turn = _turns.get(conn.engine)
    if turn is None or conn.info.get("itembank_turn"):
        return
    if not turn.acquire(timeout=BUSY_TIMEOUT_S):
        raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))  # type: ignore[arg-type]
    conn.info["itembank_turn"] = turn


def _give_turn(info: dict) -> None:  # type: ignore[type-arg]
    turn = info.pop("itembank_turn", None)
    if turn is not None:
        turn.release()


def _writes(statement: str) -> bool:
    head = statement.lstrip()[:8].upper()
    return head.startswith(_WRITE_VERBS)


def _begin_writing(conn: Connection) -> None:
    """SQLite: turn the connection's deferred (read) transaction into a write transaction.

    A deferred transaction that has read cannot take the write lock once another writer has
    committed after its first read (SQLITE_BUSY_SNAPSHOT, at once, without waiting). It has only
    read, so it ends its read snapshot and starts ``BEGIN IMMEDIATE``, which waits for the lock up
    to the busy timeout. What it writes from then on sees the latest data; code whose write must be
    based on a current read takes the write lock before reading (``begin_writing``; the ledger
    does). Inside a savepoint the transaction cannot be restarted: it writes as it is."""
    conn.info["itembank_tx"] = "write"
    if conn.in_nested_transaction():
        return
    raw = conn.connection.dbapi_connection
    try:
        raw.execute("COMMIT")
        _take_turn(conn)
        raw.execute("BEGIN IMMEDIATE")
    except Exception as exc:  # the lock was not had within the busy timeout
        conn.info["itembank_tx"] = "failed"
        raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc  # type: ignore[arg-type]


def begin_writing(session: Session) -> None:
    """Before a read whose result decides a write (the ledger's head, a claim): on SQLite take
    the write lock now, so that the read sees the latest committed data and nothing can change
    it before the commit. No-op on PostgreSQL and inside a write transaction."""
    conn = session.connection()
    if conn.dialect.name == "sqlite" and conn.info.get("itembank_tx") == "read":
        _begin_writing(conn)


def is_busy(exc: BaseException) -> bool:
    """The database refused for contention: SQLite "database is locked" (the busy timeout ran
    out, or a stale read snapshot), PostgreSQL serialization failure or deadlock."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)  # SQLITE_BUSY (and its extended codes), SQLITE_LOCKED
    if isinstance(orig, sqlite3.OperationalError):
        return "locked" in str(orig) or "busy" in str(orig)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected


def is_retryable(exc: BaseException) -> bool:
    """Worth running the whole unit of work again at once: a PostgreSQL serialization failure or
    deadlock (the other transaction went through), a SQLite stale snapshot. Not a SQLite busy
    timeout: that already waited ``BUSY_TIMEOUT_S``."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code == 517  # SQLITE_BUSY_SNAPSHOT
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error (CLI, jobs and scripts)."""
    with make_sessionmaker(engine)() as session, session.begin():
        yield session


def run_transaction(maker: Callable[[], Session], work: Callable[[Session], T], *, attempts: int = 4) -> T:
    """Run ``work(session)`` in its own transaction and commit; run it again (a few times, with a
    short random pause) when the database refused for a retryable reason (``is_retryable``:
    a PostgreSQL deadlock or serialization failure, a SQLite stale snapshot). ``work`` must
    have no effects outside the database."""
    for attempt in range(attempts):
        try:
            with maker() as session, session.begin():
                return work(session)
        except OperationalError as exc:
            if attempt == attempts - 1 or not is_retryable(exc):
                raise
            log.info("retrying a unit of work after %s", exc.orig.__class__.__name__)
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


BULK_ROWS = 500
"""A write of at least this many rows refreshes the planner statistics (``refresh_statistics``)."""


def refresh_statistics(session: Session, *tables: str) -> None:
    """After a bulk write, on PostgreSQL: ``ANALYZE`` the tables inside the writing transaction.

    An ANALYZE by autovacuum while a large import is still uncommitted records the tables as
    empty (it cannot see the new rows), and the queries that follow in the same transaction
    (readiness, the pool for assembly) then get nested-loop plans over sequential scans that
    take minutes instead of milliseconds. ANALYZE inside the transaction counts its own rows,
    and the lock it holds until commit keeps autovacuum from overwriting the figures (autovacuum
    skips a locked table; a second bulk import waits for the first to commit). SQLite: nothing
    to do, its planner does not depend on such statistics here."""
    if session.get_bind().dialect.name != "postgresql" or not tables:
        return
    session.execute(text("ANALYZE " + ", ".join(tables)))


def alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser interpolation: a '%' in the URL (an encoded password) must be doubled
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` with the Alembic migrations (``itembank db upgrade``)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
