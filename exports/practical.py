"""Practical papers: the candidates' task sheet (实际操作试题), the examiners' scoring table
(评分表), and the topic list of defence / technical review papers (levels 二级 and 一级).

Practical tasks are scored by rubric by a group of at least three examiners (附件2 第9条):
each examiner scores every rubric point independently (deductions by the 评分标准), the
final score is their mean, and all examiners and the group leader sign. The candidates'
sheet gives each task's requirements, equipment, time and points, never the rubric.
"""

from __future__ import annotations

from docx.document import Document as DocxDocument

from itembank.domain import Paper, Part

from exports import layout as L
from exports import pictures as P
from exports.errors import ExportError
from exports.paper import SEAL_FIELDS, title_block
from exports.sections import validate_paper
from exports.wording import PRACTICAL_NOTES, fmt_points, form_label_zh

MIN_EXAMINERS = 3  # 附件2 第9条: a group of at least three examiners scores a practical task


def _title(paper: Paper, what: str) -> str:
    return f"{paper.occupation.label}（{paper.level.title_zh}）{what}"


def task_sheet_title(paper: Paper) -> str:
    return _title(paper, "实际操作试题" if paper.part is Part.PRACTICAL else "论文答辩/技术评审题目")


def _new(paper: Paper, title: str, what: str, *, seal: bool) -> DocxDocument:
    doc = L.new_document(L.DocumentInfo(
        title=title, subject=f"试卷编号 {paper.code} {what}", author=paper.centre_name,
        keywords=f"{paper.code};{form_label_zh(paper)};{what}", created=paper.created_at,
    ))
    sec = doc.sections[0]
    if seal:
        sec.different_first_page_header_footer = True
        L.sealing_strip(sec.first_page_header, fields=SEAL_FIELDS)
    L.running_header(sec, left=title, right=f"试卷编号：{paper.code}", first_page_too=not seal)
    L.page_footer(sec)
    return doc


def _minutes(x: float | None) -> str:
    return f"{fmt_points(x)}分钟" if x else "按考场规定"


_TASK_W = (3.2, L.TEXT_W_CM - 3.2)


def build_task_sheet(paper: Paper) -> DocxDocument:
    validate_paper(paper, parts=(Part.PRACTICAL,))
    title = task_sheet_title(paper)
    doc = _new(paper, title, "实际操作试题", seal=True)
    title_block(doc, paper, title=title)
    L.para(doc, "注\u3000意\u3000事\u3000项", L.S_NOTES_HEADING)
    notes = [f"考核时间：{paper.time_allowed_min}分钟。", *PRACTICAL_NOTES]
    for i, note in enumerate(notes, start=1):
        L.para(doc, f"{i}．{note}", L.S_NOTE)
    L.para(doc, "")
    # score table: 题号 试题1 … 总分 / 得分
    n = len(paper.items)
    col_w = min(1.8, (L.TEXT_W_CM - 3.6) / max(n, 1))
    widths = [1.8] + [col_w] * n + [1.8]
    t = L.table(doc, 2, widths)
    for c, text in zip(t.rows[0].cells, ["题\u3000号", *(f"试题{i}" for i in range(1, n + 1)), "总\u3000分"]):
        c.paragraphs[0].add_run(text)
    t.rows[1].cells[0].paragraphs[0].add_run("得\u3000分")
    L.row_height(t, 1, 0.9)
    L.para(doc, "")
    for number, it in enumerate(paper.items, start=1):
        c = it.content
        L.para(doc, f"试题{number}（本题{fmt_points(it.points)}分，考核时间{_minutes(c.time_limit_min)}）",
               L.S_SECTION)
        rows = [("考核内容与要求", c.stem.strip()),
                ("设备、工具和材料", c.equipment.strip() or "由考场统一提供"),
                ("考核时间", _minutes(c.time_limit_min)),
                ("配\u3000\u3000分", f"{fmt_points(it.points)}分")]
        t = L.table(doc, len(rows), _TASK_W, cell_style=L.S_CELL_LEFT)
        for i, (r, (label, text)) in enumerate(zip(t.rows, rows)):
            L.cell_text(r.cells[0], label, east_asia=L.HEI, style=L.S_CELL)
            P.write_cell(r.cells[1], text, paper.pictures, where=f"item {it.ref}",
                         max_width_cm=_TASK_W[1] - 0.4)
            L.row_height(t, i, 0.8)
        L.keep_rows_together(t)
        L.keep_with_next(t, last_row=False)
        L.para(doc, "")
    return doc


