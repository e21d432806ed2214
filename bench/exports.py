"""Benchmark: render a 100-item theory paper (80 single choice + 20 true/false) and its key.

Reproduce (from the repository root):
    python bench/exports.py                    # demo bank in a temp SQLite file, 7 repeats
    python bench/exports.py --repeat 15

Builds the level-5 electrician demo bank (``itembank.demo.build_demo``), takes the first 80
single choice and 20 true/false items as a ``Paper`` and prints the median time of each
export beside two baselines measured in the same process:

- the answer key and the paper on their own (the key's grid is tables, the paper is
  paragraphs: which one dominates);
- a naive renderer of the same paper text that styles every run and paragraph directly
  (``run.font.name``, an East Asian ``w:rFonts`` per run, size, spacing and tab stops per
  paragraph) and sets styles by name through python-docx, instead of our named styles with
  explicit fonts, pruned template styles and ``w:pStyle`` written directly.

Ratios are stable on a noisy machine; absolute times are not. Target: paper + key under 0.5 s.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docx  # noqa: E402
from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Cm, Pt  # noqa: E402

from exports import render_answer_key, render_theory_paper, text_manifest  # noqa: E402
from exports.sections import paper_sections  # noqa: E402
from exports.wording import notes_to_candidates  # noqa: E402
from itembank.db import make_engine, transaction, upgrade  # noqa: E402
from itembank.demo import DemoBankSpec, build_demo  # noqa: E402
from itembank.domain import ItemType, Level, Paper, PaperKind, Part  # noqa: E402
from itembank.pool import load_pool  # noqa: E402


def demo_paper(tmp: Path) -> Paper:
    engine = make_engine(url=f"sqlite:///{tmp / 'bench.db'}")
    upgrade(engine)
    with transaction(engine) as session:
        summary = build_demo(session, seed=1, specs=(DemoBankSpec("electrician", Level.L5, n_theory=300,
                                                                   n_practical=20, n_past_sessions=0,
                                                                   n_compromised=0),))
        bank = summary.banks[0]
        pool = load_pool(session, bank=bank, part=Part.THEORY)
    engine.dispose()
    singles = [it for it in pool if it.item_type is ItemType.SINGLE_CHOICE][:80]
    tfs = [it for it in pool if it.item_type is ItemType.TRUE_FALSE][:20]
    return Paper(code="DG5-BENCH-A", occupation=bank.occupation, level=Level.L5, part=Part.THEORY, form_label="A",
                 kind=PaperKind.FORM, items=tuple(singles + tfs), time_allowed_min=120,
                 created_at=datetime(2026, 3, 1))


def naive_paper(paper: Paper) -> bytes:
    """The same text with direct formatting on every run and paragraph (the baseline)."""
    doc = docx.Document()

    def styled(text: str, *, size: float = 10.5, east_asia: str = "宋体", bold: bool = False,
               align: WD_ALIGN_PARAGRAPH | None = None, style: str | None = None, tabs: int = 0,
               keep_next: bool = False) -> None:
        p = doc.add_paragraph(style=style)  # by name: python-docx looks the style up each time
        pf = p.paragraph_format
        pf.space_before, pf.space_after, pf.line_spacing = Pt(0), Pt(0), 1.25
        pf.keep_with_next = keep_next
        if align is not None:
            pf.alignment = align
        for k in range(1, tabs):
            pf.tab_stops.add_tab_stop(Cm(0.74 + k * 15.06 / tabs))
        for piece in text.split("\t"):
            r = p.add_run(piece)
            r.font.name = "Times New Roman"
            r.font.size = Pt(size)
            r.font.bold = bold
            r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)
            if piece is not text.split("\t")[-1]:
                p.add_run("\t")

    styled(paper.centre_name, size=16, east_asia="黑体", align=WD_ALIGN_PARAGRAPH.CENTER, style="Normal")
    styled(paper.title, size=18, east_asia="黑体", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, style="Normal")
    for i, note in enumerate(notes_to_candidates(paper, answer_sheet=False), start=1):
        styled(f"{i}．{note}", style="Normal")
    for section in paper_sections(paper):
        styled(section.heading(), size=12, east_asia="黑体", keep_next=True, style="Normal")
        for numbered in section.items:
            it = numbered.item
            prefix = "（\u3000\u3000）" if it.item_type is ItemType.TRUE_FALSE else ""
            styled(f"{numbered.number}．{prefix}{it.content.stem}", keep_next=True, style="Normal")
            opts = [f"{o.label}．{o.text}" for o in it.content.options]
            for k in range(0, len(opts), 2):
                styled("\t".join(opts[k:k + 2]), tabs=2, style="Normal")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def timed(fn: Callable[[], bytes], repeat: int) -> tuple[float, bytes]:
    times, out = [], b""
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paper = demo_paper(Path(tmp))
    render_theory_paper(paper)  # warm up imports and caches
    naive_paper(paper)
    t_paper, paper_bytes = timed(lambda: render_theory_paper(paper), args.repeat)
    t_key, key_bytes = timed(lambda: render_answer_key(paper), args.repeat)
    t_both, _ = timed(lambda: render_theory_paper(paper) + render_answer_key(paper), args.repeat)
    t_naive, naive_bytes = timed(lambda: naive_paper(paper), args.repeat)
    t_manifest, _ = timed(lambda: text_manifest(paper_bytes).encode(), args.repeat)
    print(f"paper {paper.code}: {len(paper.items)} items, {paper.total_points:g} points; "
          f"median of {args.repeat} runs")
    print(f"{'method':<44}{'median s':>10}{'KiB':>8}{'ratio':>8}")
    rows = [
        ("paper + key (exports)", t_both, len(paper_bytes) + len(key_bytes), t_both / t_paper),
        ("paper (exports: named styles)", t_paper, len(paper_bytes), 1.0),
        ("answer key (exports)", t_key, len(key_bytes), t_key / t_paper),
        ("paper, naive per-run styling (baseline)", t_naive, len(naive_bytes), t_naive / t_paper),
        ("text_manifest of the paper", t_manifest, 0, t_manifest / t_paper),
    ]
    for name, t, size, ratio in rows:
        print(f"{name:<44}{t:>10.3f}{size / 1024:>8.0f}{ratio:>8.2f}")
    print(f"target: paper + key under 0.5 s -> {'met' if t_both < 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
