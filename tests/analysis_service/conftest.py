"""A simulated world built once per test run (per database) and committed to a private
database; each test works in a transaction that is rolled back.

Bank: the demo electrician bank at level 5 (80 theory items) plus two rubric-scored short
answers. True parameters: a ~ lognormal(0, 0.25), b ~ N(0, 1) (logistic metric, D = 1),
rubric items GPCM with a = 1 and steps (-1.5, -0.6, 0, 0.6, 1.5); fixed seed.

* Session S1 (theta ~ N(0, 1)): paper A (350 candidates) and paper B (350) share 10 items
  (8 objective and both short answers) and have 20 items of their own; backup paper C
  (60 candidates) has 5 of the common items and 10 of its own (too few responses for IRT).
  Planted: A's first own item is miskeyed (able candidates choose option ``true_option``),
  B's first own item is very easy (b = -3.5).
* Session S2 (theta ~ N(0.5, 1), a later cohort): paper D (450 candidates) with 15 items
  calibrated in S1 (anchors) and 15 new items.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from itembank.db import make_engine, upgrade
from itembank.demo import DemoBankSpec, build_demo
from itembank.domain import BankRef, ItemType, Level, Part
from itembank.orm import BankRecord
from itembank.orm_lifecycle import ExamPlanRecord
from itembank.pool import load_pool
from lifecycle.sessions import create_exam_plan

from .simulation import (
    Paper,
    TrueItem,
    add_short_answers,
    enrol,
    lifecycle_settings,
    make_session,
    simulate_answers,
    write_sheets,
)

SEED = 20261205
SPEC = DemoBankSpec("electrician", Level.L5, n_theory=80, n_practical=2, n_past_sessions=0,
                    n_compromised=0)
N_A, N_B, N_C, N_D = 350, 350, 60, 450
N_SERVICES = 25  # sheets per paper recorded through lifecycle.record_responses


@dataclass
class World:
    where: str  # SQLite URL or PostgreSQL schema
    bank: BankRef
    s1: str
    s2: str
    papers: dict[str, Paper]
    truth: dict[str, TrueItem]  # by item code
    miskeyed: TrueItem
    easy: TrueItem
    backup_only: list[str]  # codes of the items only on backup paper C
    new_in_s2: list[str]
    anchors_in_s2: list[str]


def build_world(session: Session, url: str) -> World:
    rng = np.random.default_rng(SEED)
    bank = build_demo(session, seed=SEED, specs=(SPEC,)).banks[0]
    pool = load_pool(session, bank=bank, part=Part.THEORY)
    objective = [it for it in pool if it.item_type.is_objective]
    singles = [it for it in objective if it.item_type is ItemType.SINGLE_CHOICE]
    others = [it for it in objective if it.item_type is not ItemType.SINGLE_CHOICE]
    short = add_short_answers(session, bank=bank, n=2, element=pool[0].content.element_codes[0])

    def true(it, **kw) -> TrueItem:  # type: ignore[no-untyped-def]
        a = float(np.exp(rng.normal(0.0, 0.25)))
        b = float(np.clip(rng.normal(0.0, 1.0), -2.2, 2.2))
        return TrueItem(it, kw.pop("a", a), kw.pop("b", b), **kw)

    # the miskeyed and the easy item are single choice; the rest mixes the item types
    bad = singles[0]
    miskeyed = true(bad, a=1.4, b=-0.3,
                    true_option=next(o.label for o in bad.content.options if o.label not in bad.content.key))
    easy = true(singles[1], a=1.0, b=-3.5)
    rest = singles[2:] + others
    order = rng.permutation(len(rest))
    rest = [rest[i] for i in order]
    common = [true(it) for it in rest[:8]] + [
        TrueItem(it, 1.0, 0.0, thresholds=(-1.5, -0.6, 0.0, 0.6, 1.5)) for it in short]
    own_a = [miskeyed] + [true(it) for it in rest[8:27]]
    own_b = [easy] + [true(it) for it in rest[27:46]]
    own_c = [true(it) for it in rest[46:56]]
    new_d = [true(it) for it in rest[56:71]]
    assert len(new_d) == 15, "the demo bank has too few objective items"
    papers = {
        "S1-A": Paper("S1-A", common[:5] + own_a + common[5:]),
        "S1-B": Paper("S1-B", own_b[:10] + common + own_b[10:]),
        "S1-C": Paper("S1-C", common[:5] + own_c),
        # anchors: good items calibrated in S1 (not the planted ones)
        "S2-D": Paper("S2-D", own_a[1:8] + own_b[1:8] + common[:1] + new_d),
    }
    truth = {ti.code: ti for p in papers.values() for ti in p.items}

    settings = lifecycle_settings()
    occ = bank.occupation.code
    create_exam_plan(session, code="2026-DG5-AN", occupation_code=occ, level=5, actor="office")
    plan = session.scalar(select(ExamPlanRecord).where(ExamPlanRecord.code == "2026-DG5-AN"))
    occupation_id = session.scalar(select(BankRecord.occupation_id).where(BankRecord.id == bank.id))
    assert plan is not None and occupation_id is not None
    s1, s2 = "2026-DG5-AN-T1", "2026-DG5-AN-T2"
    sid1 = make_session(session, plan_code=plan.code, code=s1, day=date(2026, 12, 5),
                        capacity=N_A + N_B + N_C)
    sid2 = make_session(session, plan_code=plan.code, code=s2, day=date(2027, 3, 6), capacity=N_D)
    first = 0
    for sess_code, sid, mean, plan_papers in (
        (s1, sid1, 0.0, [("S1-A", N_A), ("S1-B", N_B), ("S1-C", N_C)]),
        (s2, sid2, 0.5, [("S2-D", N_D)]),
    ):
        for code, n in plan_papers:
            apps = enrol(session, plan_id=plan.id, occupation_id=occupation_id, session_code=sess_code,
                         n=n, first=first)
            first += n
            thetas = rng.normal(mean, 1.0, n)
            sheets = simulate_answers(rng, papers[code], thetas)
            write_sheets(session, session_code=sess_code, session_id=sid, paper=papers[code],
                         app_ids=apps, sheets=sheets, n_services=N_SERVICES, settings=settings)
    return World(url, bank, s1, s2, papers, truth, miskeyed, easy, [ti.code for ti in own_c],
                 [ti.code for ti in new_d], [ti.code for ti in papers["S2-D"].items[:15]])


@pytest.fixture(scope="session")
def world_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, str]]:
    """A private migrated database: (engine, SQLite URL) or (engine, PostgreSQL schema name)."""
    url = os.environ.get("ITEMBANK_TEST_DATABASE_URL")
    if url:
        schema = f"ana_{uuid.uuid4().hex[:10]}"
        admin = make_engine(url=url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        # search_path through connect_args: a percent-encoded URL option would trip Alembic's
        # config interpolation in itembank.db.alembic_config
        eng = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
        upgrade(eng)
        yield eng, schema
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
        return
    path: Path = tmp_path_factory.mktemp("analysis") / "world.db"
    world_url = f"sqlite:///{path}"
    eng = make_engine(url=world_url)
    upgrade(eng)
    yield eng, world_url
    eng.dispose()


@pytest.fixture(scope="session")
def world(world_engine: tuple[Engine, str]) -> World:
    eng, url = world_engine
    with Session(eng) as s, s.begin():
        return build_world(s, url)


@pytest.fixture()
def db(world_engine: tuple[Engine, str], world: World) -> Iterator[Session]:
    """A session on the world's database whose work is rolled back after the test."""
    eng, _url = world_engine
    conn = eng.connect()
    outer = conn.begin()
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        conn.close()


def english(text: object) -> str:
    """A stored message (note, reason, error item) in English, whatever the current locale."""
    from analysis.messages import Message

    return text.english() if isinstance(text, Message) else str(text)
