"""Pictures in items (issue 17): circuit diagrams, wiring drawings and photos of equipment for
按图接线 and 识图 items.

**Checking** (:func:`check_picture`, pure): the type is read from the content, never from the
file name; PNG and JPEG are decoded by Pillow only after their declared size passed the limits
(a 1 kB file can declare 100,000 × 100,000 pixels: a decompression bomb), then re-encoded
(metadata such as a photo's GPS position is dropped, the EXIF orientation applied, large photos
scaled down to ``STORED_MAX_SIDE``). SVG is parsed without DTDs or entities, refused when it
holds scripts, event handlers or any reference outside itself, cleaned of what does not draw
(editor metadata, ``foreignObject``), and rasterized to PNG (CairoSVG): only PNG and JPEG made
here are ever stored or served, so a browser never runs an uploaded document.

**Storing**: by the SHA-256 of the stored bytes, once (``media_blobs``), in the database with
the item versions (see ``itembank.orm_media`` for why). An upload records who brought the
picture into which bank; an item version links the pictures its text shows. Versions never
change, so a revision keeps the old version's pictures and links its own (附件11 第14条).

**Referring** (the markup, pure): an item's text shows a picture where it holds
``![caption](media:<sha256>)``, the image syntax of Markdown with the picture's hash as its
address; the caption (may be empty) is printed under the picture. The editor's upload inserts
it; imports write it from the files of a package. Older items hold no such text, so they stay
valid and print as before. A malformed reference (``](media:`` without a full hash) is refused.

**Reading**: under need-to-know like the item text (附件12 第9条): whoever may read an item
version that shows the picture, or brought it into the bank; every reading is written to the
ledger.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from xml.etree import ElementTree as ET
from xml.parsers import expat

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.db import begin_writing
from itembank.domain import Actor, BankRef, Item, ItemContent, Role
from itembank.errors import NotFoundError, PermissionDeniedError, ValidationError
from itembank.i18n import N_, FieldMessage, Message, Text
from itembank.orm import BankRecord, ItemRecord, ItemVersionRecord, OccupationRecord
from itembank.orm_media import ItemVersionPictureRecord, MediaBlobRecord, MediaUploadRecord

log = logging.getLogger(__name__)

__all__ = [
    "CheckedPicture", "PictureError", "PictureRef", "StoredPicture", "check_picture", "check_references",
    "content_picture_refs", "content_pictures", "link_versions", "load_pictures", "picture_markup", "picture_refs",
    "pictures_for_items", "read_picture", "reference_problems", "require_picture_access", "split_pictures",
    "store_picture", "upload_picture",
]

# --------------------------------------------------------------------------------------
# Limits

MAX_FILE_BYTES = 10 * 1024 * 1024  # one picture file as sent (a phone photo is 3-8 MB)
MAX_SVG_BYTES = 2 * 1024 * 1024  # a drawing; larger ones are mostly embedded photos
MAX_SOURCE_PIXELS = 50_000_000  # decoded size of a sent PNG/JPEG (a 50 MP camera)
MAX_SOURCE_SIDE = 20_000
MIN_SIDE = 8  # smaller is no picture one can print
MAX_ASPECT = 30.0  # long side / short side
STORED_MAX_SIDE = 2400  # stored pictures: ~380 dpi across a 16 cm text width
SVG_RENDER_SIDE = 2000  # long side of a rasterized drawing
MAX_SVG_ELEMENTS = 20_000
MAX_SVG_DEPTH = 100
MAX_PICTURES_PER_ITEM = 20
MAX_CAPTION = 200
JPEG_QUALITY = 88

PNG, JPEG = "image/png", "image/jpeg"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XHTML_NS = "http://www.w3.org/1999/xhtml"
CJK_SANS = "Noto Sans CJK SC"
CJK_SERIF = "Noto Serif CJK SC"


class PictureError(ValidationError):
    """A picture file was refused: wrong type, too large, damaged or unsafe. Nothing was stored."""

    code = "picture_invalid"


# --------------------------------------------------------------------------------------
# The markup in item text

PICTURE_RE = re.compile(r"!\[(?P<caption>[^\[\]\n$]{0,200})\]\(media:(?P<sha>[0-9a-f]{64})\)")
# anything that tries to be a picture reference; those PICTURE_RE does not take are malformed
_ATTEMPT_RE = re.compile(r"!\[[^\]\n]*\]\(\s*media:[^)\n]*\)?|\]\(\s*media:[^)\n]*\)?")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class PictureRef:
    """A picture shown at this point of a text."""

    sha256: str
    caption: str = ""


def picture_markup(sha256: str, caption: str = "") -> str:
    """The text that shows picture ``sha256`` (the caption cleaned to fit the markup)."""
    clean = re.sub(r"[\[\]\n\r$]+", " ", caption or "").strip()[:MAX_CAPTION]
    return f"![{clean}](media:{sha256})"


def split_pictures(text: str | None) -> list[str | PictureRef]:
    """``text`` as plain pieces and pictures, in order (no empty pieces)."""
    out: list[str | PictureRef] = []
    pos = 0
    for m in PICTURE_RE.finditer(text or ""):
        if m.start() > pos:
            out.append(text[pos:m.start()])  # type: ignore[index]
        out.append(PictureRef(m.group("sha"), m.group("caption").strip()))
        pos = m.end()
    if text and pos < len(text):
        out.append(text[pos:])
    return out


def picture_refs(text: str | None) -> list[str]:
    """Hashes of the pictures a text shows, each once, in order."""
    return list(dict.fromkeys(m.group("sha") for m in PICTURE_RE.finditer(text or "")))


def strip_pictures(text: str | None, placeholder: str = "[图]") -> str:
    """The text with each picture replaced by ``placeholder`` (lists, short previews)."""
    return PICTURE_RE.sub(placeholder, text or "")


def content_texts(content: ItemContent) -> list[tuple[str, str]]:
    """Every text field of an item, named as ``validate_content`` names fields."""
    texts = [("stem", content.stem), *(("options", o.text) for o in content.options), ("analysis", content.analysis),
             ("equipment", content.equipment), *(("key", k) for k in content.key),
             *(("rubric", f"{r.description}\n{r.criteria}") for r in content.rubric)]
    return [(f, t) for f, t in texts if t]


def content_picture_refs(content: ItemContent) -> list[str]:
    """Hashes of every picture an item's content shows, each once."""
    return list(dict.fromkeys(sha for _, text in content_texts(content) for sha in picture_refs(text)))


