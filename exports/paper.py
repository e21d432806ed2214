"""The theory paper (理论知识试卷) for candidates: no answers.

Layout, as printed Chinese certification papers have it (the national 职业技能鉴定 theory
papers are the model): 绝密★启用前 at the top left, the centre's name and the title, an
information block (occupation, work type, level, form, paper code, time allowed, total
points), 注意事项, the score table (题号 一 二 … 总分 总分人 / 得分), then one section per item
type, each with its 得分/评分人 box and a heading that states the item numbers, how to answer,
the points per item and the section total. Items are numbered continuously; choice options
are laid out A–D in four, two or one column(s) by their length. The first page's left margin
carries the sealing strip (姓名 / 准考证号 / 单位名称, the 密封线 and 考生答题不准超过此线);
every other page has the running title and paper code in the header; every page has
"第 X 页 共 Y 页" in the footer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT

from itembank.domain import Item, ItemType, Paper, Part

from exports import layout as L
from exports import pictures as P
from exports.sections import NumberedItem, Section, paper_sections, validate_paper
from exports.wording import display_width, fmt_points, form_label_zh, notes_to_candidates

log = logging.getLogger(__name__)

SEAL_FIELDS = (("姓名", 8), ("准考证号", 12), ("单位名称", 14))
CONFIDENTIAL = "绝密★启用前"
_BLANK = "（\u3000\u3000）"


@dataclass(frozen=True, slots=True)
class PaperOptions:
    """How a theory paper is printed.

    answer_sheet
        Objective items are answered on a separate answer sheet (the notes and section
        headings say so); the items keep their brackets.
    seal
        Print the sealing strip in the first page's left margin.
    answer_lines_per_point, min_answer_lines
        Blank lines left after a subjective item: ``max(min, round(points * per_point))``.
    notes
        Replace the default notes to candidates.
    """

    answer_sheet: bool = False
    seal: bool = True
    answer_lines_per_point: float = 0.8
    min_answer_lines: int = 4
    notes: tuple[str, ...] | None = None


def paper_info_rows(paper: Paper) -> list[list[str]]:
    """The information block under the title, three label：value cells per row."""
    occ = paper.occupation
    rows = [
        [f"职业：{occ.name}", f"工种：{occ.display_work_type}", f"等级：{paper.level.title_zh}"],
        [f"试卷编号：{paper.code}", f"卷别：{form_label_zh(paper)}", full_marks(paper)],
        [f"考试时间：{paper.time_allowed_min}分钟", f"考试批次：{paper.session_code}" if paper.session_code else "", ""],
    ]
    return rows


def full_marks(paper: Paper) -> str:
    """满分: the sum of the items' points; a defence candidate answers one topic of the list."""
    if paper.part is Part.DEFENCE:
        return f"满分：{fmt_points(max(it.points for it in paper.items))}分（选答一题）"
    return f"满分：{fmt_points(paper.total_points)}分"


_INFO_WIDTHS = (5.3, 4.9, 5.0)


def title_block(doc: DocxDocument, paper: Paper, *, title: str, confidential: str | None = CONFIDENTIAL) -> None:
    """绝密 mark, centre name, title and the information block (shared with the key, the
    answer sheet and the practical documents)."""
    if confidential:
        L.para(doc, confidential, L.S_SECRET)
    L.para(doc, paper.centre_name, L.S_CENTRE)
    L.para(doc, title, L.S_TITLE)
    if paper.practice:
        L.para(doc, "（练习试卷，不得用于正式认定考试）", L.S_SUBTITLE)
    rows = paper_info_rows(paper)
    t = L.table(doc, len(rows), _INFO_WIDTHS, borders=False, cell_style=L.S_CELL_LEFT)
    for r, values in zip(t.rows, rows):
        for c, text in zip(r.cells, values):
            if text:
                c.paragraphs[0].add_run(text)


def score_table(doc: DocxDocument, sections: tuple[Section, ...]) -> None:
    """题 号 | 一 | 二 | … | 总 分 | 总分人 / 得 分 | … (filled in by the markers)."""
    n = len(sections)
    first_w, total_w, signer_w = 1.8, 1.8, 1.8
    col_w = min(1.6, (L.TEXT_W_CM - first_w - total_w - signer_w) / max(n, 1))
    widths = [first_w] + [col_w] * n + [total_w, signer_w]
    t = L.table(doc, 2, widths)
    head = ["题\u3000号"] + [s.numeral for s in sections] + ["总\u3000分", "总分人"]
    for c, text in zip(t.rows[0].cells, head):
        c.paragraphs[0].add_run(text)
    t.rows[1].cells[0].paragraphs[0].add_run("得\u3000分")
    L.row_height(t, 0, 0.75)
    L.row_height(t, 1, 0.95)


