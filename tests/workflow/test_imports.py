from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank import i18n
from itembank.domain import ItemType, Part, RubricPoint, VersionState
from itembank.elements import load_element_table
from itembank.errors import ImportFileError, PermissionDeniedError, ValidationError
from itembank.imports import (
    CSV_COLUMNS,
    SHEET_COLUMNS,
    ImportMode,
    elements_template,
    import_elements,
    import_items,
    items_csv_template,
    items_template,
    parse_items_xlsx,
)
from itembank.items import get_item, list_versions
from itembank.ledger import query_ledger, verify_ledger
from itembank.orm import ItemRecord, ItemVersionRecord, LedgerEntryRecord
from itembank.pool import load_pool
from itembank.workflow import acceptance_of, assign_reviewer, start_review, submit

from .conftest import MANAGER, R1, W1, Cast

S = VersionState
THEORY = SHEET_COLUMNS["理论知识"]
PRACTICAL = SHEET_COLUMNS["实际操作"]


def theory_row(code: str, **kw: object) -> list[object]:
    row = {"题目编号": code, "题型": "单项选择题", "题干": f"{code} 安全电压的额定值不包括（　）。", "选项A": "36V",
           "选项B": "24V", "选项C": "12V", "选项D": "110V", "答案": "D", "分值": 1, "鉴定点": "A-01", "难度": 2,
           "预计用时(秒)": 60, "解析/评分标准": "", "套题": None, "命题人": "w1"}
    row.update(kw)
    return [row.get(c) for c in THEORY]


def practical_row(code: str, **kw: object) -> list[object]:
    row = {"题目编号": code, "题干": "安装双控照明电路并通电试验。", "分值": 30, "鉴定点": "P-01", "难度": 3,
           "考核时限(分钟)": 60, "设备工具材料": "万用表、剥线钳", "命题人": "w1"}
    row.update(kw)
    return [row.get(c) for c in PRACTICAL]


RUBRIC = [["P1", 1, "接线正确", 15, "每错一处扣5分"], ["P1", 2, "通电成功", 10, ""], ["P1", 3, "安全文明", 5, ""]]


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def good_workbook(**changes: object) -> bytes:
    return xlsx({
        "理论知识": [THEORY, theory_row("T1"), theory_row("T2", 题型="多项选择题", 答案="A、B", 分值=2),
                 theory_row("T3", 题型="判断题", 选项A=None, 选项B=None, 选项C=None, 选项D=None, 答案="×",
                            套题="S1", **changes)],
        "实际操作": [PRACTICAL, practical_row("P1")],
        "评分要点": [["题目编号", "序号", "评分要点", "配分", "评分标准"], *RUBRIC],
    })


def _counts(session: Session) -> tuple[int, int, int]:
    return (session.scalar(select(func.count()).select_from(ItemRecord)) or 0,
            session.scalar(select(func.count()).select_from(ItemVersionRecord)) or 0,
            session.scalar(select(func.count()).select_from(LedgerEntryRecord)) or 0)


