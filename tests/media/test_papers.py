"""Pictures in every Word/PDF document of a paper: theory paper (stem and options), answer key,
practical task sheet and scoring sheet, defence topics; the PDF rendering through LibreOffice;
and papers loaded from the database carry their pictures (assembly's stored papers, the CLI)."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.shared import Cm
from sqlalchemy.orm import Session

from exports import docx_to_pdf, export_paper, render_answer_key, render_theory_paper
from exports import layout as L
from exports import pictures as P
from exports.errors import PaperLayoutError
from exports.pdf import find_soffice
from itembank import assembly_service as asvc
from itembank import media, workflow
from itembank.domain import ItemType, Level, Option, PaperKind, Part, VersionState
from itembank.items import add_item, get_item
from itembank.orm_assembly import PaperItemRecord, PaperRecord
from tests.exports.conftest import make_item, make_paper
from tests.itembank.conftest import practical_task, single_choice
from tests.workflow.conftest import W1, Cast

from .conftest import CIRCUIT_SVG, photo_jpeg, wiring_png

pytestmark = pytest.mark.usefixtures("english")  # messages read in English

DRAWING = media.check_picture(wiring_png(640, 400))  # 10.8 x 6.8 cm at 150 dpi
DIAGRAM = media.check_picture(CIRCUIT_SVG)  # 2000 x 1000: wider than the text
PHOTO = media.check_picture(photo_jpeg(1800, 2400, orientation=1))  # tall: limited by the height
PICTURES = {p.sha256: p.data for p in (DRAWING, DIAGRAM, PHOTO)}


def ref(p: media.CheckedPicture, caption: str = "") -> str:
    return media.picture_markup(p.sha256, caption)


def _open(data: bytes) -> DocxDocument:
    return docx.Document(io.BytesIO(data))


def _shapes(doc: DocxDocument) -> list[tuple[float, float]]:
    """(width, height) in cm of every inline picture, body and tables."""
    return [(round(s.width / Cm(1), 2), round(s.height / Cm(1), 2)) for s in doc.inline_shapes]


def _picture_paper():  # type: ignore[no-untyped-def]
    choice = make_item("T1", ItemType.SINGLE_CHOICE, stem=f"如图所示，灯泡的正确接法是\n{ref(DRAWING, '图1 照明电路')}")
    options = tuple(Option(lbl, f"接法{lbl}\n{ref(pic)}") for lbl, pic in zip("AB", (DRAWING, PHOTO)))
    choice_pic_options = make_item("T2", ItemType.SINGLE_CHOICE, stem="下列接线图中正确的是（　）。")
    choice_pic_options = dataclasses.replace(choice_pic_options, content=dataclasses.replace(
        choice_pic_options.content, options=options, key=("A",)))
    tf = make_item("T3", ItemType.TRUE_FALSE, stem=f"下图中的电路为串联电路。\n{ref(DIAGRAM)}")
    calc = make_item("T4", ItemType.CALCULATION, points=10.0,
                     stem=f"电路如图：\n{ref(DIAGRAM, '图2')}\n已知 R1=10Ω，求总电流。",
                     analysis=f"参考答案：按下图等效：\n{ref(DRAWING)}\nI=U/R。")
    return make_paper([choice, choice_pic_options, tf, calc], pictures=PICTURES)


def test_theory_paper_prints_each_picture_at_a_sensible_size() -> None:
    paper = _picture_paper()
    doc = _open(render_theory_paper(paper))
    shapes = _shapes(doc)
    # stem of T1, the two options of T2, T3's diagram, T4's diagram (the key has the analysis)
    assert len(shapes) == 5
    assert shapes[0] == pytest.approx((10.84, 6.77), abs=0.01)  # natural size: 640 x 400 px at 150 dpi
    assert shapes[1] == pytest.approx(P.print_size(DRAWING.data, max_width_cm=P.OPTION_MAX_WIDTH_CM,
                                                   max_height_cm=P.OPTION_MAX_HEIGHT_CM), abs=0.01)
    assert shapes[1][0] == P.OPTION_MAX_WIDTH_CM  # an option's picture: narrower
    assert shapes[2][1] == P.OPTION_MAX_HEIGHT_CM and shapes[2][0] < P.OPTION_MAX_WIDTH_CM  # the tall photo
    assert shapes[3] == (P.MAX_WIDTH_CM, P.MAX_WIDTH_CM / 2)  # the wide diagram: at most 12 cm, aspect kept
    for width, height in shapes:
        assert width <= P.MAX_WIDTH_CM + 1e-6 and height <= P.MAX_HEIGHT_CM + 1e-6
    texts = [p.text for p in doc.paragraphs]
    stem = texts.index("1．如图所示，灯泡的正确接法是（\u3000\u3000）")  # the bracket before the picture
    assert texts[stem + 1] == "" and texts[stem + 2] == "图1 照明电路"  # picture, then its caption
    assert doc.paragraphs[stem + 1].paragraph_format.keep_together
    options = [p for p in doc.paragraphs if p.text.startswith(("A．接法", "B．接法"))]
    assert [p.text for p in options] == ["A．接法A\n", "B．接法B\n"]  # one paragraph each, the picture under it
    assert [len(p._p.xpath(".//w:drawing")) for p in options] == [1, 1]
    assert options[0].paragraph_format.keep_with_next and options[0].paragraph_format.keep_together
    assert not any("media:" in t for t in texts)  # no markup leaks onto paper
    assert "已知 R1=10Ω，求总电流。" in texts  # the words after the picture, a paragraph of their own


def test_answer_key_task_sheet_scoring_sheet_and_topics_print_pictures() -> None:
    paper = _picture_paper()
    key = _open(render_answer_key(paper))
    assert len(_shapes(key)) == 2  # T4: the diagram in its stem, the drawing in its analysis
    from itembank.i18n import _

    assert any(p.text == _("Reference answer: {answer}", answer="按下图等效：") for p in key.paragraphs)

    task = make_item("P1", ItemType.PRACTICAL_TASK, stem=f"按图接线：\n{ref(DIAGRAM, '图1 电动机正反转控制')}\n通电试车。")
    practical = make_paper([task], part=Part.PRACTICAL, time_allowed_min=60, pictures=PICTURES)
    sheet, scoring = (_open(d.content) for d in export_paper(practical))
    cell = sheet.tables[-1].rows[0].cells[1]
    assert len(cell._tc.xpath(".//w:drawing")) == 1 and cell.paragraphs[0].text == "按图接线："
    assert [p.text for p in cell.paragraphs][-2:] == ["图1 电动机正反转控制", "通电试车。"]
    width, _ = _shapes(sheet)[0]
    assert width == pytest.approx(min(P.MAX_WIDTH_CM, L.TEXT_W_CM - 3.2 - 0.4), abs=0.01)  # inside its cell
    assert len(_shapes(scoring)) == 1

    topic = make_item("D1", ItemType.DEFENCE_TOPIC, stem=f"结合下图所示配电柜，论述改造方案。\n{ref(PHOTO)}")
    defence = make_paper([topic], part=Part.DEFENCE, level=Level.L2, time_allowed_min=30, pictures=PICTURES)
    topics = _open(export_paper(defence)[0].content)
    assert _shapes(topics) == [pytest.approx(P.print_size(PHOTO.data, max_width_cm=P.MAX_WIDTH_CM), abs=0.01)]


def test_papers_without_pictures_print_as_before_and_missing_pictures_are_refused() -> None:
    doc_a, doc_b = docx.Document(), docx.Document()
    plain = "第1号单选题：安全电压的额定值不包括（　）。"
    assert P.write_text(doc_a, plain, None, {})._p.xml == L.para(doc_b, plain, None)._p.xml
    assert P.append_to_text("甲（　）", "（2分）") == "甲（　）" + "（2分）"
    item = make_item("T9", ItemType.SINGLE_CHOICE, stem=f"见图 {ref(DRAWING)}")
    with pytest.raises(PaperLayoutError, match="item T9 v1 shows picture"):
        render_theory_paper(make_paper([item]))  # the paper was built without its pictures


def test_the_pdf_shows_the_pictures(tmp_path: Path) -> None:
    if find_soffice() is None or shutil.which("pdfimages") is None:
        pytest.fail("LibreOffice and poppler-utils are needed (apt-get install libreoffice-writer-nogui "
                    "poppler-utils): CI installs them")
    pdf = docx_to_pdf(render_theory_paper(_picture_paper()))
    path = tmp_path / "paper.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True, timeout=60,
                             text=True).stdout.splitlines()[2:]
    rows = [line.split() for line in listing if line.strip()]
    # every picture printed (LibreOffice resamples large ones to 300 ppi, keeping the aspect)
    ratios = sorted(round(int(r[3]) / int(r[4]), 2) for r in rows if r[2] == "image")
    assert ratios == sorted(round(p.width / p.height, 2) for p in (DRAWING, DRAWING, PHOTO, DIAGRAM, DIAGRAM))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, timeout=60).stdout.decode()
    flat = "".join(text.split())
    assert "图1照明电路" in flat and "已知R1=10Ω，求总电流。" in flat and "media:" not in flat


# --------------------------------------------------------------------------------------
# papers from the database carry their pictures


def test_stored_papers_and_the_cli_export_carry_pictures(session: Session, cast: Cast, tmp_path: Path) -> None:
    pic = media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(), filename="接线.png")
    shown = dataclasses.replace(single_choice(), stem=f"如图所示电路中开关的位置是（　）。\n{pic.markup}")
    a = add_item(session, bank=cast.bank, code="PIC-1", content=shown, actor="w1", state=VersionState.ACCEPTED)
    b = add_item(session, bank=cast.bank, code="PIC-2", content=single_choice(stem="无图的题（　）。"), actor="w1",
                 state=VersionState.ACCEPTED)
    rec = PaperRecord(code="PIC-A", bank_id=cast.bank.id, part=Part.THEORY, kind=PaperKind.FORM, form_label="A",
                      time_allowed_min=60, checks={}, created_by="m1")
    rec.items = [PaperItemRecord(position=i, item_id=it.id, version_id=it.version_id) for i, it in enumerate((a, b))]
    session.add(rec)
    session.flush()
    view = asvc.get_paper(session, code="PIC-A")
    assert set(view.paper.pictures) == {pic.sha256}
    doc = _open(export_paper(view.paper, kinds=["paper"])[0].content)
    assert len(doc.inline_shapes) == 1
    # a revision after assembly does not change the stored paper: it keeps the version it was made with
    media.upload_picture(session, actor=W1, bank=cast.bank, data=wiring_png(seed=8), filename="新.png")
    new_sha = media.check_picture(wiring_png(seed=8)).sha256
    workflow.revise(session, actor=W1, bank=cast.bank, code="PIC-1",
                    content=dataclasses.replace(shown, stem=f"如图（新）（　）。\n{media.picture_markup(new_sha)}"))
    assert get_item(session, bank=cast.bank, code="PIC-1").version == 2
    assert set(asvc.get_paper(session, code="PIC-A").paper.pictures) == {pic.sha256}


def test_practical_item_with_a_picture_survives_the_database(session: Session, cast: Cast) -> None:
    pic = media.upload_picture(session, actor=W1, bank=cast.bank, data=CIRCUIT_SVG, filename="电路.svg")
    task = dataclasses.replace(practical_task(), stem=f"按图安装：\n{media.picture_markup(pic.sha256, '图1')}")
    it = add_item(session, bank=cast.bank, code="P-PIC", content=task, actor="w1", state=VersionState.ACCEPTED)
    pictures = media.pictures_for_items(session, [it])
    paper = make_paper([get_item(session, bank=cast.bank, code="P-PIC")], part=Part.PRACTICAL,
                       time_allowed_min=60, pictures=pictures)
    sheet = _open(export_paper(paper, kinds=["task_sheet"])[0].content)
    assert len(sheet.inline_shapes) == 1
