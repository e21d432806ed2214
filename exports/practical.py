"""Practical papers: the candidates' task sheet (实际操作试题), the examiners' scoring table
(评分表), and the topic list of defence / technical review papers (levels 二级 and 一级).

Practical tasks are scored by rubric by a group of at least three examiners (附件2 第9条):
each examiner scores every rubric point independently (deductions by the 评分标准, never more
than the row's points: 扣完为止), the final score is their mean, and all examiners and the
group leader sign. The candidates' sheet gives each task's requirements, equipment, time and
points, never the rubric. The paper's 考核时间 is what its tasks take together (or the
blueprint's fixed total, which assembly holds every paper and backup to); a paper that allows
less than its tasks take is refused (``exports.sections.validate_paper``).
"""

from __future__ import annotations

from docx.document import Document as DocxDocument

from itembank.domain import Paper, Part
from itembank.i18n import _

from exports import layout as L
from exports import pictures as P
from exports.errors import ExportError
from exports.paper import NOTES_HEADING, seal_fields, title_block
from exports.sections import task_minutes, validate_paper
from exports.wording import fmt_points, form_label_zh, minutes, practical_notes
from itembank.i18n import Message, gettext

MIN_EXAMINERS = 3  # 附件2 第9条: a group of at least three examiners scores a practical task


def task_sheet_title(paper: Paper) -> str:
    if paper.part is Part.PRACTICAL:
        return _("{occupation} ({level}) practical tasks", occupation=paper.occupation.label, level=paper.level)
    return _("{occupation} ({level}) defence / technical review topics", occupation=paper.occupation.label,
             level=paper.level)


def _new(paper: Paper, title: str, what: str, *, seal: bool) -> DocxDocument:
    code_line = _("Paper code: {code}", code=paper.code)
    doc = L.new_document(L.DocumentInfo(
        title=title, subject=f"{code_line} {what}", author=paper.centre_name,
        keywords=f"{paper.code};{form_label_zh(paper)};{what}", created=paper.created_at,
    ))
    sec = doc.sections[0]
    if seal:
        sec.different_first_page_header_footer = True
        L.sealing_strip(sec.first_page_header, fields=seal_fields())
    L.running_header(sec, left=title, right=code_line, first_page_too=not seal)
    L.page_footer(sec)
    return doc


def _task_time(x: float | None) -> str:
    return minutes(x) if x else _("as the test room sets")


_TASK_W = (3.2, L.TEXT_W_CM - 3.2)


def build_task_sheet(paper: Paper) -> DocxDocument:
    validate_paper(paper, parts=(Part.PRACTICAL,))
    title = task_sheet_title(paper)
    doc = _new(paper, title, _("practical tasks"), seal=True)
    title_block(doc, paper, title=title)
    L.para(doc, gettext(NOTES_HEADING), L.S_NOTES_HEADING)
    for i, note in enumerate(practical_notes(paper), start=1):
        L.para(doc, f"{i}．{note}", L.S_NOTE)
    total = task_minutes(paper)
    if total is not None:
        times = " + ".join(fmt_points(it.content.time_limit_min or 0) for it in paper.items)
        L.para(doc, _("The tasks take {times} = {total} min; the time allowed is {allowed}.", times=times,
                      total=fmt_points(total), allowed=minutes(paper.time_allowed_min)), L.S_NOTE)
    L.para(doc, "")
    # score table: 题号 试题1 … 总分 / 得分
    n = len(paper.items)
    col_w = min(1.8, (L.TEXT_W_CM - 3.6) / max(n, 1))
    widths = [1.8] + [col_w] * n + [1.8]
    t = L.table(doc, 2, widths)
    head = [_("Question no."), *(_("Task {number}", number=i) for i in range(1, n + 1)), _("Total")]
    for c, text in zip(t.rows[0].cells, head):
        c.paragraphs[0].add_run(text)
    t.rows[1].cells[0].paragraphs[0].add_run(_("Score"))
    L.row_height(t, 1, 0.9)
    L.keep_together(t)
    L.para(doc, "")
    for number, it in enumerate(paper.items, start=1):
        c = it.content
        L.para(doc, _("Task {number} ({points} points, time allowed {time})", number=number,
                      points=fmt_points(it.points), time=_task_time(c.time_limit_min)), L.S_SECTION)
        rows = [(_("What to do"), c.stem.strip()),
                (_("Equipment, tools and materials"), c.equipment.strip() or _("provided by the test room")),
                (_("Time allowed for the task"), _task_time(c.time_limit_min)),
                (_("Points allotted"), _("{points} points", points=fmt_points(it.points)))]
        t = L.table(doc, len(rows), _TASK_W, cell_style=L.S_CELL_LEFT)
        for i, (r, (label, text)) in enumerate(zip(t.rows, rows)):
            L.cell_text(r.cells[0], label, east_asia=L.HEI, style=L.S_CELL)
            P.write_cell(r.cells[1], text, paper.pictures, where=f"item {it.ref}",
                         max_width_cm=_TASK_W[1] - 0.4)
            L.row_height(t, i, 0.8)
        L.keep_together(t)
        L.para(doc, "")
    return doc


