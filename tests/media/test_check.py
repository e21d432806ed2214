"""Checking and re-encoding picture files (no database): each accepted type, and hostile files."""

from __future__ import annotations

import io
from xml.etree import ElementTree as ET

import pytest
from PIL import Image

from itembank import media
from itembank.domain import ItemContent, ItemType, Option
from itembank.media import PictureError, PictureRef, check_picture

from .conftest import CIRCUIT_SVG, photo_jpeg, png_claiming, svg, wiring_png

pytestmark = pytest.mark.usefixtures("english")  # messages read in English


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


# --------------------------------------------------------------------------------------
# accepted types


def test_png_is_reencoded_as_png_with_its_size() -> None:
    sent = wiring_png(640, 400)
    got = check_picture(sent, name="接线图.png")
    assert (got.media_type, got.source_type, got.width, got.height) == ("image/png", "png", 640, 400)
    im = _open(got.data)
    assert im.format == "PNG" and im.size == (640, 400) and im.mode == "RGB"  # palette made plain RGB
    # the drawing survives: the lamp's outline is black where it was drawn
    assert im.getpixel((320, 30)) == (0, 0, 0) and im.getpixel((5, 5)) == (255, 255, 255)


def test_same_content_gives_the_same_address() -> None:
    a, b = check_picture(wiring_png()), check_picture(wiring_png())
    c = check_picture(wiring_png(seed=7))
    assert a.sha256 == b.sha256 and a.data == b.data
    assert c.sha256 != a.sha256


