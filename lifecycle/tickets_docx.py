"""Admission tickets (准考证, 附件1 第10条) as a Word document: one ticket per page.

Domain objects in, bytes out (like ``exports/``); Chinese text gets an East Asian font through
the run properties' ``w:eastAsia`` attribute so Word does not fall back to a Latin font.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from exports.safe_text import safe_text
from lifecycle.domain import AdmissionTicket
from lifecycle.sessions import CENTRE_TZ

EAST_ASIAN_FONT = "宋体"
LATIN_FONT = "Times New Roman"


def _font(run, *, size: float = 11, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    run.font.name = LATIN_FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)


def _cell(cell, text: str, *, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    para = cell.paragraphs[0]
    for run in list(para.runs):
        run._element.getparent().remove(run._element)
    _font(para.add_run(text), bold=bold)


def _when(t) -> str:  # type: ignore[no-untyped-def]
    return t.astimezone(CENTRE_TZ).strftime("%Y年%m月%d日 %H:%M")


@safe_text  # stored text never makes the export fail (exports/safe_text.py)
def render_admission_tickets(tickets: Sequence[AdmissionTicket], *, title: str = "职业技能等级认定准考证") -> bytes:
    """One page per ticket: number, name, ID, occupation (work type), level, and every
    sitting's time, place, room and seat, then the candidate notes."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = LATIN_FONT
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    for i, t in enumerate(tickets):
        if i:
            doc.add_page_break()
        head = doc.add_paragraph()
        head.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(head.add_run(t.institution), size=14, bold=True)
        head2 = doc.add_paragraph()
        head2.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(head2.add_run(title), size=16, bold=True)
        fields = (
            ("准考证号", t.number), ("姓名", t.name), ("证件类型", t.id_type.zh), ("证件号码", t.id_number),
            ("职业", f"{t.occupation.code} {t.occupation.name}"), ("工种", t.work_type),
            ("等级", t.level.title_zh),
        )
        table = doc.add_table(rows=len(fields), cols=2)
        table.style = "Table Grid"
        for row, (k, v) in zip(table.rows, fields):
            _cell(row.cells[0], k, bold=True)
            _cell(row.cells[1], v)
        doc.add_paragraph()
        sit = doc.add_table(rows=1 + len(t.sittings), cols=5)
        sit.style = "Table Grid"
        for c, h in zip(sit.rows[0].cells, ("科目", "考试时间", "地点", "考场", "座位/工位号")):
            _cell(c, h, bold=True)
        for row, s in zip(sit.rows[1:], t.sittings):
            values = (s.part.zh, f"{_when(s.starts_at)}–{s.ends_at.astimezone(CENTRE_TZ):%H:%M}", s.place, s.room,
                      str(s.seat_no))
            for c, v in zip(row.cells, values):
                _cell(c, v)
        notes = doc.add_paragraph()
        _font(notes.add_run("考试须知"), bold=True)
        for n, note in enumerate(t.notes, start=1):
            _font(doc.add_paragraph().add_run(f"{n}. {note}"), size=10)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