def _import(session: Session, cast: Cast, data: bytes, name: str = "bank.xlsx", **kw: object):  # type: ignore[no-untyped-def]
    return import_items(session, actor=MANAGER, bank=cast.bank, data=data, filename=name, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Good files, idempotency, modes


def test_import_creates_drafts_of_their_writers_and_is_idempotent(session: Session, cast: Cast) -> None:
    report = _import(session, cast, good_workbook())
    assert report.created == ("T1", "T2", "T3", "P1") and not report.revised
    t2 = get_item(session, bank=cast.bank, code="T2")
    assert t2.content.item_type is ItemType.MULTIPLE_CHOICE and t2.content.key == ("A", "B")
    t3 = get_item(session, bank=cast.bank, code="T3")
    assert t3.content.key == ("F",) and t3.set_code == "S1" and t3.state is S.DRAFT
    p1 = get_item(session, bank=cast.bank, code="P1")
    assert p1.content.rubric == (RubricPoint("接线正确", 15.0, "每错一处扣5分"), RubricPoint("通电成功", 10.0),
                                 RubricPoint("安全文明", 5.0))
    assert p1.content.time_limit_min == 60 and p1.content.estimated_time_s == 3600
    # the writer owns the draft and takes it through the workflow
    submit(session, actor=W1, bank=cast.bank, code="T1")
    entries = query_ledger(session, object_type="item", object_id=t3.id)
    assert entries[0].action == "item.import" and entries[0].details["writer"] == "w1"
    assert query_ledger(session, action="import.items")[-1].details["created"] == 4

    before = _counts(session)
    again = _import(session, cast, good_workbook())
    assert again.unchanged == ("T1", "T2", "T3", "P1") and not again.created and not again.revised
    assert _counts(session) == before, "re-importing the same file changes nothing"

    changed = _import(session, cast, good_workbook(题干="保护接零适用于中性点直接接地的系统。"))
    assert changed.revised == ("T3",) and len(changed.unchanged) == 3
    assert [(v.version, v.state) for v in list_versions(session, bank=cast.bank, code="T3")] == [
        (1, S.SUPERSEDED), (2, S.DRAFT)]
    assert verify_ledger(session).ok


def test_import_as_accepted_records_the_committee_batch(session: Session, cast: Cast) -> None:
    with pytest.raises(ValidationError, match="须注明验收小组的验收批次号") as exc:
        _import(session, cast, good_workbook(), mode=ImportMode.ACCEPTED)
    assert exc.value.field == "batch_ref"
    _import(session, cast, good_workbook(), mode="accepted", batch_ref="苏信院题验字〔2024〕3号")
    assert {it.code for it in load_pool(session, bank=cast.bank)} == {"T1", "T2", "T3", "P1"}
    batch = acceptance_of(session, bank=cast.bank, code="T1", version=1)
    assert batch is not None and batch.kind.value == "legacy" and batch.external_ref == "苏信院题验字〔2024〕3号"
    assert batch.items == (("P1", 1), ("T1", 1), ("T2", 1), ("T3", 1))
    report = _import(session, cast, good_workbook(分值=2), mode="accepted", batch_ref="苏信院题验字〔2024〕3号")
    assert report.revised == ("T3",)
    assert [(v.version, v.state) for v in list_versions(session, bank=cast.bank, code="T3")] == [
        (1, S.SUPERSEDED), (2, S.ACCEPTED)]
    assert acceptance_of(session, bank=cast.bank, code="T3", version=2).code == batch.code  # type: ignore[union-attr]
    assert [it.version for it in load_pool(session, bank=cast.bank) if it.code == "T3"] == [2]


def test_dry_run_writes_nothing(session: Session, cast: Cast) -> None:
    before = _counts(session)
    report = _import(session, cast, good_workbook(), dry_run=True)
    assert report.dry_run and len(report.created) == 4
    assert str(report.summary()).startswith("bank.xlsx：已校验，未写入；将作为草稿导入 4 道试题：新增 4 道")
    assert _counts(session) == before


def test_filled_in_template_imports(session: Session, cast: Cast) -> None:
    wb = load_workbook(io.BytesIO(items_template()))
    assert wb.sheetnames == ["说明", "理论知识", "实际操作", "答辩评审", "评分要点"]
    assert [c.value for c in wb["理论知识"][1]] == THEORY
    wb["理论知识"].append(theory_row("T1"))
    wb["实际操作"].append(practical_row("P1"))
    for r in RUBRIC:
        wb["评分要点"].append(r)
    buf = io.BytesIO()
    wb.save(buf)
    assert _import(session, cast, buf.getvalue()).created == ("T1", "P1")
    empty, problems = parse_items_xlsx(items_template())
    assert empty == [] and problems == []


def test_csv_with_inline_scoring_points_and_declared_gb18030(session: Session, cast: Cast) -> None:
    header = CSV_COLUMNS
    rows = [
        {"题目编号": "C1", "题型": "单选", "题干": "我国工频为（　）。", "选项A": "50Hz", "选项B": "60Hz",
         "答案": "A", "分值": "1", "鉴定点": "A-02", "命题人": "w1"},
        {"题目编号": "C2", "题型": "实际操作试题", "题干": "排除电动机不能启动的故障。", "分值": "20",
         "鉴定点": "P-02", "考核时限(分钟)": "45", "评分要点": "找出故障点 | 10 | 每漏一处扣5分\n排除故障 | 10",
         "命题人": "w1"},
        {"题目编号": "C3", "题型": "填空题", "题干": "三相电源线电压是相电压的____倍。", "答案": "√3|1.732",
         "分值": "1", "鉴定点": "A-02", "命题人": "w1"},
    ]
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(c, "") for c in header])
    text = buf.getvalue()
    report = _import(session, cast, text.encode("gb18030"), "bank.csv", encoding="gb18030")
    assert report.created == ("C1", "C2", "C3")
    assert get_item(session, bank=cast.bank, code="C2").content.rubric[0] == RubricPoint("找出故障点", 10.0, "每漏一处扣5分")
    assert get_item(session, bank=cast.bank, code="C3").content.key == ("√3", "1.732")
    again = _import(session, cast, ("\ufeff" + text).encode("utf-8"), "bank.csv")
    assert again.unchanged == ("C1", "C2", "C3"), "UTF-8 with BOM reads the same"
    assert items_csv_template().startswith("\ufeff题目编号".encode())


