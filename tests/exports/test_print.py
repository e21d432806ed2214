"""The printed papers, page by page: the demo's papers through LibreOffice to PDF, read back
with poppler (pdftotext per page, pdffonts).

What an exam office checks before it accepts a paper: the sections in the national
template's order, no page that holds a section heading without its first item, the time and
points on the cover, the paper code on one line, the signatures on the page of the summary,
and the Simplified Chinese serif (宋体) and sans (黑体) faces embedded.

Fails, never skips, without LibreOffice or poppler-utils (CI installs both; README lists them).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from exports import docx_to_pdf, render_answer_key, render_scoring_sheet, render_task_sheet, render_theory_paper
from exports.paper import PaperOptions
from exports.sections import Section, paper_sections, task_minutes
from exports.wording import fmt_points
from itembank.assembly_service import SECTION_ORDER
from itembank.domain import ItemType, Paper, PaperKind, Part

from tests.exports.conftest import make_paper



def _pdf(data: bytes, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(docx_to_pdf(data))
    return path


def pages(path: Path) -> list[str]:
    """Each page's text as pdftotext lays it out (lines kept)."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          timeout=120).stdout.decode("utf-8")
    out = text.split("\f")
    return out[:-1] if out and not out[-1].strip() else out


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def fonts(path: Path) -> list[tuple[str, bool]]:
    """(font name without subset prefix, embedded) of every font pdffonts lists."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True,
                         timeout=60).stdout.decode("utf-8", "replace").splitlines()[2:]
    rows = []
    for line in out:
        parts = line.split()
        # name type [type2] encoding emb sub uni object ID: emb is the 5th field from the end
        rows.append((parts[0].split("+", 1)[-1], parts[-5] == "yes"))
    return rows


def _heading_pattern(section: Section) -> re.Pattern[str]:
    span = f"第{section.first}题" + (f"～第{section.last}题" if section.last != section.first else "")
    return re.compile(re.escape(f"{section.numeral}、{section.item_type.zh}（{span}"))


def _item_number(number: int) -> re.Pattern[str]:
    """An item's number where its stem starts: at the start of a line."""
    return re.compile(rf"^\s*{number}\s*．", re.MULTILINE)


def check_sections(paper: Paper, page_texts: list[str]) -> None:
    """Every section heading on exactly one page, in the template's order, with its first item
    after it on the same page."""
    sections = paper_sections(paper)
    rank = {t: i for i, t in enumerate(SECTION_ORDER)}
    assert [s.item_type for s in sections] == sorted((s.item_type for s in sections), key=rank.__getitem__)
    positions = []
    for section in sections:
        found = [(k, m.end()) for k, text in enumerate(page_texts)
                 for m in _heading_pattern(section).finditer(flat(text))]
        assert len(found) == 1, (section.numeral, section.item_type, found)
        page = found[0][0]
        raw = page_texts[page]
        start = raw.find(f"{section.numeral}、{section.item_type.zh}")  # the heading's first line
        assert start >= 0
        assert _item_number(section.first).search(raw, start), (
            f"page {page + 1} holds the heading of section {section.numeral} without its first item {section.first}")
        positions.append((page, start))
    assert positions == sorted(positions)


def check_cover(paper: Paper, page_texts: list[str]) -> None:
    first = page_texts[0]
    assert paper.code in first  # on one line: a wrapped code would be split by the layout
    assert f"考试时间：{paper.time_allowed_min}分钟" in flat(first)
    assert f"满分：{fmt_points(paper.total_points)}分" in flat(first)
    n = len(page_texts)
    assert f"第1页共{n}页" in flat(first) and f"第{n}页共{n}页" in flat(page_texts[-1])


def check_fonts(path: Path) -> None:
    listed = fonts(path)
    names = {name for name, _ in listed}
    assert any(n.startswith("NotoSerifCJKsc") for n in names), listed  # 宋体
    assert any(n.startswith("NotoSansCJKsc") for n in names), listed  # 黑体
    assert not any("CJKjp" in n for n in names), listed
    assert all(embedded for _, embedded in listed), listed


