"""Benchmark: load a 10,000-item pool with statistics, usage and enemies into domain objects.

Reproduce:
    python bench/bank.py                       # SQLite file in a temp dir
    python bench/bank.py --items 10000 --repeat 7
    python bench/bank.py --database-url postgresql+psycopg://user:pw@localhost/db   # empty database

Prints the median time of ``itembank.pool.load_pool`` beside a baseline in the same process:
the plain ORM way (select the version rows with ``selectinload`` of item and element tags,
then convert each through ``item_from_records`` and look up enemies per item). Ratios are
stable on a noisy machine; absolute times are not. Target: load_pool under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from itembank.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from itembank.demo import element_nodes  # noqa: E402
from itembank.demo_content import ELECTRICIAN_TABLE  # noqa: E402
from itembank.domain import (  # noqa: E402
    ClassicalStats,
    IrtModel,
    IrtParams,
    ItemContent,
    ItemType,
    Level,
    Option,
    Part,
    VersionState,
)
from itembank.elements import save_element_table  # noqa: E402
from itembank.items import NewItem, add_enemies, add_items, enemy_codes, item_from_records  # noqa: E402
from itembank.occupations import create_bank, create_occupation  # noqa: E402
from itembank.orm import ItemRecord, ItemVersionRecord  # noqa: E402
from itembank.pool import load_pool  # noqa: E402
from itembank.usage import record_usage  # noqa: E402


def build(session, n_items: int, seed: int = 1):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    create_occupation(session, code="6-31-01-03", name="电工", category="technical_skill")
    bank = create_bank(session, occupation_code="6-31-01-03", level=Level.L4)
    table = save_element_table(session, bank=bank, part=Part.THEORY, nodes=element_nodes(ELECTRICIAN_TABLE), actor="bench")
    leaves = [n.code for n in table.leaves()]
    items = []
    for i in range(n_items):
        a, b = float(np.exp(rng.normal(0, 0.3))), float(rng.normal())
        items.append(NewItem(
            f"B{i:05d}",
            ItemContent(ItemType.SINGLE_CHOICE, f"第{i}题：下列说法中正确的是（　）。", 1.0,
                        (leaves[i % len(leaves)],),
                        options=tuple(Option(x, f"选项{x}{i}") for x in "ABCD"), key=("ABCD"[i % 4],),
                        difficulty_rating=int(rng.integers(1, 6))),
            classical=ClassicalStats(float(rng.uniform(0.2, 0.9)), float(rng.uniform(0.1, 0.6)), 300),
            irt=IrtParams(IrtModel.THREE_PL, a=a, b=b, c=0.2, se_a=0.05, se_b=0.05, se_c=0.02),
        ))
    made = add_items(session, bank=bank, items=items, actor="bench", state=VersionState.ACCEPTED)
    add_enemies(session, bank=bank, pairs=[(f"B{2 * k:05d}", f"B{2 * k + 1:05d}") for k in range(n_items // 20)], actor="bench")
    vids = [it.version_id for it in made]
    for s in range(10):
        pick = rng.choice(len(vids), size=min(100, len(vids)), replace=False)
        record_usage(session, version_ids=[vids[j] for j in pick], paper_code=f"P{s}", session_code=f"S{s}",
                     used_on=date(2026, 1 + s, 1), actor="bench")
    return bank


def orm_baseline(session, bank):  # type: ignore[no-untyped-def]
    rows = session.scalars(
        select(ItemVersionRecord)
        .join(ItemRecord, ItemRecord.id == ItemVersionRecord.item_id)
        .where(ItemRecord.bank_id == bank.id, ItemVersionRecord.state == VersionState.ACCEPTED)
        .options(selectinload(ItemVersionRecord.item), selectinload(ItemVersionRecord.elements))
    ).all()
    return [item_from_records(v.item, v, enemies=enemy_codes(session, item_id=v.item_id), bank=bank) for v in rows]


def timed(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--database-url", default=None, help="an EMPTY database (default: temp SQLite)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    engine = make_engine(url=url)
    upgrade(engine)
    Session = make_sessionmaker(engine)
    t0 = time.perf_counter()
    with Session() as s, s.begin():
        bank = build(s, args.items)
    build_s = time.perf_counter() - t0
    with Session() as s:
        t_pool, pool = timed(lambda: load_pool(s, bank=bank), args.repeat)
        t_orm, orm = timed(lambda: orm_baseline(s, bank), max(1, args.repeat // 2))
    assert len(pool) == len(orm) == args.items  # type: ignore[arg-type]
    used = sum(1 for it in pool if it.usage.count)  # type: ignore[union-attr]
    print(f"database: {engine.dialect.name}; {args.items} items built in {build_s:.1f} s "
          f"({args.items / build_s:.0f} items/s); {used} with usage")
    print(f"{'method':<34}{'median s':>10}{'items/s':>12}{'ratio':>8}")
    print(f"{'load_pool (3 queries)':<34}{t_pool:>10.3f}{args.items / t_pool:>12.0f}{1.0:>8.1f}")
    print(f"{'ORM objects + per-item enemies':<34}{t_orm:>10.3f}{args.items / t_orm:>12.0f}{t_orm / t_pool:>8.1f}")
    print(f"target: load_pool under 1 s -> {'met' if t_pool < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
