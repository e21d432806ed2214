"""Many requests at once on a real server (issue 13), on SQLite and on PostgreSQL: 20 sealed-paper
requests at the same moment all succeed, every session's main and backup papers are disjoint, no
paper goes to two sessions, and the usage counts are exact; slow reads never block writers; the
ledger chain stays whole."""

from __future__ import annotations

import base64
import random
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from pydantic import SecretStr
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import sessionmaker

import assembly as asm
from api.app import create_app
from api.jobs import InlineJobs
from itembank import accounts
from itembank import assembly_service as svc
from itembank.config import Settings
from itembank.domain import ItemContent, ItemType, Level, Option, PaperKind, Part, Role, VersionState
from itembank.elements import save_element_table
from itembank.items import NewItem, add_items
from itembank.ledger import verify_ledger
from itembank.occupations import create_bank, create_occupation
from itembank.orm import ItemRecord, ItemUsageRecord, ItemVersionRecord
from itembank.orm_assembly import AssemblyRunRecord, PaperItemRecord, PaperRecord, PaperStatus, RunState
from itembank.readiness import set_minimum_rule
from lifecycle.config import LifecycleSettings
from lifecycle.sessions import create_exam_plan, create_exam_session
from tests.itembank.conftest import SMALL_TABLE

OCC = "6-31-01-03"
ELEMENTS = ("A-01", "A-02", "B-01", "B-02")
N_SESSIONS = 20
PAPER_ITEMS = 10
PASSWORD = "Correct-Horse-42"