def replace_refs(text: str, mapping: Mapping[str, str]) -> str:
    """``text`` with the pictures of ``mapping``'s keys shown by its values instead (captions kept)."""
    if not mapping or not text:
        return text
    return PICTURE_RE.sub(lambda m: f"![{m.group('caption')}](media:{mapping.get(m.group('sha'), m.group('sha'))})",
                          text)


def content_with_refs(content: ItemContent, mapping: Mapping[str, str]) -> ItemContent:
    """The content with every picture reference of ``mapping`` replaced (``replace_refs``)."""
    if not mapping:
        return content
    r = lambda text: replace_refs(text, mapping)  # noqa: E731
    return dataclasses.replace(
        content, stem=r(content.stem), analysis=r(content.analysis), equipment=r(content.equipment),
        options=tuple(dataclasses.replace(o, text=r(o.text)) for o in content.options),
        key=tuple(r(k) for k in content.key),
        rubric=tuple(dataclasses.replace(p, description=r(p.description), criteria=r(p.criteria))
                     for p in content.rubric))


def content_pictures(content: ItemContent) -> list[tuple[str, PictureRef]]:
    """(field, picture) for each picture an item shows, each once, in the order of the fields."""
    seen: set[str] = set()
    out = []
    for field, text in content_texts(content):
        for part in split_pictures(text):
            if isinstance(part, PictureRef) and part.sha256 not in seen:
                seen.add(part.sha256)
                out.append((field, part))
    return out


def reference_problems(content: ItemContent, *, where: Text | None = None) -> list[FieldMessage]:
    """Malformed picture references and too many pictures, each about its field (pure);
    ``where`` names the item or row.

    Text that does not try to be a reference (no ``](media:``) is never a problem, so the
    items written before pictures existed stay valid."""
    problems: list[FieldMessage] = []
    for field, text in content_texts(content):
        if "media:" not in text:
            continue
        good = {m.span() for m in PICTURE_RE.finditer(text)}
        for m in _ATTEMPT_RE.finditer(text):
            if not any(a <= m.start() and m.end() <= b for a, b in good):
                problems.append(FieldMessage(field, Message(
                    "the picture reference {text} is incomplete: write ![caption](media:<64 hex digits>) as the "
                    "upload gives it, and no [ ] or $ in the caption", text=m.group()[:90]), where=where))
    n = len(content_picture_refs(content))
    if n > MAX_PICTURES_PER_ITEM:
        problems.append(FieldMessage("stem", Message(
            "the item shows {n} pictures; at most {limit} fit on a paper", n=n, limit=MAX_PICTURES_PER_ITEM),
            where=where))
    return problems


# --------------------------------------------------------------------------------------
# Checking and re-encoding a picture file (pure)


@dataclass(frozen=True, slots=True)
class CheckedPicture:
    """A picture ready to store: re-encoded bytes, their type, size and hash, and what was sent."""

    data: bytes
    media_type: str  # image/png or image/jpeg
    width: int
    height: int
    source_type: str  # png, jpeg or svg
    source_bytes: int
    source_name: str = ""
    source_sha256: str = ""  # of the file as sent: a stored picture sent back is known by it

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


