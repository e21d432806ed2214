"""SQLite: the writers of a process take turns on a lock (itembank.db); the turn is always
given back — after a commit, a rollback, an error inside the transaction, and a session closed
without either — and writers in many threads at once all get through."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from itembank import db


@pytest.fixture()
def sqlite_engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    eng = db.make_engine(url=f"sqlite:///{tmp_path / 'turns.db'}")
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield eng
    eng.dispose()


def _held(engine) -> bool:  # type: ignore[no-untyped-def]
    return db._turns[engine].locked()


def test_the_turn_is_given_back_however_a_write_ends(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    with sqlite_engine.connect() as conn:  # given back at the commit and the rollback themselves
        conn.execute(text("INSERT INTO t VALUES (0)"))
        assert _held(sqlite_engine)
        conn.rollback()
        assert not _held(sqlite_engine)
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.commit()
        assert not _held(sqlite_engine)
    maker = db.make_sessionmaker(sqlite_engine)
    with maker() as s, s.begin():
        s.execute(text("INSERT INTO t VALUES (1)"))
        assert _held(sqlite_engine)  # a writer holds it until its commit
    assert not _held(sqlite_engine)
    with pytest.raises(RuntimeError), maker() as s, s.begin():
        s.execute(text("INSERT INTO t VALUES (2)"))
        raise RuntimeError("fails midway")
    assert not _held(sqlite_engine)
    s = maker()
    s.execute(text("INSERT INTO t VALUES (3)"))
    s.close()  # neither commit nor rollback
    assert not _held(sqlite_engine)
    with maker() as s:  # a reader never takes it
        s.execute(text("SELECT count(*) FROM t")).scalar()
        assert not _held(sqlite_engine)
    with maker() as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_many_writers_at_once_all_get_through(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    maker = db.make_sessionmaker(sqlite_engine)

    def write(k: int) -> None:
        with maker() as s, s.begin():
            s.execute(text("SELECT count(*) FROM t")).scalar()  # a read first, then the write
            s.execute(text("INSERT INTO t VALUES (:k)"), {"k": k})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(200)))
    with maker() as s:
        assert s.execute(text("SELECT count(*), count(DISTINCT n) FROM t")).one() == (200, 200)
    assert not _held(sqlite_engine)


def test_a_forgotten_connection_gives_the_turn_back_when_collected(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    """A connection dropped mid-write without close (a crashed request's leak) is reset by the
    pool when it is garbage-collected; the turn goes back with it."""
    import gc

    conn = sqlite_engine.connect()
    conn.execute(text("INSERT INTO t VALUES (9)"))
    assert _held(sqlite_engine)
    del conn
    gc.collect()
    assert not _held(sqlite_engine)