def render_task_sheet(paper: Paper) -> bytes:
    """实际操作试题 for candidates: per task the requirements, equipment, time and points; no
    rubric. Raises ``PaperLayoutError`` unless ``paper`` is a valid practical paper."""
    return L.save(build_task_sheet(paper))


_SCORE_W = (0.9, 4.6, 1.1, 5.4, 1.2, 1.2, 1.4)


def _examiners(n: int) -> int:
    if n < MIN_EXAMINERS:
        raise ExportError(Message("n_examiners is {n}: a practical task is scored by at least {minimum} examiners "
                                  "(附件2 第9条)", n=n, minimum=MIN_EXAMINERS), field="n_examiners")
    return n


def build_scoring_sheet(paper: Paper, *, n_examiners: int = MIN_EXAMINERS) -> DocxDocument:
    validate_paper(paper, parts=(Part.PRACTICAL, Part.DEFENCE))
    n_examiners = _examiners(n_examiners)
    practical = paper.part is Part.PRACTICAL
    what = _("practical scoring sheet") if practical else _("defence / technical review scoring sheet")
    title = (_("{occupation} ({level}) practical scoring sheet", occupation=paper.occupation.label, level=paper.level)
             if practical else
             _("{occupation} ({level}) defence / technical review scoring sheet", occupation=paper.occupation.label,
               level=paper.level))
    doc = _new(paper, title, what, seal=False)
    title_block(doc, paper, title=title,
                confidential=_("For examiners; filed with the test records after scoring"))
    widths = (2.2, 4.3, 2.2, 3.3, 1.9, 1.9)
    t = L.table(doc, 2, widths)
    for r, labels in enumerate(((_("Candidate's name"), "", _("Admission ticket No."), "", _("Test date"), ""),
                                (_("Employer"), "", _("Started"), "", _("Finished at"), ""))):
        for c, text in enumerate(labels):
            if text:
                L.cell_text(t.rows[r].cells[c], text, east_asia=L.HEI)
        L.row_height(t, r, 0.85)
    L.keep_together(t)
    L.para(doc, "")
    chosen = _("The candidate answers one topic, scored by that topic's standard. ") if not practical else ""
    L.para(doc, _("Scoring: {chosen}a group of {n} examiners scores each point independently by the standard, "
                  "writing the deduction and the score; no point loses more than it is worth. The score is the "
                  "examiners' mean.", chosen=chosen, n=n_examiners), L.S_BODY)
    for number, it in enumerate(paper.items, start=1):
        c = it.content
        head = _("Task {number}: {task} ({points} points{time})", number=number, task=c.stem.strip(),
                 points=fmt_points(it.points),
                 time=_(", time allowed {time}", time=_task_time(c.time_limit_min)) if c.time_limit_min else "")
        P.write_text(doc, head, L.S_SECTION, paper.pictures, where=f"item {it.ref}")
        t = L.table(doc, 1, _SCORE_W, cell_style=L.S_CELL_SMALL)
        for cell, text in zip(t.rows[0].cells, (_("No."), _("Scoring point"), _("Points allotted"), _("Standard"),
                                                _("Deducted"), _("Points scored"), _("Remarks"))):
            L.cell_text(cell, text, east_asia=L.HEI)
        for i, rp in enumerate(c.rubric, start=1):
            cells = L.add_row(t, _SCORE_W, style=L.S_CELL_SMALL)
            cells[0].paragraphs[0].add_run(str(i))
            L.cell_text(cells[1], rp.description, style=L.S_CELL_LEFT)
            cells[2].paragraphs[0].add_run(fmt_points(rp.points))
            L.cell_text(cells[3], rp.criteria or _("deduct as the point is missed"), style=L.S_CELL_LEFT)
        cells = L.add_row(t, _SCORE_W, style=L.S_CELL_SMALL)
        cells[1].paragraphs[0].add_run(_("Sum"))
        cells[2].paragraphs[0].add_run(fmt_points(sum(rp.points for rp in c.rubric) if c.rubric else it.points))
        L.repeat_header(t)
        L.keep_rows_together(t)
        L.keep_with_next(t, last_row=False)
        L.para(doc, "")
    # 成绩汇总: every examiner's score per task, the mean, and the signatures: one block
    block = [L.para(doc, _("Summary of scores"), L.S_SECTION)]
    ex_w = min(2.0, (L.TEXT_W_CM - 4.0 - 1.4 - 2.0) / n_examiners)
    widths = [4.0, 1.4] + [ex_w] * n_examiners + [2.0]
    t = L.table(doc, 1, widths, cell_style=L.S_CELL_SMALL)
    for cell, text in zip(t.rows[0].cells, [_("Task"), _("Points allotted"),
                                            *(_("Examiner {number}", number=i) for i in range(1, n_examiners + 1)),
                                            _("Mean score")]):
        L.cell_text(cell, text, east_asia=L.HEI)
    if not practical:
        # the candidate defends one topic of the list: one row for the topic chosen
        full = max(it.points for it in paper.items)
        summary = [(_("Topic chosen: No. ____"), full)]
    else:
        full = paper.total_points
        summary = [(_("Task {number}", number=number), it.points) for number, it in enumerate(paper.items, start=1)]
    for label, points in summary:
        cells = L.add_row(t, widths, style=L.S_CELL_SMALL)
        cells[0].paragraphs[0].add_run(label)
        cells[1].paragraphs[0].add_run(fmt_points(points))
    for k, label in enumerate((_("Sum"), _("Examiners' signatures"))):
        cells = L.add_row(t, widths, style=L.S_CELL_SMALL)
        L.cell_text(cells[0], label, east_asia=L.HEI)
        if k == 0:
            cells[1].paragraphs[0].add_run(fmt_points(full))
    for i in range(len(t.rows)):
        L.row_height(t, i, 0.75)
    L.keep_rows_together(t)
    L.keep_with_next(t)  # the whole table, last row included, stays with the signatures
    block.append(L.para(doc, ""))
    for i in range(1, n_examiners + 1):
        p = L.para(doc, _("Examiner {number} (signature): ", number=i), L.S_SIGN)
        L.blank_field(p, 10)
        L.run(p, "\u3000\u3000" + _("Examiner card No.: "))
        L.blank_field(p, 12)
        block.append(p)
    p = L.para(doc, _("Group leader (signature): "), L.S_SIGN)
    L.blank_field(p, 10)
    L.run(p, "\u3000\u3000" + _("Date: ____ (year) __ (month) __ (day)"))
    block.append(p)
    L.keep_paragraphs_with_next(block)
    return doc