def render_task_sheet(paper: Paper) -> bytes:
    """实际操作试题 for candidates: per task the requirements, equipment, time and points; no
    rubric. Raises ``PaperLayoutError`` unless ``paper`` is a valid practical paper."""
    return L.save(build_task_sheet(paper))


_SCORE_W = (0.9, 4.6, 1.1, 5.4, 1.2, 1.2, 1.4)


def _examiners(n: int) -> int:
    if n < MIN_EXAMINERS:
        raise ExportError(
            f"n_examiners is {n}: a practical task is scored by at least {MIN_EXAMINERS} examiners (附件2 第9条)",
            field="n_examiners",
        )
    return n


def build_scoring_sheet(paper: Paper, *, n_examiners: int = MIN_EXAMINERS) -> DocxDocument:
    validate_paper(paper, parts=(Part.PRACTICAL, Part.DEFENCE))
    n_examiners = _examiners(n_examiners)
    what = "实际操作考核评分表" if paper.part is Part.PRACTICAL else "论文答辩/技术评审评分表"
    title = _title(paper, what)
    doc = _new(paper, title, what, seal=False)
    title_block(doc, paper, title=title, confidential="考评员用　评分后随考核记录一并归档")
    widths = (2.2, 4.3, 2.2, 3.3, 1.9, 1.9)
    t = L.table(doc, 2, widths)
    for r, labels in enumerate((("考生姓名", "", "准考证号", "", "考核日期", ""),
                                ("单位名称", "", "开始时间", "", "结束时间", ""))):
        for c, text in enumerate(labels):
            if text:
                L.cell_text(t.rows[r].cells[c], text, east_asia=L.HEI)
        L.row_height(t, r, 0.85)
    L.para(doc, "")
    chosen = "考生选答一题，按所选题目的评分标准评分；" if paper.part is Part.DEFENCE else ""
    L.para(doc, f"评分说明：{chosen}考评小组由{n_examiners}名考评员组成，各考评员按评分标准独立评分，"
                "逐项填写扣分和得分；得分为各考评员评分的平均值。", L.S_BODY)
    for number, it in enumerate(paper.items, start=1):
        c = it.content
        head = f"试题{number}：{c.stem.strip()}"
        tail = f"（配分{fmt_points(it.points)}分" + (
            f"，考核时间{_minutes(c.time_limit_min)}）" if c.time_limit_min else "）")
        P.write_text(doc, P.append_to_text(head, tail), L.S_SECTION, paper.pictures, where=f"item {it.ref}")
        t = L.table(doc, 1, _SCORE_W, cell_style=L.S_CELL_SMALL)
        for cell, text in zip(t.rows[0].cells, ("序号", "考核要点", "配分", "评分标准", "扣分", "得分", "备注")):
            L.cell_text(cell, text, east_asia=L.HEI)
        for i, rp in enumerate(c.rubric, start=1):
            cells = L.add_row(t, _SCORE_W, style=L.S_CELL_SMALL)
            cells[0].paragraphs[0].add_run(str(i))
            L.cell_text(cells[1], rp.description, style=L.S_CELL_LEFT)
            cells[2].paragraphs[0].add_run(fmt_points(rp.points))
            L.cell_text(cells[3], rp.criteria or "按要点酌情扣分", style=L.S_CELL_LEFT)
        cells = L.add_row(t, _SCORE_W, style=L.S_CELL_SMALL)
        cells[1].paragraphs[0].add_run("合\u3000计")
        cells[2].paragraphs[0].add_run(fmt_points(sum(rp.points for rp in c.rubric) if c.rubric else it.points))
        L.repeat_header(t)
        L.keep_rows_together(t)
        L.keep_with_next(t, last_row=False)
        L.para(doc, "")
    # 成绩汇总: every examiner's score per task, the mean, and the signatures
    L.para(doc, "成绩汇总", L.S_SECTION)
    ex_w = min(2.0, (L.TEXT_W_CM - 4.0 - 1.4 - 2.0) / n_examiners)
    widths = [4.0, 1.4] + [ex_w] * n_examiners + [2.0]
    t = L.table(doc, 1, widths, cell_style=L.S_CELL_SMALL)
    for cell, text in zip(t.rows[0].cells, ["试\u3000题", "配分", *(f"考评员{i}" for i in range(1, n_examiners + 1)),
                                            "平均得分"]):
        L.cell_text(cell, text, east_asia=L.HEI)
    if paper.part is Part.DEFENCE:
        # the candidate defends one topic of the list: one row for the topic chosen
        full = max(it.points for it in paper.items)
        summary = [("所选题目：第\u3000\u3000题", full)]
    else:
        full = paper.total_points
        summary = [(f"试题{number}", it.points) for number, it in enumerate(paper.items, start=1)]
    for label, points in summary:
        cells = L.add_row(t, widths, style=L.S_CELL_SMALL)
        cells[0].paragraphs[0].add_run(label)
        cells[1].paragraphs[0].add_run(fmt_points(points))
    for label in ("合\u3000计", "考评员签字"):
        cells = L.add_row(t, widths, style=L.S_CELL_SMALL)
        L.cell_text(cells[0], label, east_asia=L.HEI)
        if label.startswith("合"):
            cells[1].paragraphs[0].add_run(fmt_points(full))
    for i in range(len(t.rows)):
        L.row_height(t, i, 0.75)
    L.para(doc, "")
    for i in range(1, n_examiners + 1):
        p = L.para(doc, f"考评员{i}（签字）：", L.S_SIGN)
        L.blank_field(p, 10)
        L.run(p, "\u3000\u3000考评员证号：")
        L.blank_field(p, 12)
    p = L.para(doc, "考评组长（签字）：", L.S_SIGN)
    L.blank_field(p, 10)
    L.run(p, "\u3000\u3000日期：\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日")
    return doc


