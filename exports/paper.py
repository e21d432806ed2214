"""The theory paper (理论知识试卷) for candidates: no answers.

Layout, as printed Chinese certification papers have it (the national 职业技能鉴定 theory
papers are the model): 绝密★启用前 at the top left, the centre's name and the title, an
information block (occupation, work type, level, form, paper code, time allowed, total
points), 注意事项, the score table (题号 一 二 … 总分 总分人 / 得分), then one section per item
type in the recorded order (the centre's section order: 一、单项选择题 二、判断题 … by
default), each with its 得分/评分人 box and a heading that states the item numbers, how to
answer, the points per item and the section total. Items are numbered continuously; choice
options are laid out A–D in four, two or one column(s) by their length. The first page's left
margin carries the sealing strip (姓名 / 准考证号 / 单位名称, the 密封线 and 考生答题不准超过此线);
every other page has the running title and paper code in the header; every page has
"第 X 页 共 Y 页" in the footer.

Page breaks. A section's heading is kept with its first item, an item's stem with its
options, and nothing else is chained: a section of one-paragraph items (true/false) can break
anywhere between items, so no page holds a heading alone (keep-with-next on every item would
chain the whole section, and a chain longer than a page pushes the heading away from it).
The cells of the information block are as wide as their text (a paper code never wraps).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT

from itembank.domain import Item, ItemType, Paper, Part
from itembank.i18n import N_, _, gettext

from exports import layout as L
from exports import pictures as P
from exports.sections import NumberedItem, Section, paper_sections, validate_paper
from exports.wording import display_width, fmt_points, form_label_zh, minutes, notes_to_candidates

log = logging.getLogger(__name__)

SEAL_FIELDS = ((N_("Name of the candidate"), 8), (N_("Admission ticket No."), 12), (N_("Employer"), 14))
CONFIDENTIAL = N_("TOP SECRET until the examination starts")
NOTES_HEADING = N_("NOTES TO CANDIDATES")
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


def seal_fields() -> list[tuple[str, int]]:
    return [(gettext(label), width) for label, width in SEAL_FIELDS]


def paper_info_cells(paper: Paper) -> list[str]:
    """The information block under the title, in reading order."""
    occ = paper.occupation
    cells = [
        _("Occupation: {name}", name=occ.name),
        _("Work type: {work_type}", work_type=occ.display_work_type),
        _("Level: {level}", level=paper.level),
        _("Paper code: {code}", code=paper.code),
        _("Form: {form}", form=form_label_zh(paper)),
        full_marks(paper),
        _("Time allowed: {minutes}", minutes=minutes(paper.time_allowed_min)),
    ]
    if paper.session_code:
        cells.append(_("Session: {session}", session=paper.session_code))
    return cells


def paper_info_rows(paper: Paper) -> list[list[str]]:
    """The information block in rows of three (as printed when the text fits)."""
    cells = paper_info_cells(paper)
    return [cells[i:i + 3] + [""] * (3 - len(cells[i:i + 3])) for i in range(0, len(cells), 3)]


def full_marks(paper: Paper) -> str:
    """满分: the sum of the items' points; a defence candidate answers one topic of the list."""
    if paper.part is Part.DEFENCE:
        return _("Full marks: {points} (answer one topic)", points=fmt_points(max(it.points for it in paper.items)))
    return _("Full marks: {points}", points=fmt_points(paper.total_points))


# A cell's text at 五号 needs its width in half-width units times half a 五号 character, plus
# the cell margins (60 twips each side) and a little slack for the renderer's metrics.
_UNIT_CM = L.CJK_CHAR_CM / 2
_CELL_PAD_CM = 2 * 60 / 1440 * 2.54 + 0.15


def cell_width_cm(text: str) -> float:
    """The width a one-line 五号 cell needs for ``text``."""
    return display_width(text) * _UNIT_CM + _CELL_PAD_CM


def layout_info(cells: Sequence[str], width_cm: float = L.TEXT_W_CM) -> tuple[tuple[float, ...], list[list[str]]]:
    """Column widths and rows for the information block: three columns when every cell fits
    its column on one line (widths from the longest text of each column, the rest shared out),
    else two, else one cell a row. No cell is narrower than its text, so a code never wraps."""
    for n_cols in (3, 2, 1):
        rows = [list(cells[i:i + n_cols]) + [""] * (n_cols - len(cells[i:i + n_cols]))
                for i in range(0, len(cells), n_cols)]
        need = [max(cell_width_cm(r[c]) if r[c] else 0.0 for r in rows) for c in range(n_cols)]
        if sum(need) <= width_cm:
            spare = (width_cm - sum(need)) / n_cols
            return tuple(w + spare for w in need), rows
    return (width_cm,), [[c] for c in cells]


def title_block(doc: DocxDocument, paper: Paper, *, title: str, confidential: str | None = None) -> None:
    """绝密 mark, centre name, title and the information block (shared with the key, the
    answer sheet and the practical documents). ``confidential`` None prints the default mark,
    "" none."""
    mark = gettext(CONFIDENTIAL) if confidential is None else confidential
    if mark:
        L.para(doc, mark, L.S_SECRET)
    L.para(doc, paper.centre_name, L.S_CENTRE)
    L.para(doc, title, L.S_TITLE)
    if paper.practice:
        L.para(doc, _("(practice paper, not for an official certification examination)"), L.S_SUBTITLE)
    widths, rows = layout_info(paper_info_cells(paper))
    t = L.table(doc, len(rows), widths, borders=False, cell_style=L.S_CELL_LEFT)
    for r, values in zip(t.rows, rows):
        for c, text in zip(r.cells, values):
            if text:
                c.paragraphs[0].add_run(text)
                L.no_wrap(c)


