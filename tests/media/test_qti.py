"""Pictures carried in and out of QTI 3.0 packages: img in the item body, the files in the
package, checked on import (missing, outside, refused, inflating), and the round trip through
the database is idempotent (a re-import of an export changes nothing)."""

from __future__ import annotations

import base64
import dataclasses
import io
import random
import zipfile
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank import media, qti
from itembank.domain import Actor, Item, Option, Role, VersionState
from itembank.errors import ImportFileError, ValidationError
from itembank.items import add_item, get_item, list_versions
from itembank.orm_media import ItemVersionPictureRecord, MediaBlobRecord
from tests.itembank.conftest import single_choice
from tests.workflow.conftest import MANAGER, W1, Cast

from .conftest import CIRCUIT_SVG, photo_jpeg, svg, wiring_png

pytestmark = pytest.mark.usefixtures("english")

DRAWING = media.check_picture(wiring_png())
PHOTO = media.check_picture(photo_jpeg(800, 600))
DIAGRAM = media.check_picture(CIRCUIT_SVG)
PICTURES = {p.sha256: p.data for p in (DRAWING, PHOTO, DIAGRAM)}
NS = {"q": qti.QTI_NS}


def _item(code: str = "Q1") -> Item:
    c = single_choice(stem=f"如图所示电路：\n{media.picture_markup(DRAWING.sha256, '图1 照明电路')}\n开关应接在（　）上。")
    c = dataclasses.replace(c, options=(
        Option("A", f"相线 {media.picture_markup(PHOTO.sha256)}"), Option("B", "零线"),
        Option("C", "地线"), Option("D", f"见图{media.picture_markup(DIAGRAM.sha256, '图2')}")),
        analysis=f"参考：\n{media.picture_markup(DIAGRAM.sha256, '图2')}")
    return Item(code, 1, c, VersionState.ACCEPTED)


def test_export_puts_img_in_the_body_and_the_files_in_the_package() -> None:
    data = qti.export_package([_item("Q1"), _item("Q2")], pictures=PICTURES)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        images = sorted(n for n in names if n.startswith("items/images/"))
        assert images == sorted([f"items/images/{DRAWING.sha256}.png", f"items/images/{PHOTO.sha256}.jpg",
                                 f"items/images/{DIAGRAM.sha256}.png"])  # each once for two items
        assert zf.read(f"items/images/{PHOTO.sha256}.jpg") == PHOTO.data
        root = ET.fromstring(zf.read("items/Q1.xml"))
        manifest = ET.fromstring(zf.read("imsmanifest.xml"))
    imgs = root.findall(".//q:img", NS)
    assert [(i.get("src"), i.get("alt")) for i in imgs] == [
        (f"images/{DRAWING.sha256}.png", "图1 照明电路"), (f"images/{PHOTO.sha256}.jpg", ""),
        (f"images/{DIAGRAM.sha256}.png", "图2"), (f"images/{DIAGRAM.sha256}.png", "图2")]
    assert (imgs[0].get("width"), imgs[0].get("height")) == ("640", "400")
    first_p = root.find(".//q:qti-item-body/q:p", NS)
    assert first_p is not None and first_p.text == "如图所示电路："
    choice_a = root.find(".//q:qti-simple-choice[@identifier='A']", NS)
    assert choice_a is not None and choice_a.text == "相线 " and choice_a.find("q:img", NS) is not None
    assert "media:" not in ET.tostring(root, encoding="unicode")
    files = [f.get("href") for f in manifest.iter("{%s}file" % qti.CP_NS)]
    assert files.count(f"items/images/{DIAGRAM.sha256}.png") == 2  # listed by each item using it
    with pytest.raises(ValidationError, match="not given for the export"):
        qti.export_package([_item()], pictures={})


def test_the_package_reads_back_to_the_same_items_and_pictures() -> None:
    items, problems = qti.read_package(qti.export_package([_item()], pictures=PICTURES))
    assert problems == []
    (got,) = items
    # captions, places and words all kept; the JPEG, re-encoded on the way in, has new bytes
    # (through the database the bank knows it by the bytes it sent: see the round trip below)
    photo_again = media.check_picture(PHOTO.data).sha256
    assert got.content == media.content_with_refs(_item().content, {PHOTO.sha256: photo_again})
    by_sha = {p.sha256: p for p in got.pictures}
    assert set(by_sha) == {DRAWING.sha256, DIAGRAM.sha256, photo_again}
    assert by_sha[photo_again].source_sha256 == PHOTO.sha256
    assert by_sha[DRAWING.sha256].data == DRAWING.data  # a PNG made here comes back byte for byte


