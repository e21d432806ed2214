"""Real processes (issue 13): ``itembank worker`` killed with kill -9 during an assembly and
during an import (nothing half-written; the solver dies with it; the queue hands the job to
the next worker), and two server processes with two workers sharing the queue. On SQLite and,
in CI's second run, on PostgreSQL."""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import sessionmaker

from api.jobs import QueueJobs
from api.worker import make_app
from itembank import accounts
from itembank import assembly_service as svc
from itembank.config import Settings
from itembank.domain import Part, Role
from itembank.imports import CSV_COLUMNS
from itembank.orm import ItemRecord
from itembank.orm_assembly import PaperRecord, RunState
from itembank.orm_jobs import JobKind, JobRecord, JobState
from tests.conftest import url_of

from .test_jobs import _setup, _wait

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Correct-Horse-42"


def _env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "ITEMBANK_DATABASE_URL": url, "PYTHONPATH": str(ROOT), "ITEMBANK_WORKER_HEARTBEAT_S": "0.5",
            "ITEMBANK_WORKER_STALLED_S": "3", "ITEMBANK_LIFECYCLE_SEAL_MASTER_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            **extra}


def _worker(url: str) -> subprocess.Popen:  # type: ignore[type-arg]
    return subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--concurrency", "2"], env=_env(url),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _descendants(pid: int) -> set[int]:
    """Live (not zombie) descendants of ``pid``, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _stop(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture()
def maker(fresh_engine: Engine) -> Iterator[sessionmaker]:
    yield sessionmaker(bind=fresh_engine, expire_on_commit=False)


def _queue_job_status(maker: sessionmaker, job_id: int) -> tuple[str, int]:
    with maker() as s:
        row = s.execute(text("SELECT status, attempts FROM procrastinate_jobs WHERE id = :i"), {"i": job_id}).one()
    return str(row[0]), int(row[1])


def test_kill_9_during_an_assembly(fresh_engine: Engine, maker) -> None:  # type: ignore[no-untyped-def]
    bank, stored = _setup(maker)
    url = url_of(fresh_engine)
    queue = make_app(Settings(database_url=url, _env_file=None))
    queue.open()
    first = _worker(url)
    second = None
    try:
        with maker() as s, s.begin():  # eight papers and four backups proven optimal: a long solve (the pool holds 13 per element)
            run = svc.request_run(s, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(
                n_forms=8, n_backups=4, rel_gap=0.0, time_limit_s=120))
        QueueJobs(queue, maker).launch_assembly(run.id)
        _wait(maker, run.id, lambda r: r.state is RunState.RUNNING and r.live.get("elapsed_s", 0) > 1.0, timeout=240)
        solver = _descendants(first.pid)
        assert solver, "the solver runs in a child process of the worker"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        from datetime import datetime, timezone

        killed_at = datetime.now(timezone.utc)
        deadline = time.monotonic() + 10
        while _alive(solver) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(solver), "the solver outlived its killed worker"
        with maker() as s:
            assert svc.get_run(s, run_id=run.id).state is RunState.RUNNING
            assert not s.scalars(select(PaperRecord).where(PaperRecord.run_id == run.id)).all()  # nothing half-written
            job_id = svc.get_run(s, run_id=run.id).queue_job_id
        assert _queue_job_status(maker, job_id)[0] == "doing"
        time.sleep(3.5)  # longer than ITEMBANK_WORKER_STALLED_S: the dead worker's heartbeat is stale
        second = _worker(url)
        # the next worker hands the stalled job back to the queue and runs it again
        _wait(maker, run.id, lambda r: r.state is RunState.RUNNING and r.started_at is not None
              and (r.started_at if r.started_at.tzinfo else r.started_at.replace(tzinfo=timezone.utc)) > killed_at
              and r.live.get("elapsed_s", 0) > 0.5, timeout=240)
        assert _queue_job_status(maker, job_id) == ("doing", 1)  # retried by the queue, once
        with maker() as s, s.begin():
            svc.request_cancel(s, run_id=run.id, actor="m")
        QueueJobs(queue, maker).cancel_assembly(run.id, job_id)
        done = _wait(maker, run.id, lambda r: r.done, timeout=60)
        assert done.state is RunState.CANCELLED
    finally:
        for proc in (first, second):
            if proc is not None:
                _stop(proc)
        queue.close()


def _big_csv(n: int, elements: list[str]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for i in range(n):
        w.writerow([f"K{i:05d}", "单项选择题", f"K{i:05d} 安全电压的额定值不包括（　）。", "36V", "24V", "12V", "110V",
                    "", "", "D", 1, elements[i % len(elements)], 2, 60, "", "", "", "", "", ""])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def test_kill_9_during_an_import(fresh_engine: Engine, maker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    bank, _ = _setup(maker)
    with maker() as s, s.begin():
        accounts.create_user(s, username="mgr", password=PASSWORD, roles=[(Role.BANK_MANAGER, None)], actor="t")
        accounts.create_user(s, username="wr1", password=PASSWORD, roles=[(Role.ITEM_WRITER, None)], actor="t")
        before = s.scalar(select(func.count()).select_from(ItemRecord))
        rows, _ = svc.element_rows(s, bank=bank, part=Part.THEORY)
        parents = {r.parent_code for r in rows}
        leaves = [r.code for r in rows if r.code not in parents]
        rec = JobRecord(kind=JobKind.IMPORT_ITEMS, requested_by="mgr", payload=_big_csv(8000, leaves),
                        params={"bank_id": bank.id, "filename": "big.csv", "mode": "accepted",
                                "batch_ref": "legacy-2026-01"})
        s.add(rec)
        s.flush()
        job = rec.id
    url = url_of(fresh_engine)
    queue = make_app(Settings(database_url=url, _env_file=None))
    queue.open()
    first = _worker(url)
    second = None
    try:
        QueueJobs(queue, maker).launch(JobKind.IMPORT_ITEMS, job)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with maker() as s:
                if s.get(JobRecord, job).state is not JobState.QUEUED:
                    break
            time.sleep(0.05)
        time.sleep(0.5)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        with maker() as s:
            state = s.get(JobRecord, job).state
            n = s.scalar(select(func.count()).select_from(ItemRecord)) - before
        assert state is JobState.RUNNING, "the import ended before the kill; make the file larger"
        assert n == 0, f"{n} items of an unfinished import were written"
        time.sleep(3.5)
        second = _worker(url)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with maker() as s:
                done = s.get(JobRecord, job)
                if done.state in (JobState.FINISHED, JobState.FAILED):
                    break
            time.sleep(0.2)
        with maker() as s:
            done = s.get(JobRecord, job)
            n = s.scalar(select(func.count()).select_from(ItemRecord)) - before
            assert done.state is JobState.FINISHED, done.result
            assert n == 8000 and len(done.result["created"]) == 8000 and done.attempts == 2
            assert s.get(JobRecord, job).payload is None  # the file is not kept once imported
    finally:
        for proc in (first, second):
            if proc is not None:
                _stop(proc)
        queue.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_servers_and_two_workers_share_the_queue(fresh_engine: Engine, maker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    bank, stored = _setup(maker)
    with maker() as s, s.begin():
        accounts.create_user(s, username="mgr", password=PASSWORD, roles=[(Role.BANK_MANAGER, None)], actor="t")
    url = url_of(fresh_engine)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", "2", "--port", str(port)],
                              env=_env(url, ITEMBANK_LOCAL_WORKER="false"), cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers = [_worker(url), _worker(url)]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the servers did not start"
            time.sleep(0.5)
        token = httpx.post(f"{base}/auth/token", data={"username": "mgr", "password": PASSWORD},
                           timeout=60).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        runs = []
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for seed in range(4):
                r = client.post(f"/banks/{bank.id}/assembly-runs", json={
                    "blueprint_id": stored.id, "n_forms": 1, "n_backups": 1, "seed": seed, "time_limit_s": 60})
                assert r.status_code == 202, r.text
                runs.append(r.json()["id"])
            deadline = time.monotonic() + 300
            states: dict[int, str] = {}
            while time.monotonic() < deadline:
                states = {rid: client.get(f"/assembly-runs/{rid}").json()["state"] for rid in runs}
                if all(s in ("finished", "failed", "cancelled") for s in states.values()):
                    break
                time.sleep(0.5)
        assert set(states.values()) == {"finished"}, states
        with maker() as s:
            assert s.scalar(select(func.count()).select_from(PaperRecord).where(PaperRecord.run_id.in_(runs))) == 8
            pids = s.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar()
        assert pids == 2  # both workers registered on the one queue
    finally:
        for proc in (*workers, server):
            _stop(proc)