def test_jpeg_photo_is_turned_upright_scaled_and_stripped_of_metadata() -> None:
    sent = photo_jpeg(3600, 2400, orientation=6)
    assert "GPSInfo" in str(_open(sent).getexif().get_ifd(0x8825)) or _open(sent).getexif().get_ifd(0x8825)
    got = check_picture(sent, name="配电柜.jpg")
    im = _open(got.data)
    assert im.format == "JPEG" and got.media_type == "image/jpeg" and got.source_type == "jpeg"
    # orientation 6 = shown rotated a quarter turn: stored upright, long side scaled to the limit
    assert (got.width, got.height) == (media.STORED_MAX_SIDE * 2400 // 3600, media.STORED_MAX_SIDE) == im.size
    exif = im.getexif()
    assert len(exif) == 0 and not exif.get_ifd(0x8825)  # no GPS position, no camera make, no orientation
    assert got.source_bytes == len(sent)


def test_svg_is_cleaned_and_rasterized_with_chinese_labels() -> None:
    got = check_picture(CIRCUIT_SVG, name="电路图.svg")
    assert got.media_type == "image/png" and got.source_type == "svg"
    assert max(got.width, got.height) == media.SVG_RENDER_SIDE and got.width == 2 * got.height  # 300 x 150 mm
    im = _open(got.data).convert("L")
    # the frame is drawn: the top edge line at y = 30/150 of the height is dark
    y = round(got.height * 30 / 150)
    assert min(im.getpixel((got.width // 4, y + d)) for d in (-2, -1, 0, 1, 2)) < 80
    labels = [t.text for t in ET.fromstring(CIRCUIT_SVG).iter("{http://www.w3.org/2000/svg}text")]
    assert labels == ["电阻 R1 10Ω", "KM1 接触器"]


def test_chinese_text_in_svg_is_drawn_with_chinese_glyphs() -> None:
    """With a Latin font the renderer draws every Chinese character as the same empty box
    ("tofu"); 电 and 阻 must come out as two different pictures."""
    def drawn(char: str) -> bytes:
        data = svg(f'<text x="5" y="48" font-size="50" font-family="Arial">{char}</text>', attrs='width="60" height="60"')
        return _open(check_picture(data).data).convert("L").tobytes()
    a, b = drawn("电"), drawn("阻")
    assert sum(1 for x, y in zip(a, b) if abs(x - y) > 100) / len(a) > 0.05


@pytest.mark.parametrize("name", ["wiring.jpg", "wiring.svg", "wiring", "照片.PNG"])
def test_type_comes_from_the_content_not_the_name(name: str) -> None:
    assert check_picture(wiring_png(), name=name).source_type == "png"


def test_sixteen_bit_grey_and_transparent_pngs_are_taken() -> None:
    im = Image.new("I;16", (64, 48), 40000)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    got = check_picture(buf.getvalue())
    assert _open(got.data).mode == "L" and _open(got.data).getpixel((1, 1)) == 40000 // 256
    rgba = Image.new("RGBA", (64, 48), (255, 0, 0, 128))
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    assert _open(check_picture(buf.getvalue()).data).mode == "RGBA"


# --------------------------------------------------------------------------------------
# refused files


def _refused(data: bytes, name: str = "x") -> str:
    with pytest.raises(PictureError) as e:
        check_picture(data, name=name)
    assert e.value.field == "file"
    return e.value.message


@pytest.mark.parametrize(("data", "words"), [
    (b"GIF89a" + b"\x00" * 100, "GIF"),
    (b"%PDF-1.7\n" + b"\x00" * 100, "PDF"),
    (b"MZ\x90\x00" + b"\x00" * 100, "Windows program"),
    (b"PK\x03\x04" + b"\x00" * 100, "ZIP"),
    (b"just some text that claims to be a picture", "not a PNG, JPEG or SVG"),
    (b"", "empty"),
])
def test_other_types_are_refused_whatever_the_name(data: bytes, words: str) -> None:
    assert words in _refused(data, "circuit.png")


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (30_000, 100), (8000, 8000)])
def test_decompression_bombs_are_refused_from_the_header(width: int, height: int) -> None:
    message = _refused(png_claiming(width, height), "bomb.png")
    assert f"{width} × {height}" in message


def test_a_jpeg_claiming_huge_dimensions_is_refused_before_decoding() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = (60000).to_bytes(2, "big") + (60000).to_bytes(2, "big")
    assert media.declared_size(bytes(data), "jpeg") == (60000, 60000)
    assert "60000 × 60000" in _refused(bytes(data), "bomb.jpg")


def test_too_large_a_file_is_refused() -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\x00" * media.MAX_FILE_BYTES
    assert "at most 10 MB" in _refused(data)


@pytest.mark.parametrize("cut", [60, 200, -30])
def test_corrupt_and_truncated_pictures_are_refused(cut: int) -> None:
    data = wiring_png() if cut > 0 else photo_jpeg(400, 300)
    broken = data[:cut]
    assert "damaged" in _refused(broken, "cut.png") or "declares" in _refused(broken, "cut.png")


def test_garbage_inside_a_png_is_refused() -> None:
    data = bytearray(wiring_png())
    data[60:90] = b"\xff" * 30
    assert "damaged" in _refused(bytes(data))


def test_tiny_and_extreme_shapes_are_refused() -> None:
    buf = io.BytesIO()
    Image.new("L", (4, 4)).save(buf, "PNG")
    assert "at least 8" in _refused(buf.getvalue())
    buf = io.BytesIO()
    Image.new("L", (3100, 100)).save(buf, "PNG")
    assert "crop" in _refused(buf.getvalue())


@pytest.mark.parametrize(("body", "words"), [
    ("<script>alert(document.cookie)</script>", "script"),
    ('<rect width="5" height="5" onclick="alert(1)"/>', "event handler (onclick)"),
    ('<g><foreignObject><script xmlns="http://www.w3.org/1999/xhtml">x()</script></foreignObject></g>', "script"),
    ('<a xlink:href="javascript:alert(1)"><rect width="5" height="5"/></a>', "script"),
    ('<use xlink:href="https://example.org/symbols.svg#lamp"/>', "links outside the picture"),
    ('<use href="file:///etc/passwd"/>', "links outside the picture"),
    ('<rect width="5" height="5" fill="url(https://example.org/p.svg#g)"/>', "links outside the picture"),
    ('<rect width="5" height="5" style="fill:url(&quot;http://example.org/x&quot;)"/>', "links outside the picture"),
    ("<style>@import url(https://example.org/a.css);</style>", "links outside the picture"),
    ('<image width="5" height="5" xlink:href="https://example.org/photo.jpg"/>', "raster image"),
    ('<animate attributeName="href" to="javascript:alert(1)"/>', "animation"),
    ('<filter id="f"><feGaussianBlur stdDeviation="5"/></filter>', "<filter>"),
])
def test_svg_with_scripts_or_outside_references_is_refused(body: str, words: str) -> None:
    assert words in _refused(svg(body), "hostile.svg")


def test_svg_entities_stylesheets_and_broken_xml_are_refused() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><text>&b;</text></svg>')
    assert "entities" in _refused(laughs)
    xxe = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><text>&x;</text></svg>')
    assert "entities" in _refused(xxe)
    sheet = b'<?xml-stylesheet href="https://example.org/a.css"?>' + svg("<rect width='5' height='5'/>")
    assert "style sheet" in _refused(sheet)
    assert "well-formed" in _refused(svg("<rect width='5'")[:-6])
    assert "no size" in _refused(svg("<rect width='5' height='5'/>", attrs=""))
    assert "not <svg>" in _refused(b'<html xmlns="http://www.w3.org/2000/svg"><svg width="9" height="9"/></html>')


def test_svg_with_too_many_elements_is_refused() -> None:
    body = "<g>" + "<rect width='1' height='1'/>" * (media.MAX_SVG_ELEMENTS + 1) + "</g>"
    assert "more than" in _refused(svg(body))


def test_svg_editor_metadata_and_foreign_objects_are_dropped_not_refused() -> None:
    body = ('<metadata><x:meta xmlns:x="urn:x">editor</x:meta></metadata>'
            '<switch><foreignObject width="50" height="20"><p xmlns="http://www.w3.org/1999/xhtml">HTML</p>'
            '</foreignObject><text x="5" y="20">fallback</text></switch>'
            '<rect xmlns:sodipodi="urn:sodipodi" sodipodi:type="rect" width="20" height="20"/>')
    assert check_picture(svg(body)).source_type == "svg"


# --------------------------------------------------------------------------------------
# the markup


SHA = "ab" * 32


def test_split_and_refs() -> None:
    text = f"如图所示：![图1 控制电路](media:{SHA})\n求电流。![](media:{'cd' * 32})![x](media:{SHA})"
    parts = media.split_pictures(text)
    assert parts == ["如图所示：", PictureRef(SHA, "图1 控制电路"), "\n求电流。", PictureRef("cd" * 32, ""),
                     PictureRef(SHA, "x")]
    assert media.picture_refs(text) == [SHA, "cd" * 32]
    assert media.split_pictures("无图") == ["无图"] and media.split_pictures("") == []
    assert media.strip_pictures(text) == "如图所示：[图]\n求电流。[图][图]"
    assert media.picture_markup(SHA, "图[1]$\n") == f"![图 1](media:{SHA})"


def test_old_items_stay_valid_and_malformed_references_are_named() -> None:
    def content(stem: str, option: str = "36V") -> ItemContent:
        return ItemContent(ItemType.SINGLE_CHOICE, stem, 1.0, ("A-01",),
                           (Option("A", option), Option("B", "24V")), ("A",))
    for old in ("如图[1]所示(见附图)，![注意]请勿带电作业。", "media: 见图 (media:abc)", "$I=U/R$ ![](x.png)"):
        assert media.reference_problems(content(old)) == []
    assert media.reference_problems(content(f"见 ![图](media:{SHA})")) == []
    problems = media.reference_problems(content("见 ![图](media:abc123)", option=f"![a](media:{SHA[:-1]})"))
    assert [p.field for p in problems] == ["stem", "options"]
    assert "media:abc123" in problems[0].message.params["text"]
    assert problems[0].message.msgid.startswith("the picture reference {text} is incomplete")
    many = " ".join(f"![](media:{i:064x})" for i in range(media.MAX_PICTURES_PER_ITEM + 1))
    too_many = media.reference_problems(content(many))
    assert [(p.field, p.message.params) for p in too_many] == [
        ("stem", {"n": media.MAX_PICTURES_PER_ITEM + 1, "limit": media.MAX_PICTURES_PER_ITEM})]