def test_demo_theory_paper_prints_as_the_template_says(theory_paper, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _pdf(render_theory_paper(theory_paper), tmp_path, "paper")
    texts = pages(path)
    assert 4 <= len(texts) <= 20, len(texts)
    check_cover(theory_paper, texts)
    check_sections(theory_paper, texts)
    check_fonts(path)
    whole = "\n".join(texts)
    whole = whole[whole.index("一、单项选择题"):]  # the items, after the notes (numbered 1．2．…)
    for number in range(1, len(theory_paper.items) + 1):
        assert len(_item_number(number).findall(whole)) == 1, number


@pytest.mark.parametrize("n_single", [52, 61, 70])
def test_a_true_false_section_never_leaves_its_heading_alone(demo, tmp_path, n_single) -> None:  # type: ignore[no-untyped-def]
    """Backup papers of several lengths: wherever the 判断题 heading falls, its first item is on
    its page (the issue's backup X2 had the heading alone on page 2, all 20 items on page 3)."""
    single = [it for it in demo.pool5 if it.item_type is ItemType.SINGLE_CHOICE][:n_single]
    tf = [it for it in demo.pool5 if it.item_type is ItemType.TRUE_FALSE][:20]
    paper = make_paper(single + tf, code=f"DG5-L5-T-R0001-X{n_single}", kind=PaperKind.BACKUP,
                       form_label="备用2", occupation=demo.l5.occupation)
    texts = pages(_pdf(render_theory_paper(paper, options=PaperOptions(answer_sheet=True)), tmp_path, "backup"))
    check_cover(paper, texts)
    check_sections(paper, texts)


def test_mixed_paper_and_its_key(mixed_paper, tmp_path) -> None:  # type: ignore[no-untyped-def]
    texts = pages(_pdf(render_theory_paper(mixed_paper), tmp_path, "mixed"))
    check_cover(mixed_paper, texts)
    check_sections(mixed_paper, texts)
    key = pages(_pdf(render_answer_key(mixed_paper), tmp_path, "key"))
    whole = flat("".join(key))
    # the key's sections in the paper's order, each with its points
    heads = [whole.find(f"{s.numeral}、{s.item_type.zh}（") for s in paper_sections(mixed_paper)]
    assert -1 not in heads and heads == sorted(heads)
    assert f"全卷共{len(mixed_paper.items)}题，满分{fmt_points(mixed_paper.total_points)}分" in whole
    sign = [k for k, t in enumerate(key) if "组卷人" in t]
    assert len(sign) == 1 and "审核人" in key[sign[0]]


def test_practical_papers_print_the_time_their_tasks_take(practical_paper, tmp_path) -> None:  # type: ignore[no-untyped-def]
    total = task_minutes(practical_paper)
    assert total == practical_paper.time_allowed_min
    path = _pdf(render_task_sheet(practical_paper), tmp_path, "tasks")
    texts = pages(path)
    first = flat(texts[0])
    assert f"考核时间：{practical_paper.time_allowed_min}分钟" in first
    assert practical_paper.code in texts[0]
    whole = flat("".join(texts))
    for number, it in enumerate(practical_paper.items, start=1):
        assert f"试题{number}（本题{fmt_points(it.points)}分，考核时间{fmt_points(it.content.time_limit_min)}分钟）" \
            in whole
    check_fonts(path)


def test_scoring_sheet_keeps_summary_and_signatures_on_one_page(practical_paper, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for n_examiners in (3, 5):
        texts = pages(_pdf(render_scoring_sheet(practical_paper, n_examiners=n_examiners), tmp_path,
                           f"scoring{n_examiners}"))
        summary = [k for k, t in enumerate(texts) if "成绩汇总" in flat(t)]
        signs = [k for k, t in enumerate(texts) for _ in re.finditer("（签字）", flat(t))]
        assert len(summary) == 1 and len(signs) == n_examiners + 1
        assert set(signs) == set(summary), (summary, signs)
        last = flat(texts[summary[0]])
        assert last.index("成绩汇总") < last.index("考评组长（签字）") < last.index("年")
        # every rubric row on the sheet: its points never below what its rule deducts
        for it in practical_paper.items:
            for rp in it.content.rubric:
                for amount in re.findall(r"扣\s*(\d+(?:\.\d+)?)\s*分", rp.criteria):
                    assert float(amount) <= rp.points
    assert Part.PRACTICAL is practical_paper.part