def section_heading(doc: DocxDocument, section: Section, *, answer_sheet: bool, score_box: bool = True) -> None:
    """The 得分/评分人 box at the left with the section heading beside it."""
    if not score_box:
        L.para(doc, section.heading(answer_sheet=answer_sheet), L.S_SECTION)
        return
    widths = (1.35, 1.45, L.TEXT_W_CM - 2.8 - 0.2)
    L.para(doc, "", L.S_NORMAL).paragraph_format.keep_with_next = True
    t = L.table(doc, 2, widths, borders=False, align=WD_TABLE_ALIGNMENT.LEFT)
    t.rows[0].cells[0].paragraphs[0].add_run("得\u3000分")
    t.rows[1].cells[0].paragraphs[0].add_run("评分人")
    for r in range(2):
        for c in range(2):
            L.cell_borders(t.rows[r].cells[c])
        L.row_height(t, r, 0.62)
    merged = t.cell(0, 2).merge(t.cell(1, 2))
    p = merged.paragraphs[0]
    L.set_style(p, L.S_SECTION)
    p.paragraph_format.left_indent = L.Cm(0.2)
    p.add_run(section.heading(answer_sheet=answer_sheet))
    L.keep_with_next(t)
    # a little air between the box and the first item
    L.para(doc, "", L.S_NORMAL).paragraph_format.keep_with_next = True


def choice_stem(item: Item) -> str:
    stem = item.content.stem.strip()
    plain = P.strip_pictures(stem)  # a picture's "(media:…)" is no answer bracket
    if item.item_type.has_options and not any(b in plain for b in ("（", "(")):
        stem = P.append_to_text(stem, _BLANK)
    return stem


def option_columns(item: Item) -> int:
    """4, 2 or 1 column(s): the most that fit the longest option ("A．" included)."""
    longest = max(display_width(f"{o.label}．{o.text}") for o in item.content.options)
    col_units = (L.TEXT_W_CM - 2 * L.CJK_CHAR_CM) / (L.CJK_CHAR_CM / 2)
    for n in L.OPTION_COLUMNS:
        if longest <= col_units / n - 3:
            return n
    return 1


def write_item(doc: DocxDocument, numbered: NumberedItem, section: Section, options: PaperOptions,
               pictures: P.Pictures | None = None) -> None:
    it = numbered.item
    content = it.content
    no = f"{numbered.number}．"
    if it.item_type is ItemType.TRUE_FALSE:
        text = f"{no}{_BLANK}{content.stem.strip()}"
    elif it.item_type.has_options:
        text = no + choice_stem(it)
    else:
        text = no + content.stem.strip()
    if section.per_item is None:
        text = P.append_to_text(text, f"（{fmt_points(it.points)}分）")
    P.write_text(doc, text, L.S_STEM, pictures or {}, where=f"item {it.ref}")
    if it.item_type.has_options and P.options_have_pictures(it):
        P.write_options(doc, it, pictures or {})
    elif it.item_type.has_options:
        n = option_columns(it)
        opts = [f"{o.label}．{o.text.strip()}" for o in content.options]
        style = L.S_OPTIONS.format(n=n)
        lines = ["\t".join(opts[i:i + n]) for i in range(0, len(opts), n)]
        for k, line in enumerate(lines):
            p = L.para(doc, line, style)
            if k < len(lines) - 1:
                p.paragraph_format.keep_with_next = True
    elif not it.item_type.is_objective and it.item_type is not ItemType.FILL_IN:
        n_lines = max(options.min_answer_lines, round(it.points * options.answer_lines_per_point))
        for _ in range(n_lines):
            L.para(doc, "", L.S_ANSWER_SPACE)


def build_theory_paper(paper: Paper, options: PaperOptions = PaperOptions()) -> DocxDocument:
    validate_paper(paper, parts=(Part.THEORY,))
    sections = paper_sections(paper)
    doc = L.new_document(L.DocumentInfo(
        title=paper.title, subject=f"试卷编号 {paper.code}", author=paper.centre_name,
        keywords=f"{paper.code};{form_label_zh(paper)}", created=paper.created_at,
    ))
    sec = doc.sections[0]
    sec.different_first_page_header_footer = True
    if options.seal:
        L.sealing_strip(sec.first_page_header, fields=SEAL_FIELDS)
    L.running_header(sec, left=paper.title, right=f"试卷编号：{paper.code}", first_page_too=False)
    L.page_footer(sec)

    title_block(doc, paper, title=paper.title)
    L.para(doc, "注\u3000意\u3000事\u3000项", L.S_NOTES_HEADING)
    notes = options.notes if options.notes is not None else notes_to_candidates(paper, answer_sheet=options.answer_sheet)
    for i, note in enumerate(notes, start=1):
        L.para(doc, f"{i}．{note}", L.S_NOTE)
    L.para(doc, "")
    score_table(doc, sections)
    L.para(doc, "")

    for section in sections:
        section_heading(doc, section, answer_sheet=options.answer_sheet and section.item_type.is_objective)
        for numbered in section.items:
            write_item(doc, numbered, section, options, paper.pictures)
    log.debug("theory paper %s: %d items in %d sections", paper.code, len(paper.items), len(sections))
    return doc


def render_theory_paper(paper: Paper, *, options: PaperOptions = PaperOptions()) -> bytes:
    """The candidates' theory paper as .docx bytes (no keys, no analysis, no item codes).

    Parameters
    ----------
    paper : Paper
        A theory paper; items in printed order, grouped by type.
    options : PaperOptions
        Answer sheet or not, sealing strip, answer space.

    Returns
    -------
    bytes
        The .docx file; the same paper gives the same bytes.

    Raises
    ------
    PaperLayoutError
        The paper is empty, holds non-theory items, repeats an item or mixes item types.
    """
    return L.save(build_theory_paper(paper, options))
