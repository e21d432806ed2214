"""Text manifests and the services the API calls."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from exports import (
    DocumentKind,
    ExportError,
    UnknownDocumentError,
    document_text,
    export_element_table,
    export_paper,
    export_readiness,
    paper_document_kinds,
    render_theory_paper,
    sealing_manifest,
    text_manifest,
)
from exports.service import safe_filename
from itembank.domain import ItemType

from tests.exports.conftest import make_item, make_paper


def _rezip(data: bytes, *, pretty: bool) -> bytes:
    """The same document saved again elsewhere: new zip times, reformatted XML."""
    from lxml import etree

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for name in src.namelist():
            blob = src.read(name)
            if pretty and name.endswith(".xml"):
                blob = etree.tostring(etree.fromstring(blob), pretty_print=True, xml_declaration=True,
                                      encoding="UTF-8", standalone=True)
            dst.writestr(zipfile.ZipInfo(name, date_time=(2031, 5, 6, 7, 8, 10)), blob)
    return out.getvalue()


def test_manifest_is_over_the_text_not_the_bytes(theory_paper) -> None:  # type: ignore[no-untyped-def]
    data = render_theory_paper(theory_paper)
    again = _rezip(data, pretty=False)
    assert again != data and text_manifest(again) == text_manifest(data)
    assert len(text_manifest(data)) == 64


def test_document_text_is_in_document_order_with_headers_and_text_boxes(theory_paper) -> None:  # type: ignore[no-untyped-def]
    texts = document_text(render_theory_paper(theory_paper))
    assert texts[:3] == ["绝密★启用前", "职业技能等级认定中心", "电工（五级/初级工）理论知识试卷"]
    first, last = texts.index(next(t for t in texts if t.startswith("1．"))), texts.index(
        next(t for t in texts if t.startswith("100．")))
    assert first < last
    assert sum(t.startswith("姓名：") for t in texts) == 1  # the sealing strip, once
    assert any(t.startswith("第 1 页 共 1 页") for t in texts)
    with pytest.raises(ExportError):
        document_text(b"not a zip")


def test_export_paper_by_part(theory_paper, practical_paper, defence_paper) -> None:  # type: ignore[no-untyped-def]
    assert paper_document_kinds(theory_paper) == (DocumentKind.PAPER, DocumentKind.ANSWER_KEY)
    docs = export_paper(theory_paper, answer_sheet=True)
    assert [d.kind for d in docs] == [DocumentKind.PAPER, DocumentKind.ANSWER_KEY, DocumentKind.ANSWER_SHEET]
    assert [d.filename for d in docs] == ["DG5-2026-03-A_paper.docx", "DG5-2026-03-A_key.docx",
                                          "DG5-2026-03-A_answer-sheet.docx"]
    assert all(d.text_sha256 == text_manifest(d.content) for d in docs)
    assert [d.kind for d in export_paper(practical_paper)] == [DocumentKind.TASK_SHEET, DocumentKind.SCORING_SHEET]
    assert [d.kind for d in export_paper(defence_paper)] == [DocumentKind.DEFENCE_TOPICS, DocumentKind.SCORING_SHEET]
    assert [d.kind for d in export_paper(theory_paper, kinds=["answer_key"])] == [DocumentKind.ANSWER_KEY]
    with pytest.raises(UnknownDocumentError) as e:
        export_paper(theory_paper, kinds=[DocumentKind.SCORING_SHEET])
    assert e.value.text.params["value"] == "scoring_sheet"
    assert e.value.text.params["available"] == ["paper", "answer_key", "answer_sheet"]
    manifest = sealing_manifest(docs)
    assert json.loads(json.dumps(manifest))["documents"][1]["sha256"] == docs[1].sha256
    assert [d.kind.for_candidates for d in docs] == [True, False, True]


def test_other_services_and_file_names(demo) -> None:  # type: ignore[no-untyped-def]
    doc = export_element_table(demo.theory_table, occupation=demo.l5.occupation)
    assert doc.filename == "6-31-01-03_L5_theory_v1_element-table.docx" and doc.kind is DocumentKind.ELEMENT_TABLE
    assert export_readiness(demo.readiness[:1]).filename == "6-31-01-03_L5_readiness.docx"
    assert safe_filename("DG5/2026 备用1") == "DG5_2026_1" and safe_filename("备用") == "document"


def test_backup_label_in_filename_stays_ascii() -> None:
    paper = make_paper([make_item("S1", ItemType.SINGLE_CHOICE)], code="DG5-备用-1")
    (doc,) = export_paper(paper, kinds=["paper"])
    assert doc.filename.isascii()