def _package(item_xml: str, files: dict[str, bytes], *, declared: dict[str, int] | None = None) -> bytes:
    manifest = (f'<manifest xmlns="{qti.CP_NS}"><resources><resource identifier="R1" type="imsqti_item_xmlv3p0" '
                'href="items/X1.xml"><file href="items/X1.xml"/></resource></resources></manifest>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("imsmanifest.xml", manifest)
        zf.writestr("items/X1.xml", item_xml)
        for name, data in files.items():
            zf.writestr(name, data)
    out = buf.getvalue()
    for name, size in (declared or {}).items():  # lie about an entry's size in both headers
        raw = name.encode()
        for marker in (b"PK\x03\x04", b"PK\x01\x02"):
            pos = 0
            while (pos := out.find(marker, pos)) >= 0:
                if marker == b"PK\x03\x04":
                    n_len = int.from_bytes(out[pos + 26:pos + 28], "little")
                    if out[pos + 30:pos + 30 + n_len] == raw:
                        out = out[:pos + 22] + size.to_bytes(4, "little") + out[pos + 26:]
                else:
                    n_len = int.from_bytes(out[pos + 28:pos + 30], "little")
                    if out[pos + 46:pos + 46 + n_len] == raw:
                        out = out[:pos + 24] + size.to_bytes(4, "little") + out[pos + 28:]
                pos += 4
    return out


def _xml(body: str) -> str:
    return (f'<qti-assessment-item xmlns="{qti.QTI_NS}" identifier="X1" title="X1">'
            '<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">'
            '<qti-correct-response><qti-value>A</qti-value></qti-correct-response></qti-response-declaration>'
            f'<qti-item-body>{body}<qti-choice-interaction response-identifier="RESPONSE" max-choices="1">'
            '<qti-simple-choice identifier="A">甲</qti-simple-choice><qti-simple-choice identifier="B">乙'
            '</qti-simple-choice></qti-choice-interaction></qti-item-body></qti-assessment-item>')


def test_foreign_packages_pictures_resolve_relative_to_the_item_and_from_data_uris() -> None:
    png = wiring_png(seed=11)
    data_uri = "data:image/png;base64," + base64.b64encode(wiring_png(seed=12)).decode()
    body = (f'<p>看图 <img src="../media/a%20b.png" alt="图A"/></p><div><img src="{data_uri}" alt=""/></div>')
    items, problems = qti.read_package(_package(_xml(body), {"media/a b.png": png}), default_elements=["A-01"])
    assert problems == []
    stem = items[0].content.stem
    assert stem == (f"看图 {media.picture_markup(media.check_picture(png).sha256, '图A')}\n"
                    f"{media.picture_markup(media.check_picture(wiring_png(seed=12)).sha256)}")
    assert len(items[0].pictures) == 2


@pytest.mark.parametrize(("body", "files", "declared", "words"), [
    ('<p>见图 <img src="images/missing.png" alt=""/></p>', {}, None, "is not in the package"),
    ('<p>见图 <img src="https://example.org/x.png" alt=""/></p>', {}, None, "outside the package"),
    ('<p>见图 <img src="/etc/passwd" alt=""/></p>', {}, None, "outside the package"),
    ('<p>见图 <img src="../../etc/passwd" alt=""/></p>', {}, None, "is not in the package"),
    ('<p>见图 <img src="images/a.png" alt=""/></p>', {"items/images/a.png": b"GIF89a" + bytes(64)}, None, "GIF"),
    ('<p>见图 <img src="images/a.png" alt=""/></p>', {"items/images/a.png": svg("<script>x()</script>")}, None,
     "script"),
    # incompressible: a package of zeros would be refused whole as a decompression bomb (itembank.archive)
    ('<p>见图 <img src="images/big.png" alt=""/></p>',
     {"items/images/big.png": random.Random(7).randbytes(12 * 1024 * 1024)}, None, "at most 10 MB"),
    ('<p>见图 <img src="images/bomb.png" alt=""/></p>', {"items/images/bomb.png": bytes(12 * 1024 * 1024)},
     {"items/images/bomb.png": 1000}, "does not match its declared size"),
    ('<p>见图 <img src="data:image/png,notbase64" alt=""/></p>', {}, None, "without base64"),
], ids=["missing", "http", "absolute", "traversal", "gif", "svg-script", "too-large", "inflating", "data-text"])
def test_pictures_that_cannot_be_taken_are_problems_of_the_item(body: str, files: dict, declared: dict | None,
                                                                 words: str) -> None:
    items, problems = qti.read_package(_package(_xml(body), files, declared=declared), default_elements=["A-01"])
    assert [p.sheet for p in problems] == ["items/X1.xml"] and problems[0].column == "img"
    assert words in str(problems[0].message)


# --------------------------------------------------------------------------------------
# through the database


def _bank_items(session: Session, cast: Cast) -> None:
    for data, name in ((wiring_png(), "a.png"), (photo_jpeg(800, 600), "b.jpg"), (CIRCUIT_SVG, "c.svg")):
        media.upload_picture(session, actor=W1, bank=cast.bank, data=data, filename=name)
    add_item(session, bank=cast.bank, code="Q1", content=_item().content, actor="w1", state=VersionState.ACCEPTED)
    add_item(session, bank=cast.bank, code="Q2", content=single_choice(stem="无图（　）。"), actor="w1",
             state=VersionState.ACCEPTED)


def test_round_trip_through_the_database_is_idempotent(session: Session, cast: Cast) -> None:
    _bank_items(session, cast)
    data, chosen = qti.export_qti(session, actor=MANAGER, bank=cast.bank)
    assert [it.code for it in chosen] == ["Q1", "Q2"]
    # back into the same bank: nothing changed (the JPEG is known by the bytes it was sent as)
    report = qti.import_qti(session, actor=MANAGER, bank=cast.bank, data=data, filename="back.zip",
                            mode="accepted", batch_ref="YS-1")
    assert report.unchanged == ("Q1", "Q2") and report.revised == () and report.created == ()
    assert session.scalar(select(func.count()).select_from(MediaBlobRecord)) == 3
    # into another bank: the items and their pictures arrive and are linked
    manager = Actor("m2", frozenset({Role.BANK_MANAGER}))
    report = qti.import_qti(session, actor=manager, bank=cast.other_bank, data=data, filename="other.zip",
                            mode="accepted", batch_ref="YS-2")
    assert report.created == ("Q1", "Q2")
    moved = get_item(session, bank=cast.other_bank, code="Q1")
    shas = media.content_picture_refs(moved.content)
    assert len(shas) == 3 and set(media.load_pictures(session, shas)) == set(shas)
    linked = session.scalars(select(ItemVersionPictureRecord.sha256)
                             .where(ItemVersionPictureRecord.version_id == moved.version_id)).all()
    assert set(linked) == set(shas)
    # and the second time there, nothing changes either
    again = qti.import_qti(session, actor=manager, bank=cast.other_bank, data=data, filename="other.zip",
                           mode="accepted", batch_ref="YS-2")
    assert again.unchanged == ("Q1", "Q2")


def test_a_refused_picture_refuses_the_whole_package_and_stores_nothing(session: Session, cast: Cast) -> None:
    _bank_items(session, cast)
    data, _ = qti.export_qti(session, actor=MANAGER, bank=cast.bank)
    before = session.scalar(select(func.count()).select_from(MediaBlobRecord))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files[f"items/images/{DRAWING.sha256}.png"] = b"GIF89a" + bytes(100)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, b in files.items():
            zf.writestr(n, b)
    with pytest.raises(ImportFileError) as e:
        qti.import_qti(session, actor=MANAGER, bank=cast.other_bank, data=buf.getvalue(), filename="bad.zip",
                       mode="accepted", batch_ref="YS-3")
    assert any(p.sheet == "items/Q1.xml" and "GIF" in str(p.message) for p in e.value.problems)
    assert session.scalar(select(func.count()).select_from(MediaBlobRecord)) == before
    assert list_versions(session, bank=cast.bank, code="Q1")[-1].version == 1