def test_a_thousand_rows_cross_the_chunk_boundaries(session: Session, cast: Cast) -> None:
    rows = [THEORY] + [theory_row(f"K{i:04d}", 鉴定点=("A-01", "A-02", "B-01", "B-02")[i % 4]) for i in range(1000)]
    report = _import(session, cast, xlsx({"理论知识": rows}))
    assert len(report.created) == 1000
    rows[501] = theory_row("K0500", 答案="C")
    again = _import(session, cast, xlsx({"理论知识": rows}))
    assert again.revised == ("K0500",) and len(again.unchanged) == 999
    assert len(query_ledger(session, action="item.import", limit=5000)) == 1001
    assert verify_ledger(session).ok


def test_only_bank_managers_import(session: Session, cast: Cast) -> None:
    with pytest.raises(PermissionDeniedError, match="导入需要职业 6-31-01-03 的题库管理人员角色"):
        import_items(session, actor=W1, bank=cast.bank, data=good_workbook(), filename="x.xlsx")


# --------------------------------------------------------------------------------------
# Broken files: every problem reported with sheet, row and column; nothing written

H = THEORY
BROKEN: dict[str, tuple[dict[str, list[list[object]]], list[tuple[str, int | None, str | None, str]]]] = {
    "unknown element code": (
        {"理论知识": [H, theory_row("T1", 鉴定点="A-01、Z-99")]},
        [("理论知识", 2, "鉴定点", "Z-99 不是现行理论知识认定要素细目表中的鉴定点")]),
    "missing key": (
        {"理论知识": [H, theory_row("T1", 答案=None)]},
        [("理论知识", 2, "答案", "单项选择题只能有一个正确答案，现有 0 个")]),
    "key not among options": (
        {"理论知识": [H, theory_row("T1", 答案="E")]},
        [("理论知识", 2, "答案", "答案 E 不在选项 ABCD 中")]),
    "points do not sum": (
        {"实际操作": [PRACTICAL, practical_row("P1", 分值=40)], "评分要点": [["题目编号", "序号", "评分要点", "配分"], *[r[:4] for r in RUBRIC]]},
        [("实际操作", 2, "评分要点", "评分要点配分合计 30 分，与试题分值 40 分不符")]),
    "duplicate code": (
        {"理论知识": [H, theory_row("T1"), theory_row("T2"), theory_row("T1")]},
        [("理论知识", 4, "题目编号", "试题编号 T1 重复：“理论知识”工作表第 2 行也有此编号")]),
    "duplicate code across sheets": (
        {"理论知识": [H, theory_row("X1")], "实际操作": [PRACTICAL, practical_row("X1", 分值=5)],
         "评分要点": [["题目编号", "评分要点", "配分"], ["X1", "做对", 5]]},
        [("实际操作", 2, "题目编号", "试题编号 X1 重复：“理论知识”工作表第 2 行也有此编号")]),
    "unknown type": (
        {"理论知识": [H, theory_row("T1", 题型="选择")]},
        [("理论知识", 2, "题型", "“选择”不是题型，请填写：单项选择题、多项选择题")]),
    "type on the wrong sheet": (
        {"理论知识": [H, theory_row("T1", 题型="实际操作试题")]},
        [("理论知识", 2, "题型", "实际操作试题属于实际操作，不应放在“理论知识”工作表，请移到“实际操作”工作表")]),
    "points not a number": (
        {"理论知识": [H, theory_row("T1", 分值="一分")]},
        [("理论知识", 2, "分值", "“一分”不是数字")]),
    "rating out of range": (
        {"理论知识": [H, theory_row("T1", 难度=7)]},
        [("理论知识", 2, "难度", "7 不是 1（最易）到 5（最难）之间的整数")]),
    "empty stem and bad code": (
        {"理论知识": [H, theory_row("T 1", 题干=" ")]},
        [("理论知识", 2, "题干", "题干为空"), ("理论知识", 2, "题目编号", "试题编号“T 1”不符合要求")]),
    "gap in the options": (
        {"理论知识": [H, theory_row("T1", 选项B=None)]},
        [("理论知识", 2, "选项B", "选项B为空而选项C已填写")]),
    "missing column": (
        {"理论知识": [[c for c in H if c != "鉴定点"], theory_row("T1")[:-1]]},
        [("理论知识", 1, None, "缺少必填列：鉴定点")]),
    "unknown column": (
        {"理论知识": [[*H, "出处"], theory_row("T1") + ["教材"]]},
        [("理论知识", 1, "出处", "无法识别的列；可用的列为：题目编号、题型")]),
    "unknown sheet": (
        {"理论": [H, theory_row("T1")]},
        [("理论", None, None, "无法识别的工作表"), ("bad.xlsx", None, None, "工作簿中没有试题工作表")]),
    "scoring points for an unknown item": (
        {"理论知识": [H, theory_row("T1")], "评分要点": [["题目编号", "评分要点", "配分"], ["P9", "x", 1]]},
        [("评分要点", 2, "题目编号", "P9 不是本文件试题工作表中的试题")]),
    "writer not registered": (
        {"理论知识": [H, theory_row("T1", 命题人="zhao")]},
        [("理论知识", 2, "命题人", "zhao 不在专家信息库中")]),
    "writer of another occupation": (
        {"理论知识": [H, theory_row("T1", 命题人="r1")]},
        [("理论知识", 2, "命题人", "未登记为任何职业的命题专家")]),
    "no element table for the part": (
        {"答辩评审": [SHEET_COLUMNS["答辩评审"], ["D1", None, "论述安全管理。", 20, "D-01", 3, None, "评审要点", None, "w1"]]},
        [("bad.xlsx", None, None, "没有论文答辩/技术评审认定要素细目表")]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_is_refused_whole_with_every_problem_located(session: Session, cast: Cast, case: str) -> None:
    sheets, expected = BROKEN[case]
    _import(session, cast, good_workbook())  # something in the bank already
    before = _counts(session)
    with pytest.raises(ImportFileError) as exc:
        _import(session, cast, xlsx(sheets), "bad.xlsx")
    got = exc.value.problems
    for sheet, row, column, text in expected:
        assert any(p.sheet == sheet and p.row == row and p.column == column and text in str(p.message) for p in got), \
            f"{case}: expected {sheet} row {row} column {column}: {text!r}; got:\n" + "\n".join(map(str, got))
    assert len(got) == len(expected), "\n".join(map(str, got))
    assert _counts(session) == before, "nothing is written"


def test_every_problem_of_a_file_is_listed_at_once(session: Session, cast: Cast) -> None:
    rows = [H] + [theory_row(f"T{i}") for i in range(1, 9)]
    rows[2] = theory_row("T2", 答案="Z")
    rows[4] = theory_row("T4", 鉴定点="Q-1")
    rows[6] = theory_row("T1")
    rows[8] = theory_row("T8", 分值=-1)
    with pytest.raises(ImportFileError) as exc:
        _import(session, cast, xlsx({"理论知识": rows}), "many.xlsx")
    located = [(p.row, p.column) for p in exc.value.problems]
    assert located == [(3, "答案"), (5, "鉴定点"), (7, "题目编号"), (9, "分值")], "sorted by row"
    assert "many.xlsx：4 行中有 4 个问题，未导入任何数据。" in str(exc.value)
    assert "理论知识第 3 行“答案”列：答案 Z 不在选项 ABCD 中" in str(exc.value)
    assert _counts(session)[0] == 0


def test_every_problem_of_a_row_is_reported_at_once_sorted_by_sheet_and_row(session: Session, cast: Cast) -> None:
    # one row with an unreadable number, a key not among the options, an unknown element and an
    # unknown writer: all four reported together, each naming the column by its header; the
    # practical sheet comes after the theory sheet whatever order the workbook has
    bad_row = theory_row("T2", 分值="两分", 答案="E", 鉴定点="Z-01", 命题人="nobody")
    data = xlsx({"实际操作": [PRACTICAL, practical_row("P1", 分值="三十", **{"考核时限(分钟)": None})],
                 "理论知识": [H, theory_row("T1", 难度="很难"), bad_row]})
    with pytest.raises(ImportFileError) as exc:
        _import(session, cast, data, "rows.xlsx")
    got = [(p.sheet, p.row, p.column) for p in exc.value.problems]
    assert got == [("理论知识", 2, "难度"),
                   ("理论知识", 3, "答案"), ("理论知识", 3, "分值"), ("理论知识", 3, "鉴定点"), ("理论知识", 3, "命题人"),
                   ("实际操作", 2, "分值"), ("实际操作", 2, "考核时限(分钟)"), ("实际操作", 2, "评分要点")], \
        "\n".join(map(str, exc.value.problems))
    text = [str(p) for p in exc.value.problems]
    assert text[2] == "理论知识第 3 行“分值”列：“两分”不是数字"
    assert text[1] == "理论知识第 3 行“答案”列：答案 E 不在选项 ABCD 中"
    assert text[3] == "理论知识第 3 行“鉴定点”列：Z-01 不是现行理论知识认定要素细目表中的鉴定点"
    assert text[4].startswith("理论知识第 3 行“命题人”列：nobody 不能担任职业 6-31-01-03 的命题专家")
    with i18n.use_locale("en"):
        assert str(exc.value.problems[2]) == "理论知识, row 3, column 分值: '两分' is not a number"


def test_item_in_review_or_in_another_part_cannot_be_replaced(session: Session, cast: Cast) -> None:
    _import(session, cast, good_workbook())
    submit(session, actor=W1, bank=cast.bank, code="T1")
    assign_reviewer(session, actor=MANAGER, bank=cast.bank, code="T1", reviewer="r1")
    start_review(session, actor=R1, bank=cast.bank, code="T1")
    data = xlsx({"理论知识": [H, theory_row("T1", 答案="C")],
                 "实际操作": [PRACTICAL, practical_row("T2", 分值=5)],
                 "评分要点": [["题目编号", "评分要点", "配分"], ["T2", "做对", 5]]})
    with pytest.raises(ImportFileError) as exc:
        _import(session, cast, data, "again.xlsx")
    text = "\n".join(map(str, exc.value.problems))
    assert "试题 T1 第 1 版正处于“审核中”状态，导入不能替换其内容" in text
    assert "试题 T2 已作为理论知识试题在题库中，不能改为实际操作" in text


@pytest.mark.parametrize(
    ("data", "name", "encoding", "text"),
    [
        ("题目编号,题型\nT1,单选\nT2,判断\n".encode("gbk"), "gbk.csv", None,
         "编码有误：第 1 行第 1 个字节（文件第 0 字节处的 0xcc）不是有效的 utf-8-sig 编码。文件看起来是 GBK/GB18030 编码"),
        ("题目编号,题型,题干\n".encode() + b"T1,\xff\xfe\xfd,x\n", "mixed.csv", None, "第 2 行第 4 个字节"),
        ("题目编号".encode("utf-16"), "u16.csv", None, "UTF-16"),
        (b"PK\x03\x04garbage", "wb.csv", None, "这是 Excel 工作簿而不是 CSV 文件"),
        (b"not a zip at all", "fake.xlsx", None, "这不是 Excel .xlsx 工作簿"),
        ("题目编号\n".encode(), "enc.csv", "klingon", "无法识别的编码“klingon”"),
    ],
)
def test_bad_encodings_and_wrong_formats(session: Session, cast: Cast, data: bytes, name: str,
                                         encoding: str | None, text: str) -> None:
    before = _counts(session)
    with pytest.raises(ImportFileError) as exc:
        _import(session, cast, data, name, encoding=encoding)
    assert any(text in str(p.message) for p in exc.value.problems), [str(p) for p in exc.value.problems]
    assert _counts(session) == before


def test_csv_row_numbers_count_records(session: Session, cast: Cast) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    good = {"题目编号": "C1", "题型": "单选", "题干": "第一行\n第二行（　）", "选项A": "a", "选项B": "b", "答案": "A",
            "分值": "1", "鉴定点": "A-01", "命题人": "w1"}
    w.writerow([good.get(c, "") for c in CSV_COLUMNS])
    w.writerow([{**good, "题目编号": "C2", "答案": "C"}.get(c, "") for c in CSV_COLUMNS])
    with pytest.raises(ImportFileError) as exc:
        _import(session, cast, buf.getvalue().encode(), "x.csv")
    assert [(p.row, p.column) for p in exc.value.problems] == [(3, "答案")]


# --------------------------------------------------------------------------------------
# Element tables


def test_element_tables_import_from_xlsx(session: Session, cast: Cast) -> None:
    report = import_elements(session, actor=MANAGER, bank=cast.bank, data=elements_template(), filename="e.xlsx")
    assert report.versions == {"theory": 2} and report.n_rows == 5
    table = load_element_table(session, bank=cast.bank, part=Part.THEORY)
    assert table.version == 2 and [n.code for n in table.leaves()] == ["A-01", "A-02", "B-01"]
    again = import_elements(session, actor=MANAGER, bank=cast.bank, data=elements_template(), filename="e.xlsx")
    assert again.versions == {"theory": None}, "an unchanged table makes no new version"
    assert query_ledger(session, action="import.elements")[-1].details["versions"] == {"theory": 2}


def test_broken_element_table_is_refused_with_rows(session: Session, cast: Cast) -> None:
    rows = [["部分", "代码", "名称", "上级代码", "比重(%)", "重要程度"],
            ["理论知识", "A", "基本要求", None, 40, None],
            ["理论知识", "A-01", "职业道德", "A", 30, "X"],
            ["理论知识", "B", "相关知识", None, 60, None],
            ["理论知识", "B-01", "工具仪表", "B", "六十", "X"],
            ["实操", "P", "操作", None, 100, "Q"],
            ["会计", "Z", "z", None, 100, "X"]]
    with pytest.raises(ImportFileError) as exc:
        import_elements(session, actor=MANAGER, bank=cast.bank, data=xlsx({"认定要素细目表": rows}), filename="e.xlsx")
    got = {(p.row, p.column) for p in exc.value.problems}
    assert {(5, "比重(%)"), (6, "重要程度"), (7, "部分")} <= got
    assert "认定要素细目表第 2 行“比重(%)”列：理论知识：下级比重合计 30.00%，与本级的 40.00% 不符" in \
        [str(p) for p in exc.value.problems]
    assert load_element_table(session, bank=cast.bank, part=Part.THEORY).version == 1