@dataclass
class World:
    url: str
    token: str
    maker: sessionmaker
    sessions: list[str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _build(maker: sessionmaker) -> list[str]:
    """A bank of 150 accepted items and, for each of 20 exam sessions, one assembly run with a
    main paper and a backup paper (disjoint); main papers of different runs share items, so
    concurrent issues update the same usage rows."""
    rng = random.Random(7)
    with maker() as s, s.begin():
        create_occupation(s, code=OCC, name="电工", category="technical_skill")
        bank = create_bank(s, occupation_code=OCC, level=Level.L5)
        save_element_table(s, bank=bank, part=Part.THEORY, nodes=SMALL_TABLE, actor="t")
        items = []
        for i in range(150):
            content = ItemContent(ItemType.SINGLE_CHOICE, f"第{i}题：下列说法中正确的是（　）。", 1.0,
                                  (ELEMENTS[i % 4],), options=tuple(Option(x, f"选项{x}{i}") for x in "ABCD"),
                                  key=("ABCD"[i % 4],), difficulty_rating=1 + i % 5)
            items.append(NewItem(f"T{i:03d}", content))
        add_items(s, bank=bank, items=items, actor="import", state=VersionState.ACCEPTED)
        set_minimum_rule(s, part=Part.THEORY, minimum=100, actor="admin")
        bp = asm.derive_blueprint([asm.ElementRow("A", None, 40.0, None), asm.ElementRow("A-01", "A", 15.0, "X"),
                                   asm.ElementRow("A-02", "A", 25.0, "Y"), asm.ElementRow("B", None, 60.0, None),
                                   asm.ElementRow("B-01", "B", 30.0, "X"), asm.ElementRow("B-02", "B", 30.0, "Z")],
                                  [asm.TypeRule("single_choice", PAPER_ITEMS, float(PAPER_ITEMS))], name="mini",
                                  level=5, tolerance=0.5, min_tolerance=2.0)
        stored = svc.save_blueprint(s, bank=bank, blueprint=bp, actor="m")
        rows = s.execute(select(ItemRecord.id, ItemVersionRecord.id).join(
            ItemVersionRecord, ItemVersionRecord.item_id == ItemRecord.id).where(ItemRecord.bank_id == bank.id)
            .order_by(ItemRecord.id)).all()
        hot = rows[:30]  # every main paper draws from these: heavy overlap between sessions
        for k in range(N_SESSIONS):
            run = AssemblyRunRecord(bank_id=bank.id, part=Part.THEORY, blueprint_id=stored.id,
                                    state=RunState.FINISHED, outcome="optimal", params={}, requested_by="m")
            s.add(run)
            s.flush()
            main = rng.sample(hot, PAPER_ITEMS)
            backup = rng.sample([r for r in rows[30:]], PAPER_ITEMS)
            for kind, label, chosen in ((PaperKind.FORM, "A", main), (PaperKind.BACKUP, "备用1", backup)):
                paper = PaperRecord(code=f"P{k:02d}-{'M' if kind is PaperKind.FORM else 'B'}", bank_id=bank.id,
                                    part=Part.THEORY, run_id=run.id, blueprint_id=stored.id, kind=kind,
                                    form_label=label, status=PaperStatus.ASSEMBLED, time_allowed_min=60)
                paper.items = [PaperItemRecord(position=i, item_id=iid, version_id=vid)
                               for i, (iid, vid) in enumerate(chosen)]
                s.add(paper)
        start = datetime.now(timezone.utc) + timedelta(days=1)
        codes = []
        for k in range(N_SESSIONS):
            create_exam_plan(s, code=f"PLAN-{k:02d}", occupation_code=OCC, level=5, actor="office")
            create_exam_session(s, plan_code=f"PLAN-{k:02d}", code=f"S-{k:02d}", part="theory",
                                starts_at=start, ends_at=start + timedelta(hours=2), place=f"A{k}", actor="office")
            codes.append(f"S-{k:02d}")
        accounts.create_user(s, username="office1", password=PASSWORD, roles=[(Role.EXAM_OFFICE, OCC)], actor="t")
        accounts.create_user(s, username="mgr", password=PASSWORD, roles=[(Role.BANK_MANAGER, OCC)], actor="t")
    return codes


@pytest.fixture()
def world(fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    maker = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    codes = _build(maker)
    lifecycle = LifecycleSettings(seal_master_key=SecretStr(base64.b64encode(bytes(range(32))).decode()),
                                  institution="测试学院", _env_file=None)
    app = create_app(Settings(_env_file=None), engine=fresh_engine, lifecycle_settings=lifecycle)
    app.state.jobs = InlineJobs(app.state.sessionmaker, lifecycle=lifecycle)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    token = httpx.post(f"{url}/auth/token", data={"username": "office1", "password": PASSWORD}).json()["access_token"]
    try:
        yield World(url=url, token=token, maker=maker, sessions=codes)
    finally:
        server.should_exit = True
        thread.join(20)


def test_twenty_concurrent_seals_all_succeed_disjoint_and_usage_exact(world: World) -> None:
    barrier = threading.Barrier(N_SESSIONS)

    def seal(code: str) -> httpx.Response:
        with httpx.Client(base_url=world.url, timeout=120) as client:
            barrier.wait()
            return client.post(f"/exam-sessions/{code}/sealed-papers", json={"n_backups": 1, "assemble_if_needed": False},
                               headers={"Authorization": f"Bearer {world.token}"})

    with ThreadPoolExecutor(N_SESSIONS) as pool:
        responses = list(pool.map(seal, world.sessions))
    assert [r.status_code for r in responses] == [201] * N_SESSIONS, [r.text[:200] for r in responses if r.status_code != 201]
    bodies = [r.json() for r in responses]
    mains = [b["main"]["paper_code"] for b in bodies]
    backups = [b["backups"][0]["paper_code"] for b in bodies]
    assert len(set(mains + backups)) == 2 * N_SESSIONS  # no paper went to two sessions
    with world.maker() as s:
        items_of = {p.code: {pi.item_id for pi in p.items} for p in s.scalars(select(PaperRecord))}
        for main, backup in zip(mains, backups):
            assert not items_of[main] & items_of[backup], f"{main} and {backup} share items"
        expected: dict[int, int] = {}
        for main in mains:
            for item_id in items_of[main]:
                expected[item_id] = expected.get(item_id, 0) + 1
        counts = dict(s.execute(select(ItemRecord.id, ItemRecord.usage_count)).all())
        assert {i: c for i, c in counts.items() if c} == expected  # exact, no lost update
        assert s.scalar(select(func.count()).select_from(ItemUsageRecord)) == N_SESSIONS * PAPER_ITEMS
        version_counts = dict(s.execute(select(ItemVersionRecord.item_id, ItemVersionRecord.usage_count)).all())
        assert {i: c for i, c in version_counts.items() if c} == expected
        assert verify_ledger(s).ok
        assert s.scalar(select(func.count()).select_from(PaperRecord).where(
            PaperRecord.status == PaperStatus.SEALED)) == 2 * N_SESSIONS


def test_reads_do_not_wait_for_a_long_write(world: World) -> None:
    """While a transaction holds the write lock (SQLite) / the ledger lock (PostgreSQL) for two
    seconds, item lists of another user still answer at once (reads never wait) — only their
    ledger entry waits, after the content was read."""
    from sqlalchemy import text

    from itembank import ledger

    mgr = httpx.post(f"{world.url}/auth/token", data={"username": "mgr", "password": PASSWORD}).json()["access_token"]
    # FastAPI builds a route's dependency state on its first request (seconds on a cold app)
    assert httpx.get(f"{world.url}/banks/1/papers", headers={"Authorization": f"Bearer {mgr}"}).status_code == 200
    held = threading.Event()

    def hold() -> None:
        with world.maker() as s, s.begin():
            ledger.lock(s)
            s.execute(text("UPDATE items SET usage_count = usage_count WHERE id = 1"))
            held.set()
            time.sleep(2.0)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    started = time.monotonic()
    with httpx.Client(base_url=world.url, timeout=30) as client:
        r = client.get("/banks/1/papers", headers={"Authorization": f"Bearer {mgr}"})  # a read that writes nothing
    took = time.monotonic() - started
    holder.join()
    assert r.status_code == 200 and r.json()["total"] == 2 * N_SESSIONS
    assert took < 1.5, f"a plain read waited {took:.2f} s for a writer"
