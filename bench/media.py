"""Benchmark: pictures of items (issue 17) — checking, storing, reading and printing them.

Reproduce (from the repository root):
    python bench/media.py                      # SQLite in a temp directory, 5 repeats
    python bench/media.py --repeat 9
    ITEMBANK_DATABASE_URL=postgresql+psycopg://... python bench/media.py   # on PostgreSQL

Prints median times beside a baseline measured in the same process:

1. ``check_picture`` (type by content, header limits, decode, re-encode) of a 1600 x 1000
   wiring drawing (PNG), a 4000 x 3000 phone photo (JPEG, scaled to 2400) and a circuit
   diagram (SVG, rasterized to 2000 px) — beside Pillow only decoding the same file;
2. ``read_picture`` (need-to-know over the items showing it, the ledger entry, the hash check)
   — beside a bare ``SELECT data`` of the same blob;
3. a 100-item theory paper of which 20 items show a picture — beside the same paper without.

Ratios are stable on a noisy machine; absolute times are not.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw  # noqa: E402
from sqlalchemy import select  # noqa: E402

from exports import render_theory_paper  # noqa: E402
from itembank import media, workflow  # noqa: E402
from itembank.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from itembank.domain import (  # noqa: E402
    Actor, ElementNode, Importance, Item, ItemContent, ItemType, Level, Occupation, OccupationCategory, Option,
    Paper, PaperKind, Part, Role, VersionState,
)
from itembank.elements import save_element_table  # noqa: E402
from itembank.experts import ExpertRole, TitleRank, grant_scope, register_expert  # noqa: E402
from itembank.occupations import create_bank, create_occupation  # noqa: E402
from itembank.orm_media import MediaBlobRecord  # noqa: E402

OCC = "6-31-01-03"


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def drawing(width: int = 1600, height: int = 1000, seed: int = 0) -> bytes:
    im = Image.new("L", (width, height), 255)
    d = ImageDraw.Draw(im)
    for i in range(40):
        x = (i * 37 + seed * 11) % (width - 100)
        d.rectangle((x, 50 + i * 20, x + 90, 80 + i * 20), outline=0, width=3)
        d.line((0, 60 + i * 21, width, 70 + i * 19), fill=0, width=2)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def photo(width: int = 4000, height: int = 3000) -> bytes:
    r = Image.linear_gradient("L").resize((width, height))
    g = Image.radial_gradient("L").resize((width, height))
    im = Image.merge("RGB", (r, g, r.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92)
    return buf.getvalue()


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="300mm" height="150mm" viewBox="0 0 300 150">'
       + "".join(f'<rect x="{10 + 9 * i}" y="{20 + (i % 7) * 15}" width="8" height="12" fill="none" stroke="black"/>'
                 for i in range(30))
       + '<path d="M10 10 H290 V140 H10 Z" fill="none" stroke="black"/><text x="20" y="130" font-size="10">'
         'KM1 接触器 电阻 R1</text></svg>').encode("utf-8")


def bench_checks(repeat: int) -> None:
    print("1. checking one file: check_picture vs Pillow decoding only")
    for name, data, kind in (("wiring drawing 1600x1000 PNG", drawing(), "PNG"),
                             ("phone photo 4000x3000 JPEG", photo(), "JPEG"), ("circuit diagram SVG", SVG, None)):
        ours = timed(lambda: media.check_picture(data), repeat)
        if kind:
            base = timed(lambda: Image.open(io.BytesIO(data), formats=[kind]).load(), repeat)
            print(f"   {name:32s} {len(data) / 1024:8.0f} kB  check {ours * 1000:7.1f} ms   decode only "
                  f"{base * 1000:7.1f} ms   x{ours / base:4.1f}")
        else:
            print(f"   {name:32s} {len(data) / 1024:8.0f} kB  check {ours * 1000:7.1f} ms   (no Pillow baseline: "
                  "the rasterizing is the work)")


def bench_reads(url: str, repeat: int) -> None:
    engine = make_engine(url=url)
    upgrade(engine)
    maker = make_sessionmaker(engine)
    writer = Actor("w1", frozenset({Role.ITEM_WRITER}), frozenset({OCC}))
    manager = Actor("m1", frozenset({Role.BANK_MANAGER}), frozenset({OCC}))
    with maker() as s:
        create_occupation(s, code=OCC, name="电工", category=OccupationCategory.TECHNICAL_SKILL)
        bank = create_bank(s, occupation_code=OCC, level=Level.L5)
        save_element_table(s, bank=bank, part=Part.THEORY, actor="b", nodes=[
            ElementNode("A", "基本要求", 100.0), ElementNode("A-01", "识图", 100.0, "A", Importance.X)])
        register_expert(s, actor=manager, username="w1", name="王", title_rank=TitleRank.SENIOR)
        grant_scope(s, actor=manager, username="w1", occupation_code=OCC, role=ExpertRole.WRITER,
                    years_in_occupation=10, certificate_level=Level.L2)
        t0 = time.perf_counter()
        shas = [media.upload_picture(s, actor=writer, bank=bank, data=drawing(800, 500, seed=i), filename=f"{i}.png")
                .sha256 for i in range(100)]
        upload = (time.perf_counter() - t0) / 100
        for i, sha in enumerate(shas):
            workflow.create_item(s, actor=writer, bank=bank, code=f"P{i:03d}", content=ItemContent(
                ItemType.SINGLE_CHOICE, f"如图所示（　）。\n{media.picture_markup(sha)}", 1.0, ("A-01",),
                (Option("A", "甲"), Option("B", "乙")), ("A",)))
        s.commit()
    print(f"2. storing and reading ({engine.dialect.name}): upload (check + store + ledger) "
          f"{upload * 1000:.1f} ms per 800x500 drawing")

    def ours() -> None:
        with maker() as s:
            for sha in shas[:20]:
                media.read_picture(s, actor=manager, sha256=sha)
            s.commit()

    def bare() -> None:
        with maker() as s:
            for sha in shas[:20]:
                s.scalar(select(MediaBlobRecord.data).where(MediaBlobRecord.sha256 == sha))

    t_ours, t_bare = timed(ours, repeat) / 20, timed(bare, repeat) / 20
    print(f"   read_picture {t_ours * 1000:6.2f} ms per picture   bare SELECT {t_bare * 1000:6.2f} ms   "
          f"x{t_ours / t_bare:4.1f} (need-to-know + ledger entry + hash check)")
    engine.dispose()


def bench_paper(repeat: int) -> None:
    occupation = Occupation(OCC, "电工", OccupationCategory.TECHNICAL_SKILL)
    pics = {p.sha256: p.data for p in (media.check_picture(drawing(1200, 700, seed=i)) for i in range(20))}
    shas = list(pics)
    items = []
    for i in range(100):
        stem = f"第{i + 1}题：下列说法正确的是（　）。"
        if i % 5 == 0:
            stem = f"第{i + 1}题：如图所示电路中，开关的接法是（　）。\n{media.picture_markup(shas[i // 5], f'图{i // 5 + 1}')}"
        items.append(Item(f"Q{i:03d}", 1, ItemContent(ItemType.SINGLE_CHOICE, stem, 1.0, ("A-01",),
                                                      tuple(Option(x, f"选项{x}") for x in "ABCD"), ("A",)),
                          VersionState.ACCEPTED))
    paper = Paper(code="BENCH-A", occupation=occupation, level=Level.L5, part=Part.THEORY, form_label="A",
                  kind=PaperKind.FORM, items=tuple(items), time_allowed_min=120, pictures=pics)
    plain = dataclasses.replace(paper, items=tuple(dataclasses.replace(it, content=dataclasses.replace(
        it.content, stem=media.strip_pictures(it.content.stem, ""))) for it in items), pictures={})
    render_theory_paper(paper)
    t_pic, t_plain = timed(lambda: render_theory_paper(paper), repeat), timed(lambda: render_theory_paper(plain), repeat)
    size = len(render_theory_paper(paper)) / 1024
    print(f"3. a 100-item paper, 20 items with a picture: {t_pic * 1000:.0f} ms ({size:.0f} kB .docx)   "
          f"without pictures {t_plain * 1000:.0f} ms   x{t_pic / t_plain:4.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bench_checks(args.repeat)
    url = os.environ.get("ITEMBANK_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        bench_reads(url or f"sqlite:///{Path(tmp) / 'media.db'}", args.repeat)
    bench_paper(args.repeat)


if __name__ == "__main__":
    main()
