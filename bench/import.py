"""Benchmark: import 10,000 items from .xlsx and from CSV (target: each under 30 s).

Reproduce:
    python bench/import.py                          # SQLite file in a temp dir
    python bench/import.py --items 10000 --baseline 500
    python bench/import.py --database-url postgresql+psycopg://user:pw@localhost/db   # EMPTY database

What is timed (each in its own transaction, commit included, file already on disk):
  xlsx        parse + validate + write 10,000 new items as accepted (legacy bank, batch reference)
  csv         the same rows as CSV into a second bank, as drafts of a registered writer
  re-import   the xlsx again: nothing changes (idempotent)
  revise 10%  the xlsx with 1,000 stems changed: 1,000 new versions in bulk
  baseline    the plain way in the same process: ``items.add_item`` one item at a time (its
              own validation, queries and ledger entry each), on a subset, scaled to the full count
Absolute times depend on the machine; the ratio to the baseline is the stable figure.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openpyxl import Workbook  # noqa: E402

from itembank.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from itembank.demo import element_nodes  # noqa: E402
from itembank.demo_content import ELECTRICIAN_TABLE  # noqa: E402
from itembank.domain import Actor, ItemContent, ItemType, Level, Option, Part, Role  # noqa: E402
from itembank.elements import save_element_table  # noqa: E402
from itembank.experts import grant_scope, register_expert  # noqa: E402
from itembank.imports import CSV_COLUMNS, SHEET_COLUMNS, import_items  # noqa: E402
from itembank.items import add_item  # noqa: E402
from itembank.occupations import create_bank, create_occupation  # noqa: E402

MANAGER = Actor("bench", frozenset({Role.BANK_MANAGER}))
TYPES = ("单项选择题",) * 6 + ("多项选择题",) * 2 + ("判断题", "填空题")


def rows(n: int, leaves: list[str], *, changed: int = 0) -> list[dict[str, object]]:
    out = []
    for i in range(n):
        t = TYPES[i % len(TYPES)]
        stem = f"第{i}题：关于电工作业安全，下列说法中正确的是（　）。" + ("（修订）" if i < changed else "")
        row: dict[str, object] = {"题目编号": f"B{i:05d}", "题型": t, "题干": stem, "分值": 1 if t != "多项选择题" else 2,
                                  "鉴定点": leaves[i % len(leaves)], "难度": 1 + i % 5, "预计用时(秒)": 60,
                                  "解析/评分标准": f"解析{i}", "命题人": "w1"}
        if t in ("单项选择题", "多项选择题"):
            row.update({f"选项{x}": f"选项{x}{i}" for x in "ABCD"})
            row["答案"] = "ABCD"[i % 4] if t == "单项选择题" else "AC"
        elif t == "判断题":
            row["答案"] = "正确" if i % 2 else "错误"
        else:
            row["题干"] = f"第{i}题：我国工频为____Hz。" + ("（修订）" if i < changed else "")
            row["答案"] = "50"
        out.append(row)
    return out


def to_xlsx(data: list[dict[str, object]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("理论知识")
    cols = SHEET_COLUMNS["理论知识"]
    ws.append(cols)
    for r in data:
        ws.append([r.get(c) for c in cols])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv(data: list[dict[str, object]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for r in data:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in CSV_COLUMNS])
    return buf.getvalue().encode("utf-8-sig")


def setup(Session, n_banks: int = 3):  # type: ignore[no-untyped-def]
    with Session() as s, s.begin():
        create_occupation(s, code="6-31-01-03", name="电工", category="technical_skill")
        banks = []
        for level in (Level.L5, Level.L4, Level.L3)[:n_banks]:
            b = create_bank(s, occupation_code="6-31-01-03", level=level)
            table = save_element_table(s, bank=b, part=Part.THEORY, nodes=element_nodes(ELECTRICIAN_TABLE),
                                       actor="bench")
            banks.append(b)
        register_expert(s, actor=MANAGER, username="w1", name="王一")
        grant_scope(s, actor=MANAGER, username="w1", occupation_code="6-31-01-03", role="writer",
                    years_in_occupation=8, certificate_level=2)
        return banks, [n.code for n in table.leaves()]


def timed(Session, fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    with Session() as s, s.begin():
        out = fn(s)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--baseline", type=int, default=500, help="items inserted one by one for the baseline")
    ap.add_argument("--database-url", default=None, help="an EMPTY database (default: temp SQLite)")
    args = ap.parse_args()
    n = args.items
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    engine = make_engine(url=url)
    upgrade(engine)
    Session = make_sessionmaker(engine)
    (bank_x, bank_c, bank_b), leaves = setup(Session)

    t0 = time.perf_counter()
    data = rows(n, leaves)
    xlsx, csv_bytes = to_xlsx(data), to_csv(data)
    xlsx_changed = to_xlsx(rows(n, leaves, changed=n // 10))
    gen_s = time.perf_counter() - t0

    t_x, rep_x = timed(Session, lambda s: import_items(s, actor=MANAGER, bank=bank_x, data=xlsx, filename="bank.xlsx",
                                                       mode="accepted", batch_ref="验收2024-01"))
    t_c, rep_c = timed(Session, lambda s: import_items(s, actor=MANAGER, bank=bank_c, data=csv_bytes,
                                                       filename="bank.csv"))
    t_r, rep_r = timed(Session, lambda s: import_items(s, actor=MANAGER, bank=bank_x, data=xlsx, filename="bank.xlsx",
                                                       mode="accepted", batch_ref="验收2024-01"))
    t_v, rep_v = timed(Session, lambda s: import_items(s, actor=MANAGER, bank=bank_x, data=xlsx_changed,
                                                       filename="bank-v2.xlsx", mode="accepted",
                                                       batch_ref="验收2024-01"))
    assert len(rep_x.created) == len(rep_c.created) == n and len(rep_r.unchanged) == n
    assert len(rep_v.revised) == n // 10

    def one_by_one(s):  # type: ignore[no-untyped-def]
        for r in data[: args.baseline]:
            t = {"单项选择题": ItemType.SINGLE_CHOICE, "多项选择题": ItemType.MULTIPLE_CHOICE,
                 "判断题": ItemType.TRUE_FALSE, "填空题": ItemType.FILL_IN}[r["题型"]]  # type: ignore[index]
            key = {"正确": ("T",), "错误": ("F",)}.get(str(r["答案"]), tuple(str(r["答案"])) if t.has_options
                                                    else (str(r["答案"]),))
            content = ItemContent(t, str(r["题干"]), float(r["分值"]), (str(r["鉴定点"]),),  # type: ignore[arg-type]
                                  options=tuple(Option(x, str(r[f"选项{x}"])) for x in "ABCD") if t.has_options else (),
                                  key=key, analysis=str(r["解析/评分标准"]), difficulty_rating=int(r["难度"]))  # type: ignore[call-overload]
            add_item(s, bank=bank_b, code=str(r["题目编号"]), content=content, actor="bench")
    t_b, _ = timed(Session, one_by_one)
    t_b_scaled = t_b * n / args.baseline

    print(f"database: {engine.dialect.name}; {n} items; files generated in {gen_s:.1f} s "
          f"(xlsx {len(xlsx) / 1e6:.1f} MB, csv {len(csv_bytes) / 1e6:.1f} MB)")
    print(f"{'what':<50}{'seconds':>9}{'items/s':>10}{'vs baseline':>13}")
    for label, secs in ((f"import xlsx, {n} new (accepted, legacy batch)", t_x),
                        (f"import csv, {n} new (drafts of a writer)", t_c),
                        (f"re-import xlsx, {n} unchanged", t_r),
                        (f"re-import xlsx, {n // 10} changed -> new versions", t_v),
                        (f"baseline add_item x{args.baseline}, scaled to {n}", t_b_scaled)):
        print(f"{label:<50}{secs:>9.2f}{n / secs:>10.0f}{t_b_scaled / secs:>12.1f}x")
    ok = max(t_x, t_c) < 30.0
    print(f"target: {n} items imported in under 30 s from xlsx and from csv -> {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
