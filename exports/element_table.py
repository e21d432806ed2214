"""The element specification table (认定要素细目表) as a Word table.

The layout is the one of the national tables: the scopes (行为领域, 鉴定范围 …) in column
groups of code / name / weight, their cells merged down over the elements they hold, then the
elements (鉴定点) with code, name, weight (鉴定比重, % of the part) and importance (重要程度
X core, Y general, Z minor). Rows are in the table's own order, depth first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from docx.document import Document as DocxDocument

from itembank.domain import ElementNode, ElementTable, Importance, Occupation

from exports import layout as L
from exports.errors import ExportError
from exports.wording import chinese_numeral, fmt_points

IMPORTANCE_ZH = {Importance.X: "核心要素", Importance.Y: "一般要素", Importance.Z: "辅助要素"}


def scope_titles(depth: int) -> list[str]:
    """Column-group titles of the scope levels above the elements."""
    if depth == 1:
        return ["鉴定范围"]
    if depth == 2:
        return ["行为领域", "鉴定范围"]
    return [f"{chinese_numeral(i + 1)}级鉴定范围" for i in range(depth)]


def _rows(table: ElementTable) -> list[tuple[tuple[ElementNode, ...], ElementNode]]:
    """(scopes from the top, element) for every element, depth first in table order."""
    out: list[tuple[tuple[ElementNode, ...], ElementNode]] = []

    def walk(node: ElementNode, path: tuple[ElementNode, ...]) -> None:
        kids = table.children(node.code)
        if not kids:
            out.append((path, node))
            return
        for k in kids:
            walk(k, path + (node,))

    for root in table.children(None):
        walk(root, ())
    return out


def _fmt_date(when: datetime | None) -> str:
    return f"{when.year}年{when.month}月{when.day}日" if when else ""


def build_element_table(table: ElementTable, *, occupation: Occupation | None = None,
                        centre_name: str = "职业技能等级认定中心") -> DocxDocument:
    if not table.nodes:
        raise ExportError(f"element table {table.occupation_code} v{table.version} has no nodes", field="nodes")
    rows = _rows(table)
    depth = max(len(path) for path, _ in rows)
    name = occupation.name if occupation else table.occupation_code
    work_type = occupation.display_work_type if occupation else (table.work_type or "——")
    title = f"{name}（{table.level.title_zh}）{table.part.zh}认定要素细目表"
    doc = L.new_document(L.DocumentInfo(
        title=title, subject=f"{table.occupation_code} {table.part.zh} 第{table.version}版", author=centre_name,
        keywords=f"{table.occupation_code};认定要素细目表;v{table.version}", created=table.created_at,
    ))
    sec = doc.sections[0]
    L.running_header(sec, left=title, right=f"第{table.version}版")
    L.page_footer(sec)
    L.para(doc, centre_name, L.S_CENTRE)
    L.para(doc, title, L.S_TITLE)
    L.para(doc, f"职业编码：{table.occupation_code}\u3000职业：{name}\u3000工种：{work_type}\u3000"
                f"等级：{table.level.title_zh}", L.S_INFO)
    version = f"版本：第{table.version}版"
    if table.created_at:
        version += f"\u3000日期：{_fmt_date(table.created_at)}"
    L.para(doc, version, L.S_INFO)

    if depth == 0:  # elements only, no scopes above them
        leaf_w = [2.5, L.TEXT_W_CM - 2.5 - 2.0 - 2.0, 2.0, 2.0]
        per_scope: list[float] = []
    else:
        leaf_w = [1.5, 3.5 if depth <= 2 else 2.6, 1.1, 1.2]
        scope_w = (L.TEXT_W_CM - sum(leaf_w)) / depth
        per_scope = [scope_w * 0.26, scope_w * 0.52, scope_w * 0.22]
    widths = [w for _ in range(depth) for w in per_scope] + leaf_w
    t = L.table(doc, 2 + len(rows), widths, cell_style=L.S_CELL_SMALL)
    head0, head1 = t.rows[0].cells, t.rows[1].cells
    for d, label in enumerate(scope_titles(depth)):
        for k, sub in enumerate(("代码", "名称", "比重(%)")):
            L.cell_text(head1[3 * d + k], sub, east_asia=L.HEI)
        L.cell_text(head0[3 * d], label, east_asia=L.HEI)
    base = 3 * depth
    L.cell_text(head0[base], "鉴定点", east_asia=L.HEI)
    for k, sub in enumerate(("代码", "名称", "比重(%)", "重要程度")):
        L.cell_text(head1[base + k], sub, east_asia=L.HEI)
    merges: list[tuple[int, int, int, int]] = [(0, 3 * d, 0, 3 * d + 2) for d in range(depth)]
    merges.append((0, base, 0, base + 3))

    # scope cells, merged down over the rows of their elements
    starts: dict[tuple[int, str], int] = {}
    for i, (path, leaf) in enumerate(rows):
        r = 2 + i
        cells = t.rows[r].cells
        for d, node in enumerate(path):
            key = (d, node.code)
            if key not in starts:
                starts[key] = r
                cells[3 * d].paragraphs[0].add_run(node.code)
                L.cell_text(cells[3 * d + 1], node.name)
                cells[3 * d + 2].paragraphs[0].add_run(fmt_points(node.weight))
        for k, text in enumerate((leaf.code, leaf.name, fmt_points(leaf.weight),
                                  leaf.importance.value if leaf.importance else "")):
            cells[base + k].paragraphs[0].add_run(text)
    for (d, code), start in starts.items():
        end = max(2 + i for i, (path, _) in enumerate(rows) if len(path) > d and path[d].code == code)
        if end > start:
            for k in range(3):
                merges.append((start, 3 * d + k, end, 3 * d + k))
    for r0, c0, r1, c1 in merges:
        t.cell(r0, c0).merge(t.cell(r1, c1))
    L.repeat_header(t, 2)

    leaves = [leaf for _, leaf in rows]
    total = sum(n.weight for n in table.children(None))
    counts = {imp: sum(1 for n in leaves if n.importance is imp) for imp in Importance}
    L.para(doc, "")
    L.para(doc, f"鉴定比重合计：{fmt_points(total)}%。鉴定点共{len(leaves)}个，其中"
                + "，".join(f"{imp.value}（{IMPORTANCE_ZH[imp]}）{counts[imp]}个" for imp in Importance) + "。",
           L.S_BODY)
    L.para(doc, "说明：重要程度 X 为核心要素，组卷时必须覆盖；Y 为一般要素；Z 为辅助要素。鉴定比重为该范围或鉴定点"
                "在本部分试卷中所占分值的百分比。", L.S_BODY)
    if table.note:
        L.para(doc, f"备注：{table.note}", L.S_BODY)
    return doc


def render_element_table(table: ElementTable, *, occupation: Occupation | None = None,
                         centre_name: str = "职业技能等级认定中心") -> bytes:
    """认定要素细目表 of one bank part as .docx bytes.

    Parameters
    ----------
    table : ElementTable
        Scopes and elements; weights in percent of the part.
    occupation : Occupation, optional
        For the occupation's name and work type (the code alone is printed otherwise).
    """
    return L.save(build_element_table(table, occupation=occupation, centre_name=centre_name))


def element_rows(table: ElementTable) -> Sequence[tuple[tuple[str, ...], str]]:
    """(scope codes from the top, element code) in printed order (for tests and callers)."""
    return [(tuple(n.code for n in path), leaf.code) for path, leaf in _rows(table)]
