"""The answer sheet (答题卡) for a paper's objective items, where the exam is on paper.

Theory exams are paperless by default (附件11 第22条); where paper is used, candidates mark
objective answers here. The sheet has the candidate's particulars at the top, the marking
instructions with an example, and one block per objective section: items in columns of five,
each with its option boxes ［A］［B］［C］［D］ (［√］［×］ for true/false). Numbers agree with
the paper. No answers are printed.
"""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT

from itembank.domain import ItemType, Paper, Part
from itembank.i18n import N_, Message, _, gettext

from exports import layout as L
from exports.errors import PaperLayoutError
from exports.paper import NOTES_HEADING, title_block
from exports.sections import NumberedItem, Section, paper_sections, validate_paper
from exports.wording import form_label_zh

SHEET_TITLE = N_("Answer sheet")
_COLS = 4
_ROWS_PER_BLOCK = 5
_INSTRUCTIONS = (
    N_("Before answering, write your name, admission ticket number and employer clearly."),
    N_("Blacken the box of your choice for each objective question with a 2B pencil (like this: ■); rub out "
       "a change cleanly."),
    N_("Answer the other questions where the paper asks; answers written on this sheet do not count."),
    N_("Keep the sheet clean; do not fold or tear it."),
)


def option_boxes(numbered: NumberedItem) -> str:
    it = numbered.item
    if it.item_type is ItemType.TRUE_FALSE:
        labels = ["√", "×"]
    else:
        labels = [o.label for o in it.content.options]
    return " ".join(f"[{x}]" for x in labels)


def _candidate_box(doc: DocxDocument) -> None:
    widths = (2.2, 4.9, 2.2, 6.5)
    t = L.table(doc, 2, widths)
    r0, r1 = t.rows[0].cells, t.rows[1].cells
    L.cell_text(r0[0], _("Name of the candidate"), east_asia=L.HEI)
    L.cell_text(r0[2], _("Admission ticket No."), east_asia=L.HEI)
    L.cell_text(r1[0], _("Employer"), east_asia=L.HEI)
    r1[1].merge(r1[3])
    L.row_height(t, 0, 0.9)
    L.row_height(t, 1, 0.9)


def _section_grid(doc: DocxDocument, section: Section) -> None:
    items = section.items
    n_opts = max(len(option_boxes(n)) for n in items)
    cols = _COLS if n_opts <= 16 else _COLS - 1  # five options ("[A] … [E]") need wider cells
    per_block = cols * _ROWS_PER_BLOCK
    n_blocks = -(-len(items) // per_block)
    width = L.TEXT_W_CM / cols
    t = L.table(doc, n_blocks * _ROWS_PER_BLOCK, [width] * cols, borders=False, cell_style=L.S_CELL_LEFT,
                align=WD_TABLE_ALIGNMENT.CENTER)
    for b in range(n_blocks):
        block = items[b * per_block:(b + 1) * per_block]
        for k, numbered in enumerate(block):
            col, row = divmod(k, _ROWS_PER_BLOCK)
            cell = t.rows[b * _ROWS_PER_BLOCK + row].cells[col]
            p = cell.paragraphs[0]
            L.run(p, f"{numbered.number:>3}\u2002", bold=True)
            p.add_run(option_boxes(numbered))
        # a rule under each block of five rows, as printed answer cards have
        for cell in t.rows[b * _ROWS_PER_BLOCK + _ROWS_PER_BLOCK - 1].cells:
            L.cell_borders(cell, val="dashed", sides=("bottom",))
    for i in range(len(t.rows)):
        L.row_height(t, i, 0.62)


def build_answer_sheet(paper: Paper) -> DocxDocument:
    validate_paper(paper, parts=(Part.THEORY,))
    sections = [s for s in paper_sections(paper) if s.item_type.is_objective]
    if not sections:
        raise PaperLayoutError(Message("paper {code} has no objective items: it needs no answer sheet",
                                       code=paper.code), field="items")
    sheet_title = gettext(SHEET_TITLE)
    code_line = _("Paper code: {code}", code=paper.code)
    doc = L.new_document(L.DocumentInfo(
        title=f"{paper.title} {sheet_title}", subject=f"{code_line} {sheet_title}", author=paper.centre_name,
        keywords=f"{paper.code};{form_label_zh(paper)};{sheet_title}", created=paper.created_at,
    ))
    sec = doc.sections[0]
    L.running_header(sec, left=f"{paper.title} {sheet_title}", right=code_line)
    L.page_footer(sec)
    title_block(doc, paper, title=paper.title, confidential="")
    L.para(doc, sheet_title, L.S_SUBTITLE)
    _candidate_box(doc)
    L.para(doc, gettext(NOTES_HEADING), L.S_NOTES_HEADING)
    for i, note in enumerate(_INSTRUCTIONS, start=1):
        L.para(doc, f"{i}．{gettext(note)}", L.S_NOTE)
    for section in sections:
        L.para(doc, f"{section.short_heading()}\u3000{section.span()}", L.S_SECTION)
        _section_grid(doc, section)
    return doc


def render_answer_sheet(paper: Paper) -> bytes:
    """答题卡 for the objective items of a theory paper, as .docx bytes.

    Raises
    ------
    PaperLayoutError
        The paper is invalid, or has no objective items.
    """
    return L.save(build_answer_sheet(paper))