def render_scoring_sheet(paper: Paper, *, n_examiners: int = MIN_EXAMINERS) -> bytes:
    """评分表 for the examiners of a practical (or defence) paper: per task each rubric point
    with its points, deduction rule and boxes for the deduction and the score; a summary of
    every examiner's score and the mean; signature lines for ``n_examiners`` (>= 3) examiners
    and the group leader (附件2 第9条).

    Raises
    ------
    ExportError
        ``n_examiners`` < 3.
    PaperLayoutError
        ``paper`` is not a valid practical or defence paper.
    """
    return L.save(build_scoring_sheet(paper, n_examiners=n_examiners))


def build_defence_topics(paper: Paper) -> DocxDocument:
    validate_paper(paper, parts=(Part.DEFENCE,))
    if not paper.level.has_defence:
        raise ExportError(f"paper {paper.code}: defence topics are for levels 二级 and 一级 only, "
                          f"not {paper.level.title_zh} (附件1 第23条)", field="level")
    title = task_sheet_title(paper)
    doc = _new(paper, title, "论文答辩/技术评审题目", seal=False)
    title_block(doc, paper, title=title)
    L.para(doc, "说\u3000\u3000明", L.S_NOTES_HEADING)
    for i, note in enumerate((
        "考生从下列题目中选定一题，结合本人工作实际撰写论文或技术总结，并参加答辩（技术评审）。",
        f"答辩时间：{paper.time_allowed_min}分钟（含陈述与回答问题）。",
        "论文（技术总结）须为本人独立完成，内容真实，不得抄袭。",
    ), start=1):
        L.para(doc, f"{i}．{note}", L.S_NOTE)
    L.para(doc, "题\u3000\u3000目", L.S_SECTION)
    for number, it in enumerate(paper.items, start=1):
        P.write_text(doc, f"{number}．{it.content.stem.strip()}", L.S_STEM, paper.pictures,
                     where=f"item {it.ref}")
    return doc


def render_defence_topics(paper: Paper) -> bytes:
    """论文答辩/技术评审题目: the topic list of a defence paper (levels 二级 and 一级)."""
    return L.save(build_defence_topics(paper))
