from __future__ import annotations

import dataclasses
import io
import zipfile
from xml.etree import ElementTree as ET

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from itembank.domain import Item, ItemContent, ItemType, Level, Option, RubricPoint, VersionState
from itembank.errors import ImportFileError, PermissionDeniedError, ValidationError
from itembank.imports import import_items
from itembank.items import content_hash, get_item, validate_content
from itembank.ledger import query_ledger
from itembank.pool import load_pool
from itembank.qti import QTI_NS, export_package, export_qti, import_qti, item_to_qti, read_package
from tests.itembank.conftest import practical_task, single_choice

from .conftest import MANAGER, W1, Cast
from .test_imports import good_workbook

S = VersionState
N = {"q": QTI_NS}


def _round_trip(item: Item) -> tuple[ItemContent, str]:
    items, problems = read_package(export_package([item]))
    assert problems == [], [str(p) for p in problems]
    assert len(items) == 1
    return items[0].content, items[0].code


EXAMPLES = {
    "single": single_choice(),
    "multiple": dataclasses.replace(single_choice(), item_type=ItemType.MULTIPLE_CHOICE, key=("A", "B", "C"),
                                    points=2.0),
    "true_false": ItemContent(ItemType.TRUE_FALSE, "保护接零适用于中性点直接接地的系统。", 1.0, ("B-02",), key=("F",),
                              analysis="应为保护接地\n见教材第3章", difficulty_rating=2, estimated_time_s=30.0),
    "fill_in": ItemContent(ItemType.FILL_IN, "我国工频为______Hz，周期为____s。", 2.0, ("A-02",), key=("50", "0.02")),
    "fill_in_unmarked": ItemContent(ItemType.FILL_IN, "写出欧姆定律的表达式。", 1.0, ("A-02",), key=("I=U/R",)),
    "short_answer": ItemContent(ItemType.SHORT_ANSWER, "简述触电急救的步骤。\n（要求：按顺序写出）", 10.0, ("B-02",),
                                rubric=(RubricPoint("脱离电源", 4.0, "未先脱离电源不得分"), RubricPoint("心肺复苏", 6.0)),
                                analysis="参考教材", key=("先脱离电源，再施救",)),
    "practical": dataclasses.replace(practical_task(), equipment="万用表\n剥线钳", difficulty_rating=4),
    "defence": ItemContent(ItemType.DEFENCE_TOPIC, "结合本单位实际，论述供配电系统的节能措施。", 20.0, ("D-01",),
                           analysis="评审要点：理论联系实际", estimated_time_s=900.0),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_item_type_round_trips(name: str) -> None:
    item = Item("DG5-X-0001", 3, EXAMPLES[name], S.ACCEPTED, occupation_code="6-31-01-03", level=Level.L5,
                set_code="SET-7")
    content, code = _round_trip(item)
    assert code == "DG5-X-0001"
    assert content == EXAMPLES[name]
    items, _ = read_package(export_package([item]))
    assert items[0].set_code == "SET-7"


def test_the_xml_uses_the_qti3_vocabulary() -> None:
    multi = Item("M1", 1, EXAMPLES["multiple"], S.ACCEPTED)
    root = ET.fromstring(item_to_qti(multi))
    assert root.tag == f"{{{QTI_NS}}}qti-assessment-item" and root.get("identifier") == "M1"
    decl = root.find("q:qti-response-declaration", N)
    assert decl.get("cardinality") == "multiple" and decl.get("base-type") == "identifier"  # type: ignore[union-attr]
    assert [v.text for v in root.findall("q:qti-response-declaration/q:qti-correct-response/q:qti-value", N)] == ["A", "B", "C"]
    inter = root.find("q:qti-item-body/q:qti-choice-interaction", N)
    assert inter is not None and len(inter.findall("q:qti-simple-choice", N)) == 4
    maxscore = root.find("q:qti-outcome-declaration[@identifier='MAXSCORE']/q:qti-default-value/q:qti-value", N)
    assert float(maxscore.text) == 2.0  # type: ignore[union-attr, arg-type]
    assert root.find("q:qti-response-processing//q:qti-match", N) is not None
    fill = ET.fromstring(item_to_qti(Item("F1", 1, EXAMPLES["fill_in"], S.ACCEPTED)))
    assert len(fill.findall(".//q:qti-text-entry-interaction", N)) == 2
    essay = ET.fromstring(item_to_qti(Item("E1", 1, EXAMPLES["short_answer"], S.ACCEPTED)))
    assert essay.find(".//q:qti-extended-text-interaction", N) is not None
    assert essay.find("q:qti-outcome-declaration[@identifier='SCORE']", N).get("external-scored") == "human"  # type: ignore[union-attr]
    assert essay.find(".//q:qti-rubric-block[@use='scoring']", N).get("view") == "scorer"  # type: ignore[union-attr]
    digits = ET.fromstring(item_to_qti(Item("0042", 1, EXAMPLES["single"], S.ACCEPTED)))
    assert digits.get("identifier") == "ITEM-0042" and digits.get("label") == "0042"
    with zipfile.ZipFile(io.BytesIO(export_package([multi]))) as zf:
        manifest = zf.read("imsmanifest.xml").decode()
        assert 'type="imsqti_item_xmlv3p0"' in manifest and "http://ltsc.ieee.org/xsd/LOM" in manifest
        assert "<imsmd:value>medium</imsmd:value>" in manifest


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\x01\x02\x03\x04\x05"
                                       "\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"
                                       "\x1b\x1c\x1d\x1e\x1f\ufffe\uffff"),
                max_size=30)