_OTHER_TYPES = (  # magic bytes of files people send instead, to say what they sent
    (b"GIF8", "GIF"), (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP / Office"), (b"MZ", "Windows program"), (b"\xd0\xcf\x11\xe0", "Office 97-2003"),
    (b"\x7fELF", "program"), (b"Rar!", "RAR"), (b"\x1f\x8b", "gzip"),
)


def _refuse(name: str, reason: Message) -> PictureError:
    """A refusal naming the file and saying why."""
    return PictureError(Message("picture {name}: {reason}", name=name or "(unnamed)", reason=reason), field="file")


def sniff(data: bytes) -> str | None:
    """``png``, ``jpeg`` or ``svg`` from the content; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and re.search(rb"<svg[\s>/]", head):
        return "svg"
    return None


def _other_type(data: bytes) -> str | None:
    if data[8:12] == b"WEBP" and data.startswith(b"RIFF"):
        return "WebP"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "HEIC/AVIF"
    return next((kind for magic, kind in _OTHER_TYPES if data.startswith(magic)), None)


def check_picture(data: bytes, *, name: str = "") -> CheckedPicture:
    """Check one picture file and re-encode it; raise ``PictureError`` saying why not.

    Parameters
    ----------
    data : bytes
        The file as sent.
    name : str
        Its name, only to name it in messages (the type comes from the content).

    Returns
    -------
    CheckedPicture
        PNG (drawings, SVG rasterized, anything with transparency) or JPEG (photos).
    """
    if not data:
        raise _refuse(name, Message("the file is empty"))
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(name, Message(
            "the file has {size} MB; a picture may have at most {limit} MB: save it smaller (e.g. JPEG for photos)",
            size=round(len(data) / 1048576, 1), limit=MAX_FILE_BYTES // 1048576))
    kind = sniff(data)
    if kind is None:
        other = _other_type(data)
        if other:
            raise _refuse(name, Message(
                "the file is {kind}, not a picture of the kinds taken: save it as PNG, JPEG or SVG", kind=other))
        raise _refuse(name, Message("the content is not a PNG, JPEG or SVG picture (whatever its name says)"))
    source_sha = hashlib.sha256(data).hexdigest()
    if kind == "svg":
        png = _rasterize_svg(data, name)
        checked = _reencode(png, "png", name, source_bytes=len(data))
        return dataclasses.replace(checked, source_type="svg", source_sha256=source_sha)
    return dataclasses.replace(_reencode(data, kind, name, source_bytes=len(data)), source_sha256=source_sha)


def _check_size(name: str, width: int, height: int, *, source: bool) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise _refuse(name, Message("the picture has {w} × {h} pixels; it needs at least {min} on each side",
                                    w=width, h=height, min=MIN_SIDE))
    if source and (width > MAX_SOURCE_SIDE or height > MAX_SOURCE_SIDE or width * height > MAX_SOURCE_PIXELS):
        raise _refuse(name, Message(
            "the picture declares {w} × {h} pixels; at most {side} on a side and {mp} million in all are taken: "
            "scale it down", w=width, h=height, side=MAX_SOURCE_SIDE, mp=MAX_SOURCE_PIXELS // 1_000_000))
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise _refuse(name, Message(
            "the picture has {w} × {h} pixels, longer than {ratio} times its width: crop it",
            w=width, h=height, ratio=int(MAX_ASPECT)))


def declared_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """Width and height as the file's header declares them, read here before any decoder runs
    (PNG: the IHDR chunk; JPEG: the first start-of-frame marker); None when not found."""
    if kind == "png":
        if len(data) >= 24 and data[12:16] == b"IHDR":
            return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        return None
    pos = 2
    while pos + 9 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # SOFn
            return int.from_bytes(data[pos + 7:pos + 9], "big"), int.from_bytes(data[pos + 5:pos + 7], "big")
        if length < 2:
            return None
        pos += 2 + length
    return None


def stored_size(data: bytes) -> tuple[int, int]:
    """Width and height of a stored picture (PNG or JPEG made here) from its header."""
    size = declared_size(data, "png" if data.startswith(b"\x89PNG") else "jpeg")
    if size is None:
        raise ValueError("not a PNG or JPEG picture")
    return size


def _reencode(data: bytes, kind: str, name: str, *, source_bytes: int) -> CheckedPicture:
    from PIL import Image, ImageOps

    fmt = "PNG" if kind == "png" else "JPEG"
    size = declared_size(data, kind)
    if size is not None:  # a decompression bomb is refused before a decoder sees it
        _check_size(name, *size, source=True)
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            # the header only so far: refuse a decompression bomb before decoding a pixel
            _check_size(name, *im.size, source=True)
            im.load()
            if getattr(im, "n_frames", 1) > 1:  # an animated PNG prints its first frame
                im.seek(0)
            out = ImageOps.exif_transpose(im) if fmt == "JPEG" else im.copy()
    except PictureError:
        raise
    except Image.DecompressionBombError as e:
        raise _refuse(name, Message("the picture declares too many pixels ({detail})",
                                    detail=str(e)[:120])) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, MemoryError) as e:
        raise _refuse(name, Message(
            "the {kind} file is damaged or cut short and cannot be read ({detail}); save it again from the drawing "
            "or camera program", kind=fmt, detail=str(e)[:120])) from None
    out = _normalise_mode(out, fmt)
    if max(out.size) > STORED_MAX_SIDE:
        # reducing_gap: a fast box reduction first, Lanczos for the last factor of 3 (no visible loss)
        out.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    _check_size(name, *out.size, source=False)
    buf = io.BytesIO()
    if fmt == "PNG":
        out.save(buf, "PNG")
    else:
        out.save(buf, "JPEG", quality=JPEG_QUALITY)
    return CheckedPicture(buf.getvalue(), PNG if fmt == "PNG" else JPEG, out.width, out.height, kind,
                          source_bytes, name)


def _normalise_mode(im, fmt: str):  # type: ignore[no-untyped-def]
    """Modes every reader (browsers, Word, LibreOffice) shows alike: PNG L/LA/RGB/RGBA,
    JPEG L/RGB (CMYK, 16-bit and palette pictures converted)."""
    mode = im.mode
    if fmt == "JPEG":
        return im if mode in ("L", "RGB") else im.convert("RGB")
    if mode == "P":
        return im.convert("RGBA" if "transparency" in im.info else "RGB")
    if mode in ("L", "LA", "RGB", "RGBA"):
        return im
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I") or mode == "F":  # 16-bit and float grey: scale to 8 bits
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return im.convert("RGBA" if "A" in mode else "RGB")


# --------------------------------------------------------------------------------------
# SVG: parse safely, refuse what runs or reaches out, drop what does not draw, rasterize

# elements that draw or structure a drawing (SVG 1.1 static subset)
_SVG_ALLOWED = frozenset({
    "svg", "g", "defs", "symbol", "use", "switch", "title", "desc", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop", "clipPath",
    "mask", "marker", "pattern", "style", "a",
})
_SVG_DROPPED = frozenset({"metadata", "foreignObject"})  # never drawn here
_ANIMATION = N_("it holds an animation")
_RASTER = N_("it embeds or links a raster image; upload that picture itself as PNG or JPEG")
_SVG_REFUSED = {  # tag -> msgid of the reason
    "script": N_("it holds a script"), "handler": N_("it holds a script"), "image": _RASTER, "feImage": _RASTER,
    "animate": _ANIMATION, "set": _ANIMATION, "animateMotion": _ANIMATION, "animateTransform": _ANIMATION,
    "animateColor": _ANIMATION, "iframe": N_("it holds an embedded document"),
    "audio": N_("it holds sound or video"), "video": N_("it holds sound or video"),
}
_URL_RE = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CJK_RE = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_LENGTH_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px|pt|pc|mm|cm|in)?\s*$")
_UNIT_PX = {None: 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0}


def _local_name(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _check_svg_tokens(data: bytes, name: str) -> None:
    """First pass with expat: no DTD subset (entities: the 'billion laughs'), no external
    entities or style sheets, a bounded number and depth of elements."""
    parser = expat.ParserCreate()
    state = {"n": 0, "depth": 0}

    def doctype(_name: str, _sysid: str | None, _pubid: str | None, has_internal_subset: int) -> None:
        if has_internal_subset:
            raise _refuse(name, Message(
                "the SVG declares XML entities (a DOCTYPE with an internal subset); save it as plain SVG"))

    def entity(*_args: object) -> None:
        raise _refuse(name, Message(
            "the SVG declares XML entities (a DOCTYPE with an internal subset); save it as plain SVG"))

    def pi(target: str, _data: str) -> None:
        if target.lower() == "xml-stylesheet":
            raise _refuse(name, Message(
                "the SVG links an outside style sheet (xml-stylesheet); it must hold everything it draws"))

    def start(_tag: str, _attrs: dict) -> None:
        state["n"] += 1
        state["depth"] += 1
        if state["n"] > MAX_SVG_ELEMENTS:
            raise _refuse(name, Message("the SVG has more than {n} elements; simplify the drawing",
                                        n=MAX_SVG_ELEMENTS))
        if state["depth"] > MAX_SVG_DEPTH:
            raise _refuse(name, Message("the SVG nests elements more than {n} deep", n=MAX_SVG_DEPTH))

    def end(_tag: str) -> None:
        state["depth"] -= 1

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    def external(*_args: object) -> int:
        raise _refuse(name, Message("the SVG refers to an outside entity"))

    parser.ExternalEntityRefHandler = external
    parser.ProcessingInstructionHandler = pi
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        raise _refuse(name, Message("the SVG is not well-formed XML ({detail})", detail=str(e))) from None


def _check_urls(name: str, text: str, where: str) -> None:
    low = text.lower()
    if "javascript:" in low or "vbscript:" in low:
        raise _refuse(name, Message("it holds a script ({where})", where=where))
    if "@import" in low:
        raise _refuse(name, Message("it links outside the picture ({where}: {value})", where=where,
                                    value="@import"))
    for m in _URL_RE.finditer(text):
        if not m.group(2).strip().startswith("#"):
            raise _refuse(name, Message("it links outside the picture ({where}: {value})", where=where,
                                        value=m.group(2).strip()[:80]))


def _sanitize_svg(root: ET.Element, name: str) -> None:
    """Refuse scripts, handlers and references outside the picture; drop foreign elements and
    attributes (editor metadata) in place."""
    def walk(el: ET.Element) -> None:
        for child in list(el):
            if not isinstance(child.tag, str):  # comments and processing instructions
                el.remove(child)
                continue
            ns, local = _local_name(child.tag)
            if ns == SVG_NS and local in _SVG_REFUSED:
                raise _refuse(name, Message("the SVG is refused: {reason}", reason=Message(_SVG_REFUSED[local])))
            if ns == XHTML_NS and local in ("script", "iframe", "object", "embed"):
                raise _refuse(name, Message("the SVG is refused: {reason}", reason=Message("it holds a script")))
            if ns != SVG_NS or local in _SVG_DROPPED:
                # dropped unseen, but a script hidden in it still says what the file is
                if any(isinstance(sub.tag, str) and _local_name(sub.tag)[1] in ("script", "handler")
                       for sub in child.iter()):
                    raise _refuse(name, Message("the SVG is refused: {reason}", reason=Message("it holds a script")))
                el.remove(child)
                continue
            if local not in _SVG_ALLOWED:
                raise _refuse(name, Message(
                    "the SVG uses <{tag}>, which is not drawn here; simplify the drawing (plain shapes, paths, "
                    "text and gradients)", tag=local))
            attributes(child, local)
            if local == "style":
                _check_urls(name, child.text or "", "<style>")
            walk(child)

    def attributes(el: ET.Element, local: str) -> None:
        for key in list(el.attrib):
            ns, attr = _local_name(key)
            value = el.attrib[key]
            if attr.lower().startswith("on"):
                raise _refuse(name, Message("the SVG is refused: {reason}", reason=Message(
                    "it holds an event handler ({attr}), that is a script", attr=attr)))
            if ns not in ("", XLINK_NS, XML_NS) or (ns == XML_NS and attr == "base"):
                del el.attrib[key]  # editor data (inkscape:, sodipodi: ...); xml:base moves addresses
                continue
            if attr == "href":
                if not value.strip().startswith("#"):
                    element = "<" + local + ">"
                    raise _refuse(name, Message("it links outside the picture ({where}: {value})",
                                                where=element, value=value.strip()[:80]))
            _check_urls(name, value, f"<{local} {attr}>")

    ns, local = _local_name(root.tag)
    if (ns, local) != (SVG_NS, "svg"):
        raise _refuse(name, Message("the root element is <{tag}>, not <svg> of the SVG namespace", tag=local))
    attributes(root, "svg")
    walk(root)


def _cjk_fonts(root: ET.Element) -> None:
    """Text with Chinese characters is set in a CJK font: the renderer takes one font per text
    and finds no Chinese glyph in a Latin one (the style attribute wins over style sheets)."""
    for el in root.iter():
        if not isinstance(el.tag, str) or _local_name(el.tag)[1] not in ("text", "tspan", "textPath"):
            continue
        if not _CJK_RE.search("".join(el.itertext())):
            continue
        family = (el.get("font-family") or "") + (el.get("style") or "")
        cjk = CJK_SERIF if re.search(r"serif|song|sun|宋|仿宋|kai|楷|ming|times", family, re.I) and \
            "sans" not in family.lower() else CJK_SANS
        style = ";".join(p for p in (el.get("style") or "").split(";") if p.strip() and
                         not p.strip().lower().startswith("font-family"))
        el.set("style", (style + ";" if style else "") + f"font-family:'{cjk}'")


def _svg_length(value: str | None) -> float | None:
    m = _LENGTH_RE.match(value or "")
    return float(m.group(1)) * _UNIT_PX[m.group(2)] if m else None


def _svg_size(root: ET.Element, name: str) -> tuple[float, float]:
    """The drawing's aspect from width/height, else from the viewBox."""
    w, h = _svg_length(root.get("width")), _svg_length(root.get("height"))
    box = re.split(r"[\s,]+", (root.get("viewBox") or "").strip())
    vb = None
    if len(box) == 4:
        try:
            vb = tuple(float(x) for x in box)
        except ValueError:
            vb = None
    if (not w or not h) and vb:
        w, h = vb[2], vb[3]
    if not w or not h or w <= 0 or h <= 0:
        raise _refuse(name, Message(
            "the SVG declares no size: give the <svg> element width and height or a viewBox"))
    if max(w, h) / min(w, h) > MAX_ASPECT:
        raise _refuse(name, Message(
            "the picture has {w} × {h} pixels, longer than {ratio} times its width: crop it",
            w=round(w), h=round(h), ratio=int(MAX_ASPECT)))
    return w, h


def _rasterize_svg(data: bytes, name: str) -> bytes:
    if len(data) > MAX_SVG_BYTES:
        raise _refuse(name, Message("the SVG has {size} MB; a drawing may have at most {limit} MB",
                                    size=round(len(data) / 1048576, 1), limit=MAX_SVG_BYTES // 1048576))
    _check_svg_tokens(data, name)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise _refuse(name, Message("the SVG is not well-formed XML ({detail})", detail=str(e))) from None
    _sanitize_svg(root, name)
    _cjk_fonts(root)
    w, h = _svg_size(root, name)
    scale = SVG_RENDER_SIDE / max(w, h)
    clean = ET.tostring(root, encoding="utf-8")
    try:
        import cairosvg

        # the drawing refers to nothing outside itself any more (_sanitize_svg); unsafe=False
        # also keeps the renderer from resolving entities. On white, as printed: a transparent
        # drawing would vanish on a dark viewer.
        return cairosvg.svg2png(bytestring=clean, output_width=max(1, round(w * scale)),
                                output_height=max(1, round(h * scale)), unsafe=False, background_color="white")
    except PictureError:
        raise
    except Exception as e:  # noqa: BLE001 (the renderer raises many kinds on bad drawings)
        detail = f"{type(e).__name__}: {e}"[:160]
        raise _refuse(name, Message("the SVG could not be drawn ({detail})", detail=detail)) from None


# --------------------------------------------------------------------------------------
# Storing


@dataclass(frozen=True, slots=True)
class StoredPicture:
    sha256: str
    media_type: str
    width: int
    height: int
    n_bytes: int
    data: bytes | None = None  # loaded only by reads

    @property
    def markup(self) -> str:
        return picture_markup(self.sha256)


def _stored(rec: MediaBlobRecord, *, with_data: bool = False) -> StoredPicture:
    return StoredPicture(rec.sha256, rec.media_type, rec.width, rec.height, rec.n_bytes,
                         rec.data if with_data else None)


def store_picture(session: Session, *, bank: BankRef, checked: CheckedPicture, uploaded_by: str) -> StoredPicture:
    """Store a checked picture once (by hash) and record that ``uploaded_by`` brought it into
    ``bank``. Flushes; the caller commits (with the item version when there is one)."""
    sha = checked.sha256
    # the reads below decide the writes, and the writes run in savepoints, where SQLite cannot
    # turn a stale read snapshot into a write transaction: take the write lock first
    begin_writing(session)
    rec = session.get(MediaBlobRecord, sha)
    if rec is None:
        rec = MediaBlobRecord(sha256=sha, media_type=checked.media_type, width=checked.width,
                              height=checked.height, n_bytes=len(checked.data), data=checked.data,
                              created_at=datetime.now(timezone.utc))
        try:
            with session.begin_nested():  # two uploads of one picture at once: the second finds the first
                session.add(rec)
        except IntegrityError:
            rec = session.get(MediaBlobRecord, sha)  # type: ignore[assignment]
            assert rec is not None
    known = session.scalar(select(MediaUploadRecord.id).where(
        MediaUploadRecord.bank_id == bank.id, MediaUploadRecord.sha256 == sha,
        MediaUploadRecord.uploaded_by == uploaded_by))
    if known is None:
        try:
            with session.begin_nested():
                session.add(MediaUploadRecord(
                    sha256=sha, bank_id=bank.id, uploaded_by=uploaded_by[:100],
                    source_name=(checked.source_name or "")[-255:], source_type=checked.source_type,
                    source_bytes=checked.source_bytes, uploaded_at=datetime.now(timezone.utc)))
        except IntegrityError:
            pass  # the same user uploaded it at the same moment in another request
    return _stored(rec)


def upload_picture(session: Session, *, actor: Actor, bank: BankRef, data: bytes, filename: str) -> StoredPicture:
    """A writer (or bank manager) of the bank's occupation uploads a picture for an item:
    checked, re-encoded, stored once, ledgered. The returned ``markup`` goes into the text."""
    occ = bank.occupation.code
    if not (actor.has(Role.ITEM_WRITER, occupation_code=occ) or actor.has(Role.BANK_MANAGER, occupation_code=occ)):
        raise PermissionDeniedError(Message(
            "{user} may not add pictures to {bank}: it needs the item writer or bank manager role for "
            "occupation {occupation}", user=actor.username, bank=bank.label, occupation=occ))
    checked = check_picture(data, name=filename)
    stored = store_picture(session, bank=bank, checked=checked, uploaded_by=actor.username)
    ledger.append(session, actor=actor.username, action="picture.upload", object_type="picture",
                  object_id=stored.sha256, details={
                      "bank_id": bank.id, "bank": bank.label, "name": filename[-200:],
                      "source_type": checked.source_type,
                      "source_bytes": checked.source_bytes, "stored_bytes": stored.n_bytes,
                      "width": stored.width, "height": stored.height})
    return stored


def _known_in_bank(session: Session, bank_id: int, shas: Sequence[str]) -> set[str]:
    """Of ``shas``, those uploaded to the bank or shown by a version of one of its items."""
    found: set[str] = set()
    for i in range(0, len(shas), 500):
        chunk = list(shas[i:i + 500])
        found.update(session.scalars(select(MediaUploadRecord.sha256).where(
            MediaUploadRecord.bank_id == bank_id, MediaUploadRecord.sha256.in_(chunk))))
        found.update(session.scalars(
            select(ItemVersionPictureRecord.sha256)
            .join(ItemVersionRecord, ItemVersionRecord.id == ItemVersionPictureRecord.version_id)
            .join(ItemRecord, ItemRecord.id == ItemVersionRecord.item_id)
            .where(ItemRecord.bank_id == bank_id, ItemVersionPictureRecord.sha256.in_(chunk))))
    return found


def unknown_references(session: Session, *, bank: BankRef, contents: Iterable[tuple[str, ItemContent]],
                       also_known: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """(item code, field, hash) of every picture an item shows that is not in the bank: never
    uploaded to it, nor shown by one of its items. ``also_known``: pictures that will be stored
    in the same transaction before the items (an import)."""
    wanted: dict[str, list[tuple[str, str]]] = {}
    for code, content in contents:
        for field, text in content_texts(content):
            for sha in picture_refs(text):
                wanted.setdefault(sha, []).append((code, field))
    if not wanted:
        return []
    known = set(also_known) | _known_in_bank(session, bank.id or 0, sorted(wanted))
    return [(code, field, sha) for sha, places in wanted.items() if sha not in known
            for code, field in dict.fromkeys(places)]


def unknown_picture_message(sha: str) -> Message:
    return Message("picture {sha} is not in this bank: upload it with 插入图片 (a picture of another bank is "
                   "uploaded again)", sha=sha[:12] + "…")


def stored_originals(session: Session, *, bank: BankRef, pictures: Iterable[CheckedPicture]) -> dict[str, str]:
    """Re-encoded hash -> stored hash, for pictures sent exactly as this bank stores them (a
    package exported here and imported again): re-encoding a JPEG changes its bytes, and the
    item would otherwise look changed. Only pictures known in the bank are reused."""
    wanted = {p.source_sha256: p.sha256 for p in pictures if p.source_sha256 and p.source_sha256 != p.sha256}
    if not wanted:
        return {}
    known = _known_in_bank(session, bank.id or 0, sorted(wanted))
    return {wanted[src]: src for src in known}


def check_references(session: Session, *, bank: BankRef, contents: Iterable[tuple[str, ItemContent]],
                     also_known: Iterable[str] = ()) -> list[FieldMessage]:
    """Each picture an item shows that is not in the bank, about the item and its field
    (``unknown_references``)."""
    return [FieldMessage(field, unknown_picture_message(sha), where=Message("item {code}", code=code))
            for code, field, sha in unknown_references(session, bank=bank, contents=contents, also_known=also_known)]


def link_versions(session: Session, versions: Iterable[tuple[int, ItemContent]]) -> int:
    """Link each new version to the pictures its content shows (call after inserting the
    versions, in their transaction; the references were checked before). Returns links made."""
    rows = [{"version_id": vid, "sha256": sha} for vid, content in versions for sha in content_picture_refs(content)]
    if rows:
        session.execute(insert(ItemVersionPictureRecord), rows)
    return len(rows)


# --------------------------------------------------------------------------------------
# Reading


def pictures_of_versions(session: Session, version_ids: Sequence[int]) -> dict[int, list[str]]:
    """version id -> hashes of its linked pictures."""
    out: dict[int, list[str]] = {}
    for i in range(0, len(version_ids), 500):
        for vid, sha in session.execute(select(ItemVersionPictureRecord.version_id, ItemVersionPictureRecord.sha256)
                                        .where(ItemVersionPictureRecord.version_id.in_(version_ids[i:i + 500]))):
            out.setdefault(vid, []).append(sha)
    return out


def picture_info(session: Session, shas: Sequence[str]) -> dict[str, StoredPicture]:
    """Type, size and byte count of stored pictures (no bytes)."""
    out: dict[str, StoredPicture] = {}
    for i in range(0, len(shas), 500):
        rows = session.execute(select(MediaBlobRecord.sha256, MediaBlobRecord.media_type, MediaBlobRecord.width,
                                      MediaBlobRecord.height, MediaBlobRecord.n_bytes)
                               .where(MediaBlobRecord.sha256.in_(list(shas[i:i + 500]))))
        out.update({r[0]: StoredPicture(*r) for r in rows})
    return out


def load_pictures(session: Session, shas: Iterable[str]) -> dict[str, bytes]:
    """The bytes of stored pictures, each checked against its address; an unknown hash is left
    out (the caller says which item wanted it)."""
    wanted = sorted(set(shas))
    out: dict[str, bytes] = {}
    for i in range(0, len(wanted), 200):
        for sha, data in session.execute(select(MediaBlobRecord.sha256, MediaBlobRecord.data)
                                         .where(MediaBlobRecord.sha256.in_(wanted[i:i + 200]))):
            if hashlib.sha256(data).hexdigest() != sha:
                raise ValidationError(Message("stored picture {sha} does not match its hash: the database was "
                                              "altered; restore it from a backup", sha=sha))
            out[sha] = bytes(data)
    return out


def pictures_for_items(session: Session, items: Iterable[Item]) -> dict[str, bytes]:
    """Every picture the items show (for printing a paper, a QTI export): hash -> bytes."""
    wanted: dict[str, str] = {}
    for it in items:
        for sha in content_picture_refs(it.content):
            wanted.setdefault(sha, it.ref)
    found = load_pictures(session, wanted)
    missing = [f"{ref}: {sha[:12]}…" for sha, ref in wanted.items() if sha not in found]
    if missing:
        raise NotFoundError(Message("pictures shown by items are missing from the database: {missing}",
                                    missing=missing[:20]))
    return found


@dataclass(frozen=True, slots=True)
class PictureAccess:
    """Why an actor may read a picture: the item versions (``bank_id``, code) or the upload."""

    sha256: str
    items: tuple[tuple[int, str], ...]
    uploaded: bool


def require_picture_access(session: Session, *, actor: Actor, sha256: str) -> PictureAccess:
    """Refuse (``PermissionDeniedError``) unless the actor may read the picture: they may read
    an item (of any bank) whose version shows it (``itembank.visibility``), or they brought it
    into a bank they still work in. An unknown hash is refused the same way, so that nobody
    learns which pictures exist."""
    from itembank.occupations import get_bank_by_id
    from itembank.visibility import item_visibility

    sha = (sha256 or "").lower()
    refused = PermissionDeniedError(Message(
        "picture {sha} is not yours to see: pictures follow the items that show them (附件12 第9条)",
        sha=sha[:12] + "…"))
    if not HASH_RE.match(sha):
        raise refused
    shown = session.execute(
        select(ItemRecord.bank_id, ItemRecord.code, ItemRecord.created_by)
        .join(ItemVersionRecord, ItemVersionRecord.item_id == ItemRecord.id)
        .join(ItemVersionPictureRecord, ItemVersionPictureRecord.version_id == ItemVersionRecord.id)
        .where(ItemVersionPictureRecord.sha256 == sha).distinct()).all()
    uploads = session.execute(select(MediaUploadRecord.bank_id, MediaUploadRecord.uploaded_by)
                              .where(MediaUploadRecord.sha256 == sha)).all()
    by_bank: dict[int, list[tuple[str, str]]] = {}
    for bank_id, code, writer in shown:
        by_bank.setdefault(bank_id, []).append((code, writer))
    for bank_id, uploader in uploads:
        by_bank.setdefault(bank_id, [])
    occupations = dict(session.execute(select(BankRecord.id, OccupationRecord.code)
                                       .join(OccupationRecord, OccupationRecord.id == BankRecord.occupation_id)
                                       .where(BankRecord.id.in_(list(by_bank)))).all()) if by_bank else {}
    mine = {bank_id for bank_id, uploader in uploads if uploader == actor.username}
    for bank_id, rows in sorted(by_bank.items()):
        if not any(actor.has(r, occupation_code=occupations.get(bank_id)) for r in
                   (Role.BANK_MANAGER, Role.ITEM_WRITER, Role.REVIEWER, Role.COMMITTEE_MEMBER)):
            continue  # no content role there: item_visibility would refuse
        try:
            vis = item_visibility(session, actor=actor, bank=get_bank_by_id(session, bank_id))
        except PermissionDeniedError:
            continue
        if vis.whole_bank:
            codes = [code for code, _ in rows]
        elif vis.created_by is not None:
            codes = [code for code, writer in rows if writer == actor.username]
        else:
            codes = [code for code, _ in rows if code in (vis.codes or ())]
        if codes:
            return PictureAccess(sha, tuple((bank_id, c) for c in codes[:20]), False)
        if vis.whole_bank or bank_id in mine:  # not yet in an item: its uploader and the bank's managers
            return PictureAccess(sha, (), True)
    raise refused


def read_picture(session: Session, *, actor: Actor, sha256: str, via: str = "api") -> StoredPicture:
    """The picture's bytes for an actor who may see it (``require_picture_access``); the reading
    is written to the ledger like a reading of item content (附件11 第23条)."""
    access = require_picture_access(session, actor=actor, sha256=sha256)
    rec = session.get(MediaBlobRecord, access.sha256)
    if rec is None:  # linked rows guarantee it; kept for a database altered by hand
        raise NotFoundError(Message("picture {sha} is missing from the database", sha=access.sha256[:12] + "…"))
    picture = _stored(rec, with_data=True)
    if hashlib.sha256(picture.data or b"").hexdigest() != picture.sha256:
        raise ValidationError(Message("stored picture {sha} does not match its hash: the database was altered; "
                                      "restore it from a backup", sha=picture.sha256))
    ledger.append(session, actor=actor.username, action="picture.read", object_type="picture",
                  object_id=picture.sha256, details={
                      "via": via, "items": [f"{b}:{c}" for b, c in access.items], "uploader": access.uploaded})
    return picture


# --------------------------------------------------------------------------------------
# Pictures inside packages (QTI, the Excel zip)


def read_packaged_picture(zf, name: str) -> bytes:  # type: ignore[no-untyped-def]
    """The bytes of picture ``name`` of an open ``zipfile.ZipFile``, refused (``PictureError``)
    when its entry declares more than ``MAX_FILE_BYTES``; the stream is read with that bound
    too, and zipfile stops at the declared size (an entry that inflates past it fails its
    checksum and is refused as damaged). ``KeyError`` when absent. A bounded archive
    (``itembank.archive.SafeZip``) has checked every entry's declared size and ratio already."""
    zf = getattr(zf, "zf", zf)  # SafeZip wraps the ZipFile
    info = zf.getinfo(name)
    too_large = Message("the file has {size} MB; a picture may have at most {limit} MB: save it smaller "
                        "(e.g. JPEG for photos)", size=round(info.file_size / 1048576, 1),
                        limit=MAX_FILE_BYTES // 1048576)
    if info.file_size > MAX_FILE_BYTES:
        raise _refuse(name, too_large)
    try:
        with zf.open(info) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as e:
        # zipfile stops at the declared size, and the checksum then fails: a lying entry ends here
        raise _refuse(name, Message("the package entry is damaged or does not match its declared size ({detail})",
                                    detail=str(e)[:120])) from None
    return data


def decode_data_uri(uri: str, *, name: str = "data: URI") -> bytes:
    """The bytes of a ``data:image/...;base64,`` address (pictures other platforms inline in
    their QTI items), bounded like a file."""
    import base64
    import binascii

    head, sep, payload = uri.partition(",")
    if not sep or ";base64" not in head.lower():
        raise _refuse(name, Message("the picture is written into the item as text (data: URI) without base64; "
                                    "put the picture file into the package"))
    if len(payload) > MAX_FILE_BYTES * 4 // 3 + 8:
        raise _refuse(name, Message("the file is larger than {limit} MB; save it smaller (e.g. JPEG for photos)",
                                    limit=MAX_FILE_BYTES // 1048576))
    try:
        return base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(name, Message("the picture written into the item (data: URI) is not valid base64")) from None
