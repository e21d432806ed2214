"""The bank readiness report (题库达标情况报告): banks against their minimums (附件11 第7条).

One summary table over the banks, then per bank: the verdict, a table of its parts (minimum
and where it comes from, accepted, compromised, usable items, element table version), the
items by type, every element with its count against what its weight calls for, and the
shortfalls and warnings in the words ``itembank.readiness`` gives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from docx.document import Document as DocxDocument

from itembank.domain import ItemType, Level
from itembank.readiness import BankReadiness

from exports import layout as L
from exports.errors import ExportError
from exports.wording import chinese_numeral

REPORT_TITLE = "题库达标情况报告"


def _type_zh(value: str) -> str:
    try:
        return ItemType(value).zh
    except ValueError:
        return value


def _bank_line(r: BankReadiness) -> str:
    occ = r.bank.occupation
    return f"{occ.code} {occ.name}（工种：{occ.display_work_type}）{Level(r.bank.level).title_zh}"


def build_readiness_report(reports: Sequence[BankReadiness], *, as_of: date | None = None,
                           centre_name: str = "职业技能等级认定中心") -> DocxDocument:
    if not reports:
        raise ExportError("no bank readiness reports to print", field="reports")
    doc = L.new_document(L.DocumentInfo(title=REPORT_TITLE, subject="题库达标情况", author=centre_name))
    sec = doc.sections[0]
    L.running_header(sec, left=f"{centre_name} {REPORT_TITLE}", right=as_of.isoformat() if as_of else "")
    L.page_footer(sec)
    L.para(doc, centre_name, L.S_CENTRE)
    L.para(doc, REPORT_TITLE, L.S_TITLE)
    if as_of:
        L.para(doc, f"统计日期：{as_of.year}年{as_of.month}月{as_of.day}日", L.S_INFO)
    L.para(doc, "依据：附件11 第7条（理论知识不少于1200题；实际操作不少于20题，知识技能型职业与理论知识相同；"
                "二级、一级论文答辩/技术评审题目不少于10题）。未达标题库不得用于正式组卷。", L.S_BODY)

    widths = (2.3, 4.2, 2.4, 2.2, 1.6, 1.5, 1.6)
    t = L.table(doc, 1, widths, cell_style=L.S_CELL_SMALL)
    for c, text in zip(t.rows[0].cells, ("职业编码", "职业（工种）", "等级", "职业类型", "结论", "短缺项", "提示项")):
        L.cell_text(c, text, east_asia=L.HEI)
    for r in reports:
        occ = r.bank.occupation
        cells = L.add_row(t, widths, style=L.S_CELL_SMALL)
        for c, text in zip(cells, (occ.code, f"{occ.name}（{occ.display_work_type}）", Level(r.bank.level).title_zh,
                                   occ.category.zh, "达标" if r.ready else "未达标", str(len(r.shortfalls)),
                                   str(len(r.warnings)))):
            c.paragraphs[0].add_run(text)
    L.repeat_header(t)

    for k, r in enumerate(reports, start=1):
        L.para(doc, f"{chinese_numeral(k)}、{_bank_line(r)}", L.S_HEADING)
        L.para(doc, f"结论：{'达标，可用于正式组卷' if r.ready else '未达标，不得用于正式组卷'}"
                    f"（短缺{len(r.shortfalls)}项，提示{len(r.warnings)}项）。", L.S_BODY)
        pw = (2.4, 1.6, 4.4, 1.5, 1.5, 1.5, 1.4, 1.5)
        pt = L.table(doc, 1, pw, cell_style=L.S_CELL_SMALL)
        for c, text in zip(pt.rows[0].cells, ("部分", "最低题量", "依据", "已验收", "已泄密", "可用", "细目表", "结论")):
            L.cell_text(c, text, east_asia=L.HEI)
        for p in r.parts:
            cells = L.add_row(pt, pw, style=L.S_CELL_SMALL)
            for i, text in enumerate((p.part.zh, str(p.minimum), str(p.minimum_source), str(p.accepted),
                                      str(p.compromised), str(p.usable),
                                      f"第{p.element_table_version}版" if p.element_table_version else "无",
                                      "达标" if p.ready else "未达标")):
                if i == 2:
                    L.cell_text(cells[i], text, style=L.S_CELL_LEFT)
                else:
                    cells[i].paragraphs[0].add_run(text)
        for p in r.parts:
            types = "，".join(f"{_type_zh(t_)} {n}题" for t_, n in p.by_type.items()) or "无"
            L.para(doc, f"{p.part.zh}按题型（可用）：{types}；未对应细目表鉴定点的题目 {p.untagged} 题。", L.S_BODY)
            if not p.elements:
                continue
            ew = (1.9, 4.6, 1.6, 1.6, 1.6, 2.1, 2.4)
            et = L.table(doc, 1, ew, cell_style=L.S_CELL_SMALL)
            for c, text in zip(et.rows[0].cells, ("鉴定点", "名称", "比重(%)", "重要程度", "题数", "应有约", "状态")):
                L.cell_text(c, text, east_asia=L.HEI)
            for e in p.elements:
                cells = L.add_row(et, ew, style=L.S_CELL_SMALL)
                for c, text in zip(cells, (e.code, e.name, f"{e.weight:g}",
                                           e.importance.value if e.importance else "—", str(e.count),
                                           f"{e.expected:.0f}", "题量不足" if e.short else "正常")):
                    c.paragraphs[0].add_run(text)
            L.repeat_header(et)
            L.para(doc, f"表：{p.part.zh}各鉴定点题量（应有约 = 最低题量 × 鉴定比重）", L.S_CAPTION)
        if r.shortfalls:
            L.para(doc, "短缺项：", L.S_BODY)
            for i, s in enumerate(r.shortfalls, start=1):
                L.para(doc, f"{i}．{s}", L.S_NOTE)
        if r.warnings:
            L.para(doc, "提示项：", L.S_BODY)
            for i, w in enumerate(r.warnings, start=1):
                L.para(doc, f"{i}．{w}", L.S_NOTE)
    return doc


def render_readiness_report(reports: Sequence[BankReadiness], *, as_of: date | None = None,
                            centre_name: str = "职业技能等级认定中心") -> bytes:
    """题库达标情况报告 for one or more banks, as .docx bytes.

    Parameters
    ----------
    reports : sequence of BankReadiness
        From ``itembank.readiness.bank_readiness``, in the order to print.
    as_of : date, optional
        The date printed as 统计日期 (left out when None, so the output stays reproducible).
    """
    return L.save(build_readiness_report(reports, as_of=as_of, centre_name=centre_name))