nonblank = texts.filter(lambda s: s.strip() != "")


@st.composite
def contents(draw) -> ItemContent:  # type: ignore[no-untyped-def]
    t = draw(st.sampled_from(list(ItemType)))
    n_opts = draw(st.integers(2, 6))
    options = tuple(Option("ABCDEF"[i], draw(nonblank)) for i in range(n_opts)) if t.has_options else ()
    if t is ItemType.SINGLE_CHOICE:
        key = (draw(st.sampled_from([o.label for o in options])),)
    elif t is ItemType.MULTIPLE_CHOICE:
        key = tuple(sorted(draw(st.sets(st.sampled_from([o.label for o in options]), min_size=2))))
    elif t is ItemType.TRUE_FALSE:
        key = (draw(st.sampled_from("TF")),)
    elif t is ItemType.FILL_IN:
        key = tuple(draw(st.lists(nonblank, min_size=1, max_size=3)))
    else:
        key = tuple(draw(st.lists(nonblank, max_size=2)))
    rubric = tuple(RubricPoint(draw(nonblank), draw(st.integers(1, 20)) / 2, draw(texts))
                   for _ in range(draw(st.integers(0 if t.is_objective else 1, 3))))
    return ItemContent(
        item_type=t, stem=draw(nonblank), points=float(sum(r.points for r in rubric)) or draw(st.integers(1, 9)) * 1.0,
        element_codes=tuple(draw(st.lists(st.sampled_from(["A-01", "A-02", "B-01"]), min_size=1, max_size=3, unique=True))),
        options=options, key=key, rubric=rubric, analysis=draw(texts),
        time_limit_min=draw(st.integers(1, 120).map(float)) if t is ItemType.PRACTICAL_TASK
        else draw(st.one_of(st.none(), st.integers(1, 120).map(float))), equipment=draw(texts),
        estimated_time_s=draw(st.floats(1, 5000, allow_nan=False)), difficulty_rating=draw(st.integers(1, 5)),
    )


TRICKY = ItemContent(
    ItemType.FILL_IN, "  第一行\r\n第二行 ____ 与 __ \n\n<b>&amp;</b>  ", 2.0, ("A-01",), key=(" 3 ", "4\r\n5"),
    rubric=(RubricPoint("a\nb", 1.0, "c\r\nd\t"), RubricPoint(" e ", 1.0)), analysis="\n解析\r", equipment="x\ny",
    time_limit_min=None, estimated_time_s=12.5, difficulty_rating=5)


@settings(max_examples=150, deadline=None)
@example(content=TRICKY, code="0-tricky")
@example(content=single_choice(stem="私用区\ue000字符\r\n和回车\ue001"), code="PUA")
@example(content=dataclasses.replace(single_choice(stem="选____项"), options=(Option("A", " a\r\n"), Option("B", "<&>"))),
         code="S1")
@given(content=contents(), code=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,20}", fullmatch=True))
def test_round_trip_keeps_content_key_points_and_metadata(content: ItemContent, code: str) -> None:
    assume(not validate_content(content))  # the bank holds valid items only
    got, got_code = _round_trip(Item(code, 1, content, S.ACCEPTED))
    assert got_code == code
    assert got == content
    assert content_hash(got) == content_hash(content)


def test_export_refuses_what_xml_cannot_carry() -> None:
    with pytest.raises(ValidationError, match="试题 Q1：题干中含有控制字符 U\\+0007"):
        item_to_qti(Item("Q1", 1, single_choice(stem="响铃\x07"), S.ACCEPTED))


