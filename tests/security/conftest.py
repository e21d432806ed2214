"""Security test fixtures.

- ``api`` (from tests/api): the app inside a rolled-back transaction, users of any grants.
- ``world``: one private database per module (SQLite file, or a private PostgreSQL schema when
  ``ITEMBANK_TEST_DATABASE_URL`` is set) holding two occupations that mirror each other (a bank
  with items, an assembly run with papers, an exam plan and session with a sealed paper opened
  by two exam-office users, a staff member), served by the real app with real commits. Tests
  that draw many accounts (the permission property) share it.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from api.app import create_app
from itembank import accounts
from itembank import assembly_service as asvc
from itembank.config import Settings
from itembank.db import make_engine, make_sessionmaker, upgrade
from itembank.domain import ItemContent, ItemType, Level, Option, Part, Role, VersionState
from itembank.elements import save_element_table
from itembank.items import NewItem, add_items
from itembank.occupations import create_bank, create_occupation
from itembank.readiness import set_minimum_rule
from lifecycle import sealing
from lifecycle.sessions import create_exam_plan, create_exam_session
from lifecycle.staff import register_staff
from tests.api.conftest import LIFECYCLE, OCC, OTHER_OCC, PASSWORD, Api, _cheap_password_hashing, api  # noqa: F401
from tests.api.scenario import make_id
from tests.itembank.conftest import SMALL_TABLE
from tests.texts import made_up

OCCUPATIONS = (OCC, OTHER_OCC)
ELEMENTS = ("A-01", "A-02", "B-01", "B-02")


@pytest.fixture(scope="module")
def private_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database of this module's own (real commits, shared by its tests)."""
    url = os.environ.get("ITEMBANK_TEST_DATABASE_URL")
    if not url:
        eng = make_engine(url=f"sqlite:///{tmp_path_factory.mktemp('secdb') / 'world.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    schema = f"sec_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url=url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    eng = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@dataclass
class Side:
    """What one occupation holds in the world."""

    occupation: str
    bank_id: int
    item_code: str
    n_items: int
    run_id: int
    paper_code: str  # the sealed, opened main paper
    plan_code: str
    session_code: str
    document: str  # a document name of the opened paper


@dataclass
class World:
    client: TestClient
    engine: Engine
    sides: dict[str, Side]
    staff_id: int
    staff_id_number: str
    users: dict[str, dict[str, str]] = field(default_factory=dict)

    def add_user(self, username: str, grants: list[tuple[Role, str | None]]) -> dict[str, str]:
        with make_sessionmaker(self.engine)() as s:
            accounts.create_user(s, username=username, password=PASSWORD, roles=grants, actor="test")
            s.commit()
        r = self.client.post("/auth/token", data={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _stock(s, bank, prefix: str) -> int:  # type: ignore[no-untyped-def]
    items = []
    rng = random.Random(prefix)
    for i in range(120):
        element = ELEMENTS[i % 4]
        if i % 5 == 0:
            content = ItemContent(ItemType.TRUE_FALSE, f"{prefix}第{i}题：{made_up(rng, 14)}。", 1.0,
                                  (element,), key=("T" if i % 2 else "F",), difficulty_rating=1 + i % 5)
        else:
            content = ItemContent(ItemType.SINGLE_CHOICE, f"{prefix}第{i}题：{made_up(rng, 8)}的是（　）。", 1.0,
                                  (element,), options=tuple(Option(x, made_up(rng, 6)) for x in "ABCD"),
                                  key=("ABCD"[i % 4],), difficulty_rating=1 + i % 5)
        items.append(NewItem(f"{prefix}{i:03d}", content))
    add_items(s, bank=bank, items=items, actor=f"writer_{prefix}", state=VersionState.ACCEPTED)
    return len(items)


def _blueprint():  # type: ignore[no-untyped-def]
    import assembly as asm

    rows = [asm.ElementRow("A", None, 40.0, None), asm.ElementRow("A-01", "A", 15.0, "X"),
            asm.ElementRow("A-02", "A", 25.0, "Y"), asm.ElementRow("B", None, 60.0, None),
            asm.ElementRow("B-01", "B", 30.0, "X"), asm.ElementRow("B-02", "B", 30.0, "Z")]
    return asm.derive_blueprint(rows, [asm.TypeRule("single_choice", 8, 8.0), asm.TypeRule("true_false", 2, 2.0)],
                                name="sec-mini", level=5, tolerance=0.5, min_tolerance=2.0)


def build_world(engine: Engine) -> tuple[dict[str, Side], int, str]:
    from itembank.domain import Actor

    sides = {}
    now = datetime.now(timezone.utc)
    with make_sessionmaker(engine)() as s:
        create_occupation(s, code=OCC, name="电工", category="technical_skill")
        create_occupation(s, code=OTHER_OCC, name="计算机程序设计员", category="knowledge_skill")
        set_minimum_rule(s, part=Part.THEORY, minimum=100, actor="admin")
        set_minimum_rule(s, part=Part.PRACTICAL, minimum=0, actor="admin")
        for n, occ in enumerate(OCCUPATIONS):
            prefix = "X" if n == 0 else "Y"
            bank = create_bank(s, occupation_code=occ, level=Level.L5)
            save_element_table(s, bank=bank, part=Part.THEORY, nodes=SMALL_TABLE, actor="t")
            n_items = _stock(s, bank, prefix)
            stored = asvc.save_blueprint(s, bank=bank, blueprint=_blueprint(), actor="t")
            run = asvc.run_assembly(s, bank=bank, blueprint=stored, actor="t",
                                    params=asvc.RunParams(n_forms=1, n_backups=1, time_limit_s=30))
            assert run.paper_codes, run.message
            plan, code = f"PLAN-{prefix}", f"S-{prefix}"
            create_exam_plan(s, code=plan, occupation_code=occ, level=5, actor="t")
            create_exam_session(s, plan_code=plan, code=code, part="theory", starts_at=now + timedelta(minutes=10),
                                ends_at=now + timedelta(hours=2), place="A301", actor="t")
            office = [Actor(f"office{k}_{prefix}", [Role.EXAM_OFFICE], [occ]) for k in (1, 2)]
            sealed = sealing.seal_papers(s, exam_session_code=code, actor=office[0], settings=LIFECYCLE,
                                         n_backups=1, assemble_if_needed=False)
            for who in office:
                sealing.confirm_opening(s, exam_session_code=code, paper_code=sealed.main.paper_code, actor=who,
                                        settings=LIFECYCLE)
            sides[occ] = Side(occupation=occ, bank_id=bank.id or 0, item_code=f"{prefix}001", n_items=n_items,
                              run_id=run.id, paper_code=sealed.main.paper_code, plan_code=plan, session_code=code,
                              document=sealed.main.documents[0].name)
        id_number = make_id(77, date(1980, 3, 1))
        staff = register_staff(s, name="钱考评", id_number=id_number, actor="t")
        s.commit()
    return sides, staff.id, id_number


@pytest.fixture(scope="module")
def world(private_engine: Engine) -> Iterator[World]:
    from argon2 import PasswordHasher

    saved = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        sides, staff_id, id_number = build_world(private_engine)
        app = create_app(Settings(database_url=private_engine.url.render_as_string(hide_password=False)),
                         engine=private_engine, lifecycle_settings=LIFECYCLE)
        with TestClient(app) as client:
            yield World(client=client, engine=private_engine, sides=sides, staff_id=staff_id,
                        staff_id_number=id_number)
    finally:
        accounts._hasher = saved


def page_headers(headers: dict[str, str]) -> dict[str, str]:
    """The page session of an API login: the cookie holds the same token."""
    return {"Cookie": f"itembank_session={headers['Authorization'].split(' ', 1)[1]}"}


def page_csrf(headers: dict[str, str]) -> str:
    from api.web.session import csrf_for

    return csrf_for(headers["Authorization"].split(" ", 1)[1])


@dataclass
class Unopened:
    session_code: str
    paper_code: str


def seal_unopened(api: Api, *, code: str = "S-SEC") -> Unopened:
    """The fixture's bank (6-31-01-03) stocked, a paper assembled and sealed for a session
    that starts in ten minutes (its opening window is open), not yet confirmed by anyone."""
    from itembank.domain import Actor
    from itembank.occupations import get_bank_by_id

    s = api.session
    bank = get_bank_by_id(s, api.bank_id)
    _stock(s, bank, "Z")
    set_minimum_rule(s, part=Part.THEORY, minimum=100, actor="admin")
    set_minimum_rule(s, part=Part.PRACTICAL, minimum=0, actor="admin")
    stored = asvc.save_blueprint(s, bank=bank, blueprint=_blueprint(), actor="t")
    asvc.run_assembly(s, bank=bank, blueprint=stored, actor="t", params=asvc.RunParams(n_forms=1, n_backups=1))
    now = datetime.now(timezone.utc)
    create_exam_plan(s, code=f"PLAN-{code}", occupation_code=OCC, level=5, actor="t")
    create_exam_session(s, plan_code=f"PLAN-{code}", code=code, part="theory", starts_at=now + timedelta(minutes=10),
                        ends_at=now + timedelta(hours=2), place="A301", actor="t")
    sealed = sealing.seal_papers(s, exam_session_code=code, actor=Actor("sealer", [Role.EXAM_OFFICE], [OCC]),
                                 settings=LIFECYCLE, n_backups=1, assemble_if_needed=False)
    s.commit()
    return Unopened(session_code=code, paper_code=sealed.main.paper_code)


__all__ = ["Api", "World", "Side", "PASSWORD", "OCC", "OTHER_OCC", "Path"]
