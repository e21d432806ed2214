"""Benchmark: ``itembank.analysis_service.analyse_session`` on 20,000 candidates x 1,200 items.

Design (issue 5): one theory session of one bank; 1,200 accepted single-choice items, 12
non-overlapping papers of 100; each of 20,000 candidates sat one paper (2,000,000 recorded
responses, 92 % of the candidate x item cells missing by design). True 2PL parameters
a ~ lognormal(0, 0.25), b ~ N(0, 1), theta ~ N(0, 1), logistic metric D = 1, fixed seed;
a wrong answer picks one of the three distractors at random.

Set-up (not timed as part of the analysis): the bank is made with ``itembank.items.add_items``,
the plan, session and room with lifecycle's services; candidates, applications, tickets, seats
and the 2,000,000 response rows (the rows ``lifecycle.scoring.record_responses`` writes) are
inserted in bulk through the DBAPI, since the service takes ~20 ms per answer sheet.

Timed: ``analyse_session`` in one transaction, split into load (one Core query of the
responses + version metadata), CTT (12 ``analyse_form`` + ``analyse_distractors``),
calibration (``analysis.calibrate`` with XPD standard errors, then the item-fit screen),
write (calibration row, 1,200 ``item_statistics`` rows, 1,200 version updates, ledger) and
the commit; beside it the pure ``analysis.calibrate(ResponseData, "2pl")`` on the same
simulated data built straight from the arrays, so the database overhead is visible.

Reproduce (from the repository root)::

    python bench/analyse.py              # SQLite file in a temp dir
    python bench/analyse.py --quick      # 5,000 x 300
    python bench/analyse.py \\
        --database-url postgresql+psycopg://user:pw@localhost/db        # a private schema, dropped after

Measured on the shared 2-core development machine (2026-11-28, Python 3.11.7, numpy 2.4.6,
SQLite 3 file / PostgreSQL 15 local, seed 20261205; load average 3-4 from other jobs, so the
times move between runs by up to ~40 %; the RMSEs do not):

=============  ======  ======  ===========  =====  =====  ======  =====================
database       load    CTT     calibration  fit    write  total   pure calibrate
=============  ======  ======  ===========  =====  =====  ======  =====================
SQLite         6.5 s   0.6 s   3.2 s        3.6 s  0.6 s  14.6 s  2.2 s
PostgreSQL     5.2 s   0.6 s   2.5 s        1.7 s  0.6 s  10.7 s  1.8 s
=============  ======  ======  ===========  =====  =====  ======  =====================

RMSE(a) 0.0805, RMSE(b) 0.0931 in the service and in the pure calibration alike (14 EM
iterations, XPD standard errors); 81 of 1,200 items flagged (68 too hard, 12 too easy, 12 with
a distractor the upper group prefers: the 2PL simulation has no guessing, so on the hardest
items each distractor beats the key; 1 misfit at p < 0.001, the expected false-alarm rate).
The set-up takes 90-120 s (2,000,000 rows). Earlier runs: SQLite total 8.7-14.7 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from analysis import ResponseData, calibrate  # noqa: E402
from itembank.analysis_service import analyse_session  # noqa: E402
from itembank.db import make_engine, upgrade  # noqa: E402
from itembank.domain import (  # noqa: E402
    ElementNode,
    Importance,
    ItemContent,
    ItemType,
    Level,
    OccupationCategory,
    Option,
    Part,
    VersionState,
)
from itembank.elements import save_element_table  # noqa: E402
from itembank.items import NewItem, add_items  # noqa: E402
from itembank.occupations import create_bank, create_occupation  # noqa: E402
from itembank.orm import BankRecord  # noqa: E402
from itembank.orm_lifecycle import ExamPlanRecord, ExamRoomRecord, ExamSessionRecord  # noqa: E402
from lifecycle.sessions import add_room, create_exam_plan, create_exam_session  # noqa: E402

LABELS = "ABCD"
TABLE = [
    ElementNode("A", "基本要求", 40.0),
    ElementNode("A-01", "职业道德", 20.0, "A", Importance.X),
    ElementNode("A-02", "基础知识", 20.0, "A", Importance.Y),
    ElementNode("B", "相关知识", 60.0),
    ElementNode("B-01", "工具仪表", 30.0, "B", Importance.X),
    ElementNode("B-02", "安全用电", 30.0, "B", Importance.Z),
]
LEAVES = ["A-01", "A-02", "B-01", "B-02"]


def rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(x, float) - np.asarray(y, float)) ** 2)))


def build(session: Session, rng: np.random.Generator, n_persons: int, n_items: int, n_forms: int):  # type: ignore[no-untyped-def]
    """Bank, session and recorded responses; returns what the comparison needs."""
    create_occupation(session, code="6-31-01-03", name="电工", category=OccupationCategory.TECHNICAL_SKILL)
    bank = create_bank(session, occupation_code="6-31-01-03", level=Level.L4)
    save_element_table(session, bank=bank, part=Part.THEORY, nodes=TABLE, actor="bench")
    keys = rng.integers(0, 4, n_items)
    items = [
        NewItem(f"B4-T-{j + 1:05d}", ItemContent(
            item_type=ItemType.SINGLE_CHOICE, stem=f"第{j + 1}题：下列说法正确的是（　）。", points=1.0,
            element_codes=(LEAVES[j % 4],), options=tuple(Option(x, f"选项{x}{j}") for x in LABELS),
            key=(LABELS[keys[j]],)))
        for j in range(n_items)
    ]
    created = add_items(session, bank=bank, items=items, actor="bench", state=VersionState.ACCEPTED)
    version_ids = np.array([it.version_id for it in created], dtype=np.int64)

    day = date(2026, 12, 5)
    cst = timezone(timedelta(hours=8))
    create_exam_plan(session, code="BENCH-PLAN", occupation_code="6-31-01-03", level=4, actor="bench")
    create_exam_session(session, plan_code="BENCH-PLAN", code="BENCH-T", part=Part.THEORY,
                        starts_at=datetime(2026, 12, 5, 9, tzinfo=cst),
                        ends_at=datetime(2026, 12, 5, 11, tzinfo=cst), place="考点", actor="bench")
    add_room(session, session_code="BENCH-T", code="ALL", capacity=n_persons, actor="bench")
    plan_id = session.scalar(select(ExamPlanRecord.id).where(ExamPlanRecord.code == "BENCH-PLAN"))
    session_id = session.scalar(select(ExamSessionRecord.id).where(ExamSessionRecord.code == "BENCH-T"))
    room_id = session.scalar(select(ExamRoomRecord.id).where(ExamRoomRecord.session_id == session_id))
    occ_id = session.scalar(select(BankRecord.occupation_id).where(BankRecord.id == bank.id))

    conn = session.connection()
    dbapi = conn.connection.driver_connection
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"

    def bulk(sql: str, rows: list[tuple]) -> None:
        cur = dbapi.cursor()
        for i in range(0, len(rows), 100_000):
            cur.executemany(sql.replace("?", mark), rows[i : i + 100_000])
        cur.close()

    now = datetime.now(timezone.utc)
    base = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM candidates")).scalar())
    cand_ids = np.arange(base + 1, base + 1 + n_persons)
    bulk("INSERT INTO candidates (id, name, id_type, id_number, phone, email, employer, created_by, created_at) "
         "VALUES (?, ?, 'passport', ?, '', '', '', 'bench', ?)",
         [(int(c), f"考生{k}", f"BENCH{k:08d}", now) for k, c in enumerate(cand_ids)])
    bulk("INSERT INTO applications (id, candidate_id, occupation_id, level, plan_id, status, declaration, "
         "documents, matched_rule, refusal_reasons, status_reason, applied_on, created_by, created_at) "
         "VALUES (?, ?, ?, 4, ?, 'accepted', '{}', '[]', '', '[]', '', ?, 'bench', ?)",
         [(int(c), int(c), occ_id, plan_id, date(2026, 11, 1), now) for c in cand_ids])
    bulk("INSERT INTO admission_tickets (id, number, application_id, plan_id, issued_by, issued_at) "
         "VALUES (?, ?, ?, ?, 'bench', ?)",
         [(int(c), f"B{c:09d}", int(c), plan_id, now) for c in cand_ids])
    bulk("INSERT INTO seat_assignments (ticket_id, session_id, room_id, seat_no) VALUES (?, ?, ?, ?)",
         [(int(c), session_id, room_id, k + 1) for k, c in enumerate(cand_ids)])

    # simulate: each candidate sits one of n_forms non-overlapping papers
    per_form = n_items // n_forms
    a = rng.lognormal(0.0, 0.25, n_items)
    b = rng.normal(0.0, 1.0, n_items)
    thetas = rng.normal(size=n_persons)
    form = rng.integers(0, n_forms, n_persons)
    persons = np.repeat(np.arange(n_persons), per_form)
    positions = np.tile(np.arange(1, per_form + 1), n_persons)
    items = (form[:, None] * per_form + np.arange(per_form)[None, :]).ravel()
    p = 1.0 / (1.0 + np.exp(-a[items] * (thetas[persons] - b[items])))
    correct = rng.random(p.size) < p
    wrong = (keys[items] + rng.integers(1, 4, p.size)) % 4
    chosen = np.where(correct, keys[items], wrong)
    answers = [f'["{x}"]' for x in LABELS]
    chosen_text = [answers[x] for x in chosen.tolist()]
    app_of = cand_ids[persons].tolist()
    vid_of = version_ids[items].tolist()
    papers = [f"BENCH-T-{f + 1:02d}" for f in range(n_forms)]
    paper_of = [papers[f] for f in form[persons].tolist()]
    score_of = correct.astype(float).tolist()
    bulk("INSERT INTO responses (application_id, session_id, paper_code, position, item_version_id, response, "
         "score, max_points, flagged, recorded_at, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1.0, ?, ?, ?)",
         list(zip(app_of, [session_id] * p.size, paper_of, positions.tolist(), vid_of, chosen_text,
                  score_of, [False] * p.size, [now] * p.size, [now] * p.size)))
    data = ResponseData.from_triples(persons, items, correct.astype(np.int64), n_persons=n_persons,
                                     n_items=n_items)
    return version_ids, a, b, data


def main() -> None:
    from itembank import i18n

    i18n.set_locale("en")  # the report's texts (messages of the catalog) in English
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 x 300 instead of 20,000 x 1,200")
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temp dir")
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--model", default=None, choices=["2pl", "3pl", "rasch", "1pl"],
                        help="model of the 0/1 items (default: the service's choice, 2pl for this bank)")
    args = parser.parse_args()
    n_persons, n_items, n_forms = (5_000, 300, 12) if args.quick else (20_000, 1_200, 12)

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    schema = None
    if url.startswith("sqlite"):
        engine = make_engine(url=url)
    else:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with make_engine(url=url).begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"database {engine.dialect.name}")
    print(f"design: {n_persons} candidates x {n_items} items, one of {n_forms} non-overlapping "
          f"{n_items // n_forms}-item papers each (seed {args.seed})")
    try:
        rng = np.random.default_rng(args.seed)
        t0 = time.perf_counter()
        with Session(engine) as s, s.begin():
            version_ids, a_true, b_true, data = build(s, rng, n_persons, n_items, n_forms)
        print(f"set-up (bank, session, {data.n_responses} response rows; not part of the analysis): "
              f"{time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        with Session(engine) as s, s.begin():
            rep = analyse_session(s, session_code="BENCH-T", actor="bench", model=args.model)
            t_commit = time.perf_counter()
        commit = time.perf_counter() - t_commit
        total = time.perf_counter() - t0
        tm = rep.timings
        by_vid = {it.version_id: it for it in rep.items}
        est_a = np.array([by_vid[int(v)].a for v in version_ids])
        est_b = np.array([by_vid[int(v)].b for v in version_ids])
        c = rep.calibration
        print("\nanalyse_session (one transaction):")
        for k in ("load", "ctt", "calibration", "fit", "write"):
            print(f"  {k:<12}{tm[k]:7.2f} s")
        print(f"  {'commit':<12}{commit:7.2f} s")
        print(f"  {'total':<12}{total:7.2f} s   RMSE(a) {rmse(est_a, a_true):.4f}  RMSE(b) {rmse(est_b, b_true):.4f}"
              f"  ({c.convergence.message if c.convergence else 'no IRT'}; SEs {c.convergence.se_method if c.convergence else '-'};"
              f" {len(rep.needing_review)} items flagged)")

        t0 = time.perf_counter()
        pure = calibrate(data, "2pl")
        pure_s = time.perf_counter() - t0
        print(f"\npure analysis.calibrate on the same data: {pure_s:.2f} s   RMSE(a) "
              f"{rmse(pure.params.a, a_true):.4f}  RMSE(b) {rmse(pure.params.b, b_true):.4f}  "
              f"({pure.message.english()}; SEs {pure.se_method})")
        db = tm["load"] + tm["write"] + commit
        print(f"database work of the service (load + write + commit): {db:.2f} s; classical statistics "
              f"and item fit: {tm['ctt'] + tm['fit']:.2f} s; calibration in the service "
              f"{tm['calibration']:.2f} s vs pure {pure_s:.2f} s")
        counts: dict[str, int] = {}
        for it in rep.items:
            for f in it.flags:
                counts[f] = counts.get(f, 0) + 1
        print("flags: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    finally:
        engine.dispose()
        if schema is not None:
            with make_engine(url=url).begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        tmp.cleanup()


if __name__ == "__main__":
    main()