def score_table(doc: DocxDocument, sections: tuple[Section, ...]) -> None:
    """题 号 | 一 | 二 | … | 总 分 | 总分人 / 得 分 | … (filled in by the markers)."""
    n = len(sections)
    first_w, total_w, signer_w = 1.8, 1.8, 1.8
    col_w = min(1.6, (L.TEXT_W_CM - first_w - total_w - signer_w) / max(n, 1))
    widths = [first_w] + [col_w] * n + [total_w, signer_w]
    t = L.table(doc, 2, widths)
    head = [_("Question no.")] + [s.numeral for s in sections] + [_("Total"), _("Totalled by")]
    for c, text in zip(t.rows[0].cells, head):
        c.paragraphs[0].add_run(text)
    t.rows[1].cells[0].paragraphs[0].add_run(_("Score"))
    L.row_height(t, 0, 0.75)
    L.row_height(t, 1, 0.95)
    L.keep_together(t)


def section_heading(doc: DocxDocument, section: Section, *, answer_sheet: bool, score_box: bool = True) -> None:
    """The 得分/评分人 box at the left with the section heading beside it, kept with the first
    item that follows (the caller writes it)."""
    if not score_box:
        L.para(doc, section.heading(answer_sheet=answer_sheet), L.S_SECTION)
        return
    widths = (1.35, 1.45, L.TEXT_W_CM - 2.8 - 0.2)
    L.para(doc, "", L.S_NORMAL).paragraph_format.keep_with_next = True
    t = L.table(doc, 2, widths, borders=False, align=WD_TABLE_ALIGNMENT.LEFT)
    t.rows[0].cells[0].paragraphs[0].add_run(_("Score"))
    t.rows[1].cells[0].paragraphs[0].add_run(_("Marked by"))
    for r in range(2):
        for c in range(2):
            L.cell_borders(t.rows[r].cells[c])
        L.row_height(t, r, 0.62)
    merged = t.cell(0, 2).merge(t.cell(1, 2))
    p = merged.paragraphs[0]
    L.set_style(p, L.S_SECTION)
    p.paragraph_format.left_indent = L.Cm(0.2)
    p.add_run(section.heading(answer_sheet=answer_sheet))
    L.keep_rows_together(t)
    L.keep_with_next(t)
    # a little air between the box and the first item, kept with it
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
    """One item: the stem kept on one page and with what follows it (options, the first
    answer lines); the item's last paragraph is not kept with the next item. Pictures the
    item shows are printed where they stand (``exports.pictures``)."""
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
        text = P.append_to_text(text, _("({points} points)", points=fmt_points(it.points)))
    stem = P.write_text(doc, text, L.S_STEM, pictures or {}, where=f"item {it.ref}")
    stem.paragraph_format.keep_together = True
    if it.item_type.has_options:
        stem.paragraph_format.keep_with_next = True
    if it.item_type.has_options and P.options_have_pictures(it):
        P.write_options(doc, it, pictures or {})
    elif it.item_type.has_options:
        n = option_columns(it)
        opts = [f"{o.label}．{o.text.strip()}" for o in content.options]
        style = L.S_OPTIONS.format(n=n)
        lines = ["\t".join(opts[i:i + n]) for i in range(0, len(opts), n)]
        for k, line in enumerate(lines):
            p = L.para(doc, line, style)
            p.paragraph_format.keep_together = True
            p.paragraph_format.keep_with_next = k < len(lines) - 1
    elif not it.item_type.is_objective and it.item_type is not ItemType.FILL_IN:
        stem.paragraph_format.keep_with_next = True
        n_lines = max(options.min_answer_lines, round(it.points * options.answer_lines_per_point))
        for k in range(n_lines):
            p = L.para(doc, "", L.S_ANSWER_SPACE)
            p.paragraph_format.keep_with_next = k < 2  # the stem keeps its first lines of space
    else:
        stem.paragraph_format.keep_with_next = False


def build_theory_paper(paper: Paper, options: PaperOptions = PaperOptions()) -> DocxDocument:
    validate_paper(paper, parts=(Part.THEORY,))
    sections = paper_sections(paper)
    code_line = _("Paper code: {code}", code=paper.code)
    doc = L.new_document(L.DocumentInfo(
        title=paper.title, subject=code_line, author=paper.centre_name,
        keywords=f"{paper.code};{form_label_zh(paper)}", created=paper.created_at,
    ))
    sec = doc.sections[0]
    sec.different_first_page_header_footer = True
    if options.seal:
        L.sealing_strip(sec.first_page_header, fields=seal_fields())
    L.running_header(sec, left=paper.title, right=code_line, first_page_too=False)
    L.page_footer(sec)

    title_block(doc, paper, title=paper.title)
    L.para(doc, gettext(NOTES_HEADING), L.S_NOTES_HEADING)
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
