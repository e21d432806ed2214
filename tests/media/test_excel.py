"""The Excel import with pictures: a .zip of the workbook and its images folder; the 图片 column
names the files, ``![caption](file.png)`` in a cell places one; every missing or refused picture
is reported with its sheet, row and column, and nothing is written then."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank import imports, media
from itembank.errors import ImportFileError
from itembank.imports import SHEET_COLUMNS, import_items
from itembank.items import get_item
from itembank.ledger import query_ledger
from itembank.orm_media import ItemVersionPictureRecord, MediaBlobRecord
from tests.workflow.conftest import MANAGER, Cast
from tests.workflow.test_imports import RUBRIC, practical_row, theory_row, xlsx

from .conftest import CIRCUIT_SVG, photo_jpeg, svg, wiring_png

pytestmark = pytest.mark.usefixtures("english")

THEORY = SHEET_COLUMNS["理论知识"]
PRACTICAL = SHEET_COLUMNS["实际操作"]


def _zip(book: bytes, files: dict[str, bytes], *, book_name: str = "题库/电工五级.xlsx") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(book_name, book)
        zf.writestr("__MACOSX/题库/._电工五级.xlsx", b"junk")
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


FILES = {"题库/images/接线图1.png": wiring_png(), "题库/images/设备/配电柜.JPG": photo_jpeg(900, 600),
         "题库/images/电路.svg": CIRCUIT_SVG}


def _book(**rows: dict) -> bytes:
    theory = [THEORY, theory_row("T1", 图片="接线图1.png", 题干="如图所示，开关应接在（　）上。"),
              theory_row("T2", 题干="下列接线正确的是（　）。", 选项A="![](设备/配电柜.jpg)", 选项B="![图](电路.svg)"),
              theory_row("T3"), *rows.get("theory", [])]
    practical = [PRACTICAL, practical_row("P1", 题干="按图接线：\n![图1 正反转控制](电路.svg)\n通电试车。",
                                          图片="电路.svg、接线图1.png")]
    return xlsx({"理论知识": theory, "实际操作": practical, "评分要点": [list(imports.RUBRIC_COLUMNS), *RUBRIC]})


def test_zip_import_brings_items_with_their_pictures(session: Session, cast: Cast) -> None:
    data = _zip(_book(), FILES)
    report = import_items(session, actor=MANAGER, bank=cast.bank, data=data, filename="电工五级.zip")
    assert report.created == ("T1", "T2", "T3", "P1")
    drawing = media.check_picture(wiring_png()).sha256
    photo = media.check_picture(photo_jpeg(900, 600)).sha256
    diagram = media.check_picture(CIRCUIT_SVG).sha256
    t1 = get_item(session, bank=cast.bank, code="T1").content
    assert t1.stem == f"如图所示，开关应接在（　）上。\n![](media:{drawing})"  # named in 图片: after the stem
    t2 = get_item(session, bank=cast.bank, code="T2").content
    assert [o.text for o in t2.options[:2]] == [f"![](media:{photo})", f"![图](media:{diagram})"]  # placed
    p1 = get_item(session, bank=cast.bank, code="P1").content
    # placed where written, the one not placed after the stem; the diagram is stored once for both
    assert p1.stem == f"按图接线：\n![图1 正反转控制](media:{diagram})\n通电试车。\n![](media:{drawing})"
    assert get_item(session, bank=cast.bank, code="T3").content.stem == "T3 安全电压的额定值不包括（　）。"
    assert session.scalar(select(func.count()).select_from(MediaBlobRecord)) == 3
    assert session.scalar(select(func.count()).select_from(ItemVersionPictureRecord)) == 5
    entry = query_ledger(session, action="import.items")[-1]
    assert sorted(entry.details["pictures"]) == sorted([drawing, photo, diagram])
    # importing the same zip again changes nothing
    again = import_items(session, actor=MANAGER, bank=cast.bank, data=data, filename="电工五级.zip")
    assert again.unchanged == ("T1", "T2", "T3", "P1")


def test_missing_and_refused_pictures_are_reported_with_sheet_row_and_column(session: Session, cast: Cast) -> None:
    rows = {"theory": [theory_row("T4", 图片="不存在.png"),
                       theory_row("T5", 题干="见图 ![](坏图.png)（　）"),
                       theory_row("T6", 图片="脚本.svg")]}
    files = {**FILES, "题库/images/坏图.png": b"GIF89a" + bytes(64), "题库/images/脚本.svg": svg("<script>x()</script>")}
    with pytest.raises(ImportFileError) as e:
        import_items(session, actor=MANAGER, bank=cast.bank, data=_zip(_book(**rows), files), filename="a.zip")
    got = [(p.sheet, p.row, p.column) for p in e.value.problems]
    assert got == [("理论知识", 5, "图片"), ("理论知识", 6, "题干"), ("理论知识", 7, "图片")]
    messages = [str(p.message) for p in e.value.problems]
    assert "不存在.png is not in the images folder" in messages[0]
    assert "GIF" in messages[1] and "script" in messages[2]
    assert str(e.value.problems[0]).startswith("理论知识, row 5, column 图片: item T4:")
    assert session.scalar(select(func.count()).select_from(MediaBlobRecord)) == 0  # nothing written


def test_pictures_without_the_zip_are_reported(session: Session, cast: Cast) -> None:
    with pytest.raises(ImportFileError) as e:
        import_items(session, actor=MANAGER, bank=cast.bank, data=_book(), filename="电工五级.xlsx")
    got = {(p.sheet, p.row, p.column) for p in e.value.problems}
    assert got == {("理论知识", 2, "图片"), ("理论知识", 3, "选项A"), ("理论知识", 3, "选项B"), ("实际操作", 2, "题干"),
                   ("实际操作", 2, "图片")}
    assert all("needs the images folder" in str(p.message) for p in e.value.problems)


@pytest.mark.parametrize(("files", "book_name", "words"), [
    ({}, "a.txt", "holds 0 workbooks"),
    ({"b.xlsx": b"x"}, "a.xlsx", "holds 2 workbooks"),
], ids=["no-workbook", "two-workbooks"])
def test_a_zip_must_hold_one_workbook(session: Session, cast: Cast, files: dict, book_name: str, words: str) -> None:
    with pytest.raises(ImportFileError) as e:
        import_items(session, actor=MANAGER, bank=cast.bank, data=_zip(_book(), files, book_name=book_name),
                     filename="a.zip")
    assert words in str(e.value.problems[0].message)


def test_ambiguous_names_and_damaged_zips(session: Session, cast: Cast) -> None:
    files = {**{k: v for k, v in FILES.items() if not k.endswith("接线图1.png")},
             "题库/images/旧/接线图1.png": wiring_png(seed=4), "题库/images/新/接线图1.png": wiring_png(seed=5)}
    with pytest.raises(ImportFileError) as e:
        import_items(session, actor=MANAGER, bank=cast.bank, data=_zip(_book(), files), filename="a.zip")
    assert any(p.column == "图片" and "2 times" in str(p.message) for p in e.value.problems)
    with pytest.raises(ImportFileError) as e:
        import_items(session, actor=MANAGER, bank=cast.bank, data=b"PK\x03\x04 not really", filename="a.zip")
    assert "not a zip file" in str(e.value.problems[0].message)


def test_the_template_offers_the_picture_column() -> None:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(imports.items_template()))
    for sheet in ("理论知识", "实际操作", "答辩评审"):
        header = [c.value for c in wb[sheet][1]]
        assert header[-1] == "图片" and "images" in wb[sheet].cell(row=1, column=len(header)).comment.text
