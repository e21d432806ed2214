"""Every document we write keeps the WordprocessingML schema's child order in the property
elements (Word refuses files that don't, where LibreOffice forgives), has no duplicate
property children, and unique drawing ids."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from lxml import etree

from exports import (
    render_answer_key,
    render_answer_sheet,
    render_defence_topics,
    render_element_table,
    render_readiness_report,
    render_scoring_sheet,
    render_task_sheet,
    render_theory_paper,
)

from tests.exports.test_assembly_report import report_data

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# ECMA-376 Part 1 (5th ed.), wml.xsd sequences, written out here independently of the code.
SEQUENCES = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
           "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
           "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
           "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
           "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd "
           "fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
             "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign "
            "hideMark",
    "sectPr": "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders "
              "lnNumType pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid",
}
REPEATABLE = {"headerReference", "footerReference"}


def check(data: bytes) -> list[str]:
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        doc_pr_ids: list[str] = []
        for name in z.namelist():
            if not name.endswith(".xml"):
                continue
            root = etree.fromstring(z.read(name))
            doc_pr_ids += [e.get("id") for e in root.iter("{*}docPr")]
            for tag, seq in SEQUENCES.items():
                order = seq.split()
                for el in root.iter(W + tag):
                    kids = [k.tag.removeprefix(W) for k in el if k.tag.startswith(W)]
                    known = [k for k in kids if k in order]
                    if known != sorted(known, key=order.index):
                        problems.append(f"{name}: <w:{tag}> children out of order: {kids}")
                    dupes = {k for k in known if known.count(k) > 1} - REPEATABLE
                    if dupes:
                        problems.append(f"{name}: <w:{tag}> repeats {sorted(dupes)}")
        if len(doc_pr_ids) != len(set(doc_pr_ids)):
            problems.append(f"drawing ids repeat: {doc_pr_ids}")
    return problems


@pytest.fixture(scope="module")
def documents(demo, theory_paper, mixed_paper, practical_paper, defence_paper):  # type: ignore[no-untyped-def]
    from exports import render_assembly_report

    return {
        "paper": render_theory_paper(mixed_paper),
        "key": render_answer_key(mixed_paper),
        "answer sheet": render_answer_sheet(theory_paper),
        "tasks": render_task_sheet(practical_paper),
        "scoring": render_scoring_sheet(practical_paper),
        "topics": render_defence_topics(defence_paper),
        "element table": render_element_table(demo.theory_table, occupation=demo.l5.occupation),
        "readiness": render_readiness_report(demo.readiness, as_of=date(2026, 11, 28)),
        "assembly report": render_assembly_report(report_data(demo)),
    }


def test_property_elements_follow_the_schema_order(documents) -> None:  # type: ignore[no-untyped-def]
    for name, data in documents.items():
        assert check(data) == [], name


def test_every_document_is_reproducible(documents, demo, theory_paper, mixed_paper, practical_paper,  # type: ignore[no-untyped-def]
                                        defence_paper) -> None:
    from exports import render_assembly_report

    again = {
        "paper": render_theory_paper(mixed_paper),
        "key": render_answer_key(mixed_paper),
        "answer sheet": render_answer_sheet(theory_paper),
        "tasks": render_task_sheet(practical_paper),
        "scoring": render_scoring_sheet(practical_paper),
        "topics": render_defence_topics(defence_paper),
        "element table": render_element_table(demo.theory_table, occupation=demo.l5.occupation),
        "readiness": render_readiness_report(demo.readiness, as_of=date(2026, 11, 28)),
        "assembly report": render_assembly_report(report_data(demo)),
    }
    assert [k for k in documents if documents[k] != again[k]] == []
