"""Each level's standard blueprint on the demo banks (issue 4: tests on the demo bank).

The full demo (电工 levels 5, 4, 3, 2 and the short 计算机程序设计员 bank) is built once in a
private database; for every level the standard theory and practical blueprints are derived
from the element table, two papers and a backup assembled, and each paper re-checked
independently of the solver.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from itembank import assembly_service as svc
from itembank.db import make_engine, upgrade
from itembank.demo import build_demo
from itembank.domain import BankRef, Level, Part


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Session, dict[int, BankRef]]]:
    url = os.environ.get("ITEMBANK_TEST_DATABASE_URL")
    schema = None
    if url:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(url=url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    else:
        engine = make_engine(url=f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    upgrade(engine)
    session = sessionmaker(bind=engine)()
    summary = build_demo(session)
    session.commit()
    banks = {int(b.level): b for b in summary.banks if b.occupation.code == "6-31-01-03"}
    try:
        yield session, banks
    finally:
        session.close()
        engine.dispose()
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


@pytest.mark.parametrize("level", [5, 4, 3, 2])
@pytest.mark.parametrize("part", [Part.THEORY, Part.PRACTICAL])
def test_standard_blueprint_assembles_on_the_demo_bank(demo, level: int, part: Part) -> None:  # type: ignore[no-untyped-def]
    session, banks = demo
    bank = banks[level]
    nested = session.begin_nested()  # each test's blueprints and papers are rolled back
    stored = svc.derive_standard_blueprint(session, bank=bank, part=part, actor="test")
    n_forms, n_backups = (2, 1) if part is Part.THEORY else (1, 1)
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="test",  # type: ignore[arg-type]
                           params=svc.RunParams(n_forms=n_forms, n_backups=n_backups, time_limit_s=60))
    assert run.outcome in ("optimal", "feasible"), run.message
    papers = [svc.get_paper(session, code=c) for c in run.paper_codes]
    assert len(papers) == n_forms + n_backups
    bp = stored.blueprint  # type: ignore[union-attr]
    for view in papers:
        assert len(view.paper.items) == bp.n_items
        if bp.total_points is not None:
            assert view.paper.total_points == pytest.approx(bp.total_points)
        assert svc.recheck_paper(session, code=view.paper.code).ok
    codes = [it.code for v in papers for it in v.paper.items]
    assert len(codes) == len(set(codes)), "papers are disjoint"
    if part is Part.THEORY and Level(level) in (Level.L2, Level.L1):
        types = {it.item_type.value for v in papers for it in v.paper.items}
        assert types & {"short_answer", "calculation", "essay"}, "levels 2-1 mix in subjective items (附件1 第16条)"
    nested.rollback()