def test_bank_round_trip_through_a_package(session: Session, cast: Cast) -> None:
    import_items(session, actor=MANAGER, bank=cast.bank, data=good_workbook(), filename="b.xlsx",
                 mode="accepted", batch_ref="验收2024-1")
    with pytest.raises(PermissionDeniedError):
        export_qti(session, actor=W1, bank=cast.bank)
    data, exported = export_qti(session, actor=MANAGER, bank=cast.bank)
    assert [i.code for i in exported] == ["P1", "T1", "T2", "T3"]
    entry = query_ledger(session, action="export.qti")[-1]
    assert entry.actor == "m1" and entry.details["n_items"] == 4 and len(entry.details["sha256"]) == 64
    report = import_qti(session, actor=MANAGER, bank=cast.other_bank, data=data, filename="pkg.zip",
                        mode="accepted", batch_ref="外部平台迁移")
    assert report.created == ("P1", "T1", "T2", "T3")
    for code in report.created:
        a, b = get_item(session, bank=cast.bank, code=code), get_item(session, bank=cast.other_bank, code=code)
        assert a.content == b.content and a.set_code == b.set_code and b.state is S.ACCEPTED
    again = import_qti(session, actor=MANAGER, bank=cast.bank, data=data, filename="pkg.zip",
                       mode="accepted", batch_ref="验收2024-1")
    assert again.unchanged == ("P1", "T1", "T2", "T3"), "importing our own export back changes nothing"
    assert len(load_pool(session, bank=cast.other_bank)) == 4


FOREIGN = f"""<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="{QTI_NS}" identifier="choice-luggage" title="Luggage" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>ChoiceB</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
  <qti-item-body>
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
      <qti-prompt>Which voltage is not a safety voltage?</qti-prompt>
      <qti-simple-choice identifier="ChoiceA">36V</qti-simple-choice>
      <qti-simple-choice identifier="ChoiceB"><strong>110V</strong></qti-simple-choice>
    </qti-choice-interaction>
  </qti-item-body>
</qti-assessment-item>""".encode()


def test_a_foreign_item_file_imports_with_default_elements(session: Session, cast: Cast) -> None:
    with pytest.raises(ImportFileError, match="包的元数据中没有鉴定点代码"):
        import_qti(session, actor=MANAGER, bank=cast.bank, data=FOREIGN, filename="luggage.xml",
                   mode="accepted", batch_ref="x")
    import_qti(session, actor=MANAGER, bank=cast.bank, data=FOREIGN, filename="luggage.xml",
               mode="accepted", batch_ref="x", default_elements=["B-02"])
    item = get_item(session, bank=cast.bank, code="choice-luggage")
    assert item.content.options == (Option("A", "36V"), Option("B", "110V")) and item.content.key == ("B",)
    assert item.content.stem == "Which voltage is not a safety voltage?" and item.content.points == 1.0


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _manifest(resources: str) -> bytes:
    return (f'<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="m">'
            f"<resources>{resources}</resources></manifest>").encode()


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (_zip({"a.xml": FOREIGN}), "包中没有 imsmanifest.xml"),
        (_zip({"imsmanifest.xml": _manifest('<resource identifier="R1" type="imsqti_item_xmlv3p0" href="i/1.xml"/>')}),
         "资源 R1：包中没有文件“i/1.xml”"),
        (_zip({"imsmanifest.xml": _manifest('<resource identifier="R1" type="imsqti_item_xmlv2p1" href="i.xml"/>'),
               "i.xml": b"<assessmentItem/>"}), "QTI 2.x"),
        (_zip({"imsmanifest.xml": _manifest('<resource identifier="R1" type="imsqti_item_xmlv3p0" href="i.xml"/>'),
               "i.xml": b"<qti-assessment-item"}), "XML 格式有误"),
        (_zip({"imsmanifest.xml": _manifest('<resource identifier="R1" type="imsqti_item_xmlv3p0" href="i.xml"/>'),
               "i.xml": FOREIGN.replace(b"qti-choice-interaction", b"qti-hotspot-interaction")}),
         "不支持 qti-hotspot-interaction"),
        (FOREIGN.replace(QTI_NS.encode(), b"http://www.imsglobal.org/xsd/imsqti_v2p1"), "不是 QTI 3.0 试题"),
        (_zip({"imsmanifest.xml": _manifest("")}), "包中没有 QTI 3.0 试题"),
    ],
)
def test_broken_packages_are_refused_with_the_reason(session: Session, cast: Cast, data: bytes, text: str) -> None:
    with pytest.raises(ImportFileError) as exc:
        import_qti(session, actor=MANAGER, bank=cast.bank, data=data, filename="p.zip", default_elements=["A-01"])
    assert any(text in str(p) for p in exc.value.problems), [str(p) for p in exc.value.problems]
    assert load_pool(session, bank=cast.bank, states=list(S)) == []
