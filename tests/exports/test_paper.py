"""The candidates' theory paper, reopened with docx.Document and read back."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile

import pytest
from docx.oxml.ns import qn
from docx.shared import Cm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports import PaperLayoutError, PaperOptions, render_theory_paper, text_manifest
from exports.layout import HEI, SONG, TEXT_W_CM, style_id
from exports.paper import option_columns
from exports.wording import chinese_numeral, fmt_points
from itembank.domain import ItemType, Option, PaperKind

from tests.exports.conftest import PROGRAMMER, body_paragraphs, make_item, make_paper, open_docx, table_texts

STEM = style_id("IB Stem")
SECTION_RE = re.compile(r"^([一二三四五六七八九十]+)、(\S+?)（第(\d+)题(?:～第(\d+)题)?。.*?(?:每题([\d.]+)分，)?满分([\d.]+)分。）$")


@pytest.fixture(scope="module")
def paper_bytes(theory_paper) -> bytes:  # type: ignore[no-untyped-def]
    return render_theory_paper(theory_paper)


def stems_in_order(document) -> list[str]:  # type: ignore[no-untyped-def]
    return [text for sid, text in body_paragraphs(document) if sid == STEM]


def section_headings(document) -> list[re.Match[str]]:  # type: ignore[no-untyped-def]
    out = []
    for t in document.tables:
        for row in t.rows:
            for c in row.cells:
                m = SECTION_RE.match(c.text)
                if m and m not in out:
                    out.append(m)
    # merged cells repeat: keep one per section numeral
    seen, unique = set(), []
    for m in out:
        if m.group(1) not in seen:
            seen.add(m.group(1))
            unique.append(m)
    return unique


def test_every_item_is_printed_once_in_order_with_its_options(paper_bytes, theory_paper) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(paper_bytes)
    stems = stems_in_order(d)
    assert len(stems) == len(theory_paper.items) == 100
    paras = [text for _, text in body_paragraphs(d)]
    for number, (printed, item) in enumerate(zip(stems, theory_paper.items), start=1):
        assert printed.startswith(f"{number}．"), printed
        assert item.content.stem.strip() in printed  # Chinese text intact, character for character
        if item.item_type is ItemType.TRUE_FALSE:
            assert printed.startswith(f"{number}．（\u3000\u3000）")
    # every option of every choice item, labelled A-D, right after its stem
    for k, item in enumerate(theory_paper.items):
        if not item.item_type.has_options:
            continue
        start = paras.index(stems[k])
        following = "\t".join(paras[start + 1:start + 5])
        for o in item.content.options:
            assert f"{o.label}．{o.text}" in following, (item.code, o)


def test_points_add_up_to_the_total(paper_bytes, theory_paper) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(paper_bytes)
    heads = section_headings(d)
    assert [m.group(2) for m in heads] == ["单项选择题", "判断题"]
    assert [(int(m.group(3)), int(m.group(4))) for m in heads] == [(1, 80), (81, 100)]
    totals = [float(m.group(6)) for m in heads]
    assert [float(m.group(5)) * (int(m.group(4)) - int(m.group(3)) + 1) for m in heads] == totals
    assert sum(totals) == theory_paper.total_points == 100.0
    info = " ".join(c for t in table_texts(d)[:1] for row in t for c in row)
    assert "满分：100分" in info and "试卷编号：DG5-2026-03-A" in info and "工种：——" in info
    assert "考试时间：120分钟" in info and "卷别：A卷" in info and "等级：五级/初级工" in info
    score = table_texts(d)[1]
    assert score[0] == ["题\u3000号", "一", "二", "总\u3000分", "总分人"] and score[1][0] == "得\u3000分"


def test_no_key_or_scoring_text_anywhere_in_the_candidate_paper(demo, mixed_paper) -> None:  # type: ignore[no-untyped-def]
    data = render_theory_paper(mixed_paper)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels")))
    for it in mixed_paper.items:
        if it.content.analysis:
            assert it.content.analysis not in xml, it.code
        if not it.item_type.is_objective:
            for rp in it.content.rubric:
                assert rp.criteria not in xml, (it.code, rp.criteria)
        assert it.code not in xml  # bank item codes stay in the key's trace table
    text = "\n".join(p.text for p in open_docx(data).paragraphs)
    for word in ("参考答案", "标准答案", "评分要点", "正确答案为", "答出以下要点"):
        assert word not in text


def test_chinese_text_round_trips(paper_bytes, theory_paper) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(paper_bytes)
    texts = [p.text for p in d.paragraphs]
    assert texts[:3] == ["绝密★启用前", "职业技能等级认定中心", "电工（五级/初级工）理论知识试卷"]
    assert "注\u3000意\u3000事\u3000项" in texts
    body = "\n".join(texts)
    for item in theory_paper.items:
        for ch in ("Ω", "²", "√", "“", "”"):
            if ch in item.content.stem:
                assert ch in body
    assert d.core_properties.title == theory_paper.title


def _style_fonts(document) -> tuple[dict[str, tuple[str | None, str | None]], str | None]:  # type: ignore[no-untyped-def]
    root = document.styles.element
    out = {}
    for s in root.findall(qn("w:style")):
        based = s.find(qn("w:basedOn"))
        rfonts = s.find(qn("w:rPr") + "/" + qn("w:rFonts"))
        out[s.get(qn("w:styleId"))] = (based.get(qn("w:val")) if based is not None else None,
                                       rfonts.get(qn("w:eastAsia")) if rfonts is not None else None)
    default = root.find(qn("w:docDefaults") + "/" + qn("w:rPrDefault") + "/" + qn("w:rPr") + "/" + qn("w:rFonts"))
    return out, default.get(qn("w:eastAsia"))


def effective_east_asian_fonts(document) -> set[str | None]:  # type: ignore[no-untyped-def]
    """East Asian font of every run of the body (tables included), resolved run -> paragraph
    style chain -> document defaults."""
    styles, default = _style_fonts(document)
    fonts = set()
    for p in document.element.body.iter(qn("w:p")):
        ppr = p.find(qn("w:pPr"))
        sid = ppr.find(qn("w:pStyle")).get(qn("w:val")) if ppr is not None and ppr.find(qn("w:pStyle")) is not None else "Normal"
        for r in p.iter(qn("w:r")):
            if not "".join(t.text or "" for t in r.iter(qn("w:t"))).strip():
                continue
            rf = r.find(qn("w:rPr") + "/" + qn("w:rFonts"))
            font = rf.get(qn("w:eastAsia")) if rf is not None else None
            s = sid
            while font is None and s is not None:
                based, font = styles.get(s, (None, None))
                s = based
            fonts.add(font or default)
    return fonts


def test_fonts_are_set_for_east_asian_text(paper_bytes) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(paper_bytes)
    styles, default = _style_fonts(d)
    assert default == SONG
    defaults = d.styles.element.find(qn("w:docDefaults") + "/" + qn("w:rPrDefault") + "/" + qn("w:rPr"))
    rfonts = defaults.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsiaTheme")) is None and rfonts.get(qn("w:asciiTheme")) is None
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    assert styles[style_id("IB Title")][1] == HEI and styles[style_id("IB Section")][1] == HEI
    assert styles["Normal"][1] == SONG and styles[STEM][1] == SONG
    assert effective_east_asian_fonts(d) == {SONG, HEI}
    font_table = zipfile.ZipFile(io.BytesIO(paper_bytes)).read("word/fontTable.xml").decode()
    assert 'w:name="宋体"' in font_table and 'w:val="SimSun"' in font_table and 'w:val="SimHei"' in font_table


def test_a4_page_header_footer_and_sealing_strip(paper_bytes) -> None:  # type: ignore[no-untyped-def]
    d = open_docx(paper_bytes)
    sec = d.sections[0]
    assert abs(sec.page_width - Cm(21.0)) < Cm(0.01) and abs(sec.page_height - Cm(29.7)) < Cm(0.01)
    assert sec.left_margin > sec.right_margin  # room for the sealing strip
    assert sec.different_first_page_header_footer
    for footer in (sec.footer, sec.first_page_footer):
        xml = footer._element.xml
        assert "PAGE" in xml and "NUMPAGES" in xml
        assert re.sub(r"\s+", "", footer.paragraphs[0].text).startswith("第1页共1页")
    strip = sec.first_page_header._element.xml
    assert 'vert="vert270"' in strip
    for word in ("姓名：", "准考证号：", "单位名称：", "密", "封", "线", "考\u3000生\u3000答\u3000题"):
        assert word in strip
    assert "电工（五级/初级工）理论知识试卷" in sec.header.paragraphs[0].text
    assert "DG5-2026-03-A" in sec.header.paragraphs[0].text


def test_same_paper_same_bytes_and_manifest(theory_paper, paper_bytes) -> None:  # type: ignore[no-untyped-def]
    again = render_theory_paper(theory_paper)
    assert again == paper_bytes
    with zipfile.ZipFile(io.BytesIO(again)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "docProps/thumbnail.jpeg" not in z.namelist()
        core = z.read("docProps/core.xml").decode()
    assert "2026-03-01T09:00:00Z" in core and "python-docx" not in core
    changed = make_paper(theory_paper.items[:-1], code=theory_paper.code, occupation=theory_paper.occupation)
    assert text_manifest(render_theory_paper(changed)) != text_manifest(paper_bytes)


def test_option_layout_by_length() -> None:
    short = make_item("S1", ItemType.SINGLE_CHOICE)
    assert option_columns(short) == 4

    def with_options(text: str):  # type: ignore[no-untyped-def]
        options = tuple(Option(x, text) for x in "ABCD")
        return dataclasses.replace(short, content=dataclasses.replace(short.content, options=options))

    assert option_columns(with_options("市场经济条件下诚实守信已经过时")) == 2
    assert option_columns(with_options("职业道德是从事一定职业的人在职业活动中应遵循的行为规范")) == 1


def test_backup_paper_work_type_and_practice_mark() -> None:
    items = [make_item(f"S{i}", ItemType.SINGLE_CHOICE) for i in range(3)]
    d = open_docx(render_theory_paper(make_paper(items, kind=PaperKind.BACKUP, form_label="备用1",
                                                 occupation=PROGRAMMER, practice=True)))
    info = " ".join(c for row in table_texts(d)[0] for c in row)
    assert "卷别：备用卷（备用1）" in info and "工种：软件开发" in info and "职业：计算机程序设计员" in info
    assert any("练习试卷" in p.text for p in d.paragraphs)


def test_answer_sheet_mode_changes_the_instructions_only() -> None:
    items = [make_item(f"S{i}", ItemType.SINGLE_CHOICE) for i in range(4)]
    d = open_docx(render_theory_paper(make_paper(items), options=PaperOptions(answer_sheet=True, seal=False)))
    text = "\n".join(c.text for t in d.tables for row in t.rows for c in row.cells)
    assert "答题卡" in text and "填入题内的括号中" not in text
    assert "vert270" not in d.sections[0].first_page_header._element.xml


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "试题"),
        ([make_item("S1", ItemType.SINGLE_CHOICE), make_item("S1", ItemType.SINGLE_CHOICE)], "试题 S1 出现两次"),
        ([make_item("S1", ItemType.SINGLE_CHOICE), make_item("P1", ItemType.PRACTICAL_TASK)], "P1"),
        ([make_item("S1", ItemType.SINGLE_CHOICE), make_item("T2", ItemType.TRUE_FALSE),
          make_item("S3", ItemType.SINGLE_CHOICE)], "试题 S3：单项选择题"),
        ([make_item("S1", ItemType.SINGLE_CHOICE, points=0.0)], "S1 的分值为 0"),
    ],
)
def test_papers_that_cannot_be_printed_are_refused_with_the_item_named(items, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PaperLayoutError) as e:
        render_theory_paper(make_paper(items))
    assert message in e.value.message  # the Chinese rendering (zh_CN is the default locale)
    assert "T-2026-01-A" in e.value.message


def test_practical_paper_is_not_a_theory_paper(practical_paper) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PaperLayoutError, match="实际操作"):
        render_theory_paper(practical_paper)


_TYPES = [ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.TRUE_FALSE, ItemType.FILL_IN,
          ItemType.SHORT_ANSWER, ItemType.CALCULATION, ItemType.ESSAY]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sections=st.lists(
        st.tuples(st.sampled_from(_TYPES), st.integers(1, 6), st.sampled_from([0.5, 1.0, 2.0, 2.5, 5.0]),
                  st.booleans()),
        min_size=1, max_size=4, unique_by=lambda s: s[0],
    )
)
def test_any_paper_numbers_continuously_and_its_sections_add_up(sections) -> None:  # type: ignore[no-untyped-def]
    items = []
    for item_type, n, points, uneven in sections:
        for k in range(n):
            pts = points + (k if uneven and item_type not in (ItemType.TRUE_FALSE,) else 0)
            items.append(make_item(f"{item_type.value[:2].upper()}{len(items) + 1}", item_type, points=pts))
    paper = make_paper(items)
    d = open_docx(render_theory_paper(paper))
    stems = stems_in_order(d)
    assert [s.split("．", 1)[0] for s in stems] == [str(i) for i in range(1, len(items) + 1)]
    heads = section_headings(d)
    assert [m.group(1) for m in heads] == [chinese_numeral(i) for i in range(1, len(sections) + 1)]
    assert [m.group(2) for m in heads] == [s[0].zh for s in sections]
    assert sum(float(m.group(6)) for m in heads) == pytest.approx(paper.total_points)
    for m, (item_type, n, points, uneven) in zip(heads, sections):
        # a per-item figure only when every item of the section is worth the same
        assert (m.group(5) is not None) == (n == 1 or not uneven or item_type is ItemType.TRUE_FALSE)
    info = " ".join(c for row in table_texts(d)[0] for c in row)
    assert f"满分：{fmt_points(paper.total_points)}分" in info



def _keeps_with_next(p) -> bool:  # type: ignore[no-untyped-def]
    """A paragraph's keep-with-next as Word reads it: its own setting, else its style's chain."""
    if p.paragraph_format.keep_with_next is not None:
        return bool(p.paragraph_format.keep_with_next)
    style = p.style
    while style is not None:
        if style.paragraph_format.keep_with_next is not None:
            return bool(style.paragraph_format.keep_with_next)
        style = style.base_style
    return False


def test_no_section_is_one_long_keep_with_next_chain(demo) -> None:  # type: ignore[no-untyped-def]
    """A chain of paragraphs each kept with the next moves to the next page whole; a chain
    longer than a page leaves the heading before it alone (the issue's backup X2). The longest
    chain is one item: its stem and its option lines."""
    single = [it for it in demo.pool5 if it.item_type is ItemType.SINGLE_CHOICE][:30]
    tf = [it for it in demo.pool5 if it.item_type is ItemType.TRUE_FALSE][:40]
    d = open_docx(render_theory_paper(make_paper(single + tf, occupation=demo.l5.occupation)))
    body = d.element.body
    longest = run = 0
    for child in body.iterchildren():
        if child.tag.endswith("}p"):
            p = next(p for p in d.paragraphs if p._p is child)
            run = run + 1 if _keeps_with_next(p) else 0
            longest = max(longest, run)
        else:
            run = 0
    assert longest <= 4, longest  # a stem and at most three option lines (4 options in one column)


@given(codes=st.lists(st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=4, max_size=40),
                      min_size=1, max_size=3))
def test_cover_cells_are_never_narrower_than_their_text(codes) -> None:  # type: ignore[no-untyped-def]
    from exports.paper import cell_width_cm, layout_info

    cells = ["职业：电工", "工种：——", "等级：五级/初级工", *(f"试卷编号：{c}" for c in codes), "满分：100分"]
    widths, rows = layout_info(cells)
    assert [c for r in rows for c in r if c] == cells
    for r in rows:
        for w, text in zip(widths, r):
            assert w + 1e-9 >= cell_width_cm(text)
    assert sum(widths) <= TEXT_W_CM + 1e-6