def render_scoring_sheet(paper: Paper, *, n_examiners: int = MIN_EXAMINERS) -> bytes:
    """评分表 for the examiners of a practical (or defence) paper: per task each rubric point
    with its points, deduction rule and boxes for the deduction and the score; a summary of
    every examiner's score and the mean; signature lines for ``n_examiners`` (>= 3) examiners
    and the group leader (附件2 第9条), kept on one page with the summary.

    Raises
    ------
    ExportError
        ``n_examiners`` < 3.
    PaperLayoutError
        ``paper`` is not a valid practical or defence paper (a deduction above its row's
        points, tasks longer than the time allowed ...).
    """
    return L.save(build_scoring_sheet(paper, n_examiners=n_examiners))


def build_defence_topics(paper: Paper) -> DocxDocument:
    validate_paper(paper, parts=(Part.DEFENCE,))
    if not paper.level.has_defence:
        raise ExportError(Message("paper {code}: defence topics are for levels 二级 and 一级 only, not {level} "
                                  "(附件1 第23条)", code=paper.code, level=paper.level), field="level")
    title = task_sheet_title(paper)
    doc = _new(paper, title, _("defence / technical review topics"), seal=False)
    title_block(doc, paper, title=title)
    L.para(doc, _("EXPLANATION"), L.S_NOTES_HEADING)
    for i, note in enumerate((
        _("Choose one of the topics below, write a paper or technical summary from your own work, and defend it "
          "(technical review)."),
        _("Defence time: {time} (presentation and questions).", time=minutes(paper.time_allowed_min)),
        _("The paper (technical summary) must be your own work, truthful and not copied."),
    ), start=1):
        L.para(doc, f"{i}．{note}", L.S_NOTE)
    L.para(doc, _("TOPICS"), L.S_SECTION)
    for number, it in enumerate(paper.items, start=1):
        P.write_text(doc, f"{number}．{it.content.stem.strip()}", L.S_STEM, paper.pictures,
                     where=f"item {it.ref}")
    return doc


def render_defence_topics(paper: Paper) -> bytes:
    """论文答辩/技术评审题目: the topic list of a defence paper (levels 二级 and 一级)."""
    return L.save(build_defence_topics(paper))
