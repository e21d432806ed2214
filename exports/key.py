"""The answer key and scoring standard (标准答案及评分标准) of a theory paper.

Kept apart from the paper (its own file, its own 绝密 mark): every item has a key and a
scoring standard (附件11 第13条). Objective sections are printed as a grid, ten items to a
row (题号 / 答案); each subjective item gets its reference answer and a table of its scoring
points (评分要点, 配分, 评分标准). An appendix lists, per printed number, the bank item and
version, type, points and elements, so a paper can be traced back to the bank (附件11
第24条).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from docx.document import Document as DocxDocument

from itembank.domain import Item, ItemType, Paper, Part
from itembank.i18n import N_, _, gettext

from exports import layout as L
from exports import pictures as P
from exports.paper import title_block
from exports.sections import Section, paper_sections, validate_paper
from exports.wording import fmt_points, form_label_zh, type_name

log = logging.getLogger(__name__)

KEY_TITLE = N_("Answer key and scoring standard")
_PER_ROW = 10
_TF = {"T": "√", "F": "×", "TRUE": "√", "FALSE": "×", "√": "√", "×": "×", "对": "√", "错": "×"}


@dataclass(frozen=True, slots=True)
class KeyOptions:
    """include_trace: print the 组卷明细 appendix (bank item code, version, elements)."""

    include_trace: bool = True


def key_text(item: Item) -> str:
    """The key as printed: "B", "ACD", "√"/"×", or the text answers joined by "；"."""
    key = item.content.key
    if item.item_type is ItemType.TRUE_FALSE:
        return "".join(_TF.get(k.strip().upper(), k) for k in key)
    if item.item_type.has_options:
        return "".join(sorted(k.strip() for k in key))
    return "；".join(k.strip() for k in key)


def _objective_grid(doc: DocxDocument, section: Section) -> None:
    first_w = 1.3
    w = (L.TEXT_W_CM - first_w) / _PER_ROW
    widths = [first_w] + [w] * _PER_ROW
    chunks = [section.items[i:i + _PER_ROW] for i in range(0, len(section.items), _PER_ROW)]
    t = L.table(doc, 2 * len(chunks), widths)
    for k, chunk in enumerate(chunks):
        no_cells = t.rows[2 * k].cells
        key_cells = t.rows[2 * k + 1].cells
        no_cells[0].paragraphs[0].add_run(_("Item No."))
        key_cells[0].paragraphs[0].add_run(_("Answer"))
        for j, numbered in enumerate(chunk, start=1):
            no_cells[j].paragraphs[0].add_run(str(numbered.number))
            key_cells[j].paragraphs[0].add_run(key_text(numbered.item))
    L.keep_rows_together(t)


_RUBRIC_W = (1.1, 8.1, 1.5, 5.1)


def _subjective_item(doc: DocxDocument, numbered, section: Section,  # type: ignore[no-untyped-def]
                     pictures: P.Pictures | None = None) -> None:
    it = numbered.item
    content = it.content
    stem = P.write_text(doc, f"{numbered.number}．" + _("({points} points)", points=fmt_points(it.points))
                        + content.stem.strip(), L.S_STEM, pictures or {}, where=f"item {it.ref}")
    stem.paragraph_format.keep_with_next = True
    if content.key and it.item_type in (ItemType.FILL_IN, ItemType.CALCULATION):
        L.para(doc, _("Answer: {key}", key=key_text(it)), L.S_BODY)
    analysis = content.analysis.strip()
    for prefix in ("参考答案：", "答案：", "参考答案:", "答案:"):
        analysis = analysis.removeprefix(prefix)
    if analysis:
        P.write_text(doc, _("Reference answer: {answer}", answer=analysis), L.S_BODY, pictures or {},
                     where=f"item {it.ref}")
    if content.rubric:
        t = L.table(doc, 1, _RUBRIC_W)
        for c, text in zip(t.rows[0].cells, (_("No."), _("Scoring point"), _("Points allotted"), _("Standard"))):
            L.cell_text(c, text, east_asia=L.HEI)
        for i, rp in enumerate(content.rubric, start=1):
            cells = L.add_row(t, _RUBRIC_W)
            L.cell_text(cells[0], str(i))
            L.cell_text(cells[1], rp.description, style=L.S_CELL_LEFT)
            L.cell_text(cells[2], fmt_points(rp.points))
            L.cell_text(cells[3], rp.criteria or _("full points for the point made"), style=L.S_CELL_LEFT)
        cells = L.add_row(t, _RUBRIC_W)
        L.cell_text(cells[0], _("Sum"))
        rubric_total = sum(rp.points for rp in content.rubric)
        L.cell_text(cells[2], fmt_points(rubric_total))
        L.repeat_header(t)
        if abs(rubric_total - it.points) > 1e-6:
            log.warning("item %s: scoring points add up to %s, the item is worth %s",
                        it.ref, fmt_points(rubric_total), fmt_points(it.points))
    L.para(doc, "")


def _trace_table(doc: DocxDocument, sections: tuple[Section, ...]) -> None:
    widths = (1.2, 3.6, 1.2, 2.8, 1.4, 5.6)
    t = L.table(doc, 1, widths, cell_style=L.S_CELL_SMALL)
    for c, text in zip(t.rows[0].cells, (_("Item No."), _("Item code"), _("Version"), _("Type"), _("Item points"),
                                         _("Elements"))):
        L.cell_text(c, text, east_asia=L.HEI)
    numbered_items = [n for section in sections for n in section.items]
    for cells, numbered in zip(L.add_rows(t, widths, len(numbered_items), style=L.S_CELL_SMALL), numbered_items):
        it = numbered.item
        for c, text in zip(cells, (str(numbered.number), it.code, f"v{it.version}", type_name(it.item_type),
                                   fmt_points(it.points), "、".join(it.content.element_codes))):
            c.paragraphs[0].add_run(text)
    L.repeat_header(t)


def build_answer_key(paper: Paper, options: KeyOptions = KeyOptions()) -> DocxDocument:
    validate_paper(paper, parts=(Part.THEORY,))
    sections = paper_sections(paper)
    key_title = gettext(KEY_TITLE)
    code_line = _("Paper code: {code}", code=paper.code)
    doc = L.new_document(L.DocumentInfo(
        title=f"{paper.title} {key_title}", subject=f"{code_line} {key_title}", author=paper.centre_name,
        keywords=f"{paper.code};{form_label_zh(paper)};{key_title}", created=paper.created_at,
    ))
    sec = doc.sections[0]
    L.running_header(sec, left=f"{paper.title} {key_title}", right=code_line)
    L.page_footer(sec)
    title_block(doc, paper, title=paper.title,
                confidential=_("TOP SECRET until the examination starts (for markers; kept apart from the paper)"))
    L.para(doc, key_title, L.S_SUBTITLE)
    for section in sections:
        L.para(doc, section.short_heading(), L.S_SECTION)
        if section.item_type.is_objective:
            if section.item_type is ItemType.MULTIPLE_CHOICE:
                L.para(doc, _("Scoring: all right choices score; a wrong, missing or extra choice scores nothing."),
                       L.S_BODY).paragraph_format.keep_with_next = True
            _objective_grid(doc, section)
            L.para(doc, "")
        else:
            for numbered in section.items:
                _subjective_item(doc, numbered, section, paper.pictures)
    L.para(doc, _("The paper has {n} items, {points} points in all.", n=len(paper.items),
                  points=fmt_points(paper.total_points)), L.S_BODY)
    if options.include_trace:
        L.para(doc, _("Appendix: how the paper was assembled"), L.S_HEADING)
        _trace_table(doc, sections)
    signature_lines(doc)
    return doc


def signature_lines(doc: DocxDocument) -> None:
    """组卷人 / 审核人 / 日期, on one line kept on one page."""
    p = L.para(doc, _("Assembled by: "), L.S_SIGN)
    L.blank_field(p, 8)
    L.run(p, "\u3000\u3000" + _("Checked by: "))
    L.blank_field(p, 8)
    L.run(p, "\u3000\u3000" + _("Date: "))
    L.blank_field(p, 8)
    p.paragraph_format.keep_together = True


def render_answer_key(paper: Paper, *, options: KeyOptions = KeyOptions()) -> bytes:
    """标准答案及评分标准 of a theory paper as .docx bytes.

    Parameters
    ----------
    paper : Paper
        The same paper as given to ``render_theory_paper``; item numbers agree.
    options : KeyOptions

    Returns
    -------
    bytes
        The .docx file; the same paper gives the same bytes.
    """
    return L.save(build_answer_key(paper, options))
