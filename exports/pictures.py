"""Pictures of items in Word documents (issue 17): circuit diagrams, wiring drawings, photos.

An item's text shows a picture where it holds ``![caption](media:<sha256>)``
(``itembank.media``); the paper carries the pictures' bytes (``Paper.pictures``, loaded by
whoever built the paper). Here each picture becomes its own centred paragraph with an inline
picture (``w:drawing``), its caption under it in the caption style, between the pieces of text.

Size: the picture's natural size at ``PRINT_DPI`` (a 640-pixel drawing is 10.8 cm wide), never
wider than ``MAX_WIDTH_CM`` or its column nor taller than ``MAX_HEIGHT_CM`` (a few pictures still
fit a page with their questions), the aspect kept. Text without pictures is written exactly as before
(``layout.para``), so papers without pictures do not change by a byte.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm
from docx.text.paragraph import Paragraph

from itembank.i18n import Message
from itembank.media import PictureRef, split_pictures, stored_size

from exports import layout as L
from exports.errors import PaperLayoutError

PRINT_DPI = 150.0
MAX_WIDTH_CM = 12.0  # three quarters of the text width: the question stays the main thing
MAX_HEIGHT_CM = 8.0
OPTION_MAX_WIDTH_CM = 7.0  # a picture in an option: two fit side by side on the page's width
OPTION_MAX_HEIGHT_CM = 5.0

Pictures = Mapping[str, bytes]


def missing_picture(where: str, sha256: str) -> PaperLayoutError:
    return PaperLayoutError(Message(
        "{where} shows picture {sha}, which was not given with the paper; load the paper with its pictures "
        "(itembank.media.pictures_for_items)", where=where, sha=sha256[:12] + "…"), field="pictures")


def has_pictures(text: str | None) -> bool:
    return any(isinstance(p, PictureRef) for p in split_pictures(text))


def print_size(data: bytes, *, max_width_cm: float, max_height_cm: float = MAX_HEIGHT_CM) -> tuple[float, float]:
    """Width and height in cm: natural size at ``PRINT_DPI``, scaled down to fit the box."""
    w_px, h_px = stored_size(data)
    w, h = w_px / PRINT_DPI * 2.54, h_px / PRINT_DPI * 2.54
    scale = min(1.0, max_width_cm / w, max_height_cm / h)
    return round(w * scale, 3), round(h * scale, 3)


def add_picture(container, data: bytes, *, max_width_cm: float,  # type: ignore[no-untyped-def]
                max_height_cm: float = MAX_HEIGHT_CM, caption: str = "") -> Paragraph:
    """A centred paragraph holding the picture (kept with its caption), and the caption."""
    width, height = print_size(data, max_width_cm=min(max_width_cm, MAX_WIDTH_CM), max_height_cm=max_height_cm)
    p = container.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.keep_with_next = bool(caption)
    p.paragraph_format.keep_together = True
    p.add_run().add_picture(io.BytesIO(data), width=Cm(width), height=Cm(height))
    if caption:
        L.para(container, caption, L.S_CAPTION)
    return p


def write_text(container, text: str, style: str | None, pictures: Pictures, *,  # type: ignore[no-untyped-def]
               where: str = "", max_width_cm: float = MAX_WIDTH_CM,
               max_height_cm: float = MAX_HEIGHT_CM) -> Paragraph:
    """Write ``text`` like ``layout.para`` (one paragraph in ``style``), with each picture it
    shows as a paragraph of its own where it stands. Returns the first paragraph.

    Raises
    ------
    PaperLayoutError
        The text shows a picture that ``pictures`` does not hold (``where`` names the item).
    """
    parts = split_pictures(text)
    if not any(isinstance(p, PictureRef) for p in parts):
        return L.para(container, text, style)
    first: Paragraph | None = None
    for i, part in enumerate(parts):
        if isinstance(part, PictureRef):
            data = pictures.get(part.sha256)
            if data is None:
                raise missing_picture(where or "an item", part.sha256)
            p = add_picture(container, data, max_width_cm=max_width_cm, max_height_cm=max_height_cm,
                            caption=part.caption)
        else:
            # the line breaks around a picture are the picture's own paragraph
            piece = part
            if i > 0:
                piece = piece.removeprefix("\r\n").removeprefix("\n")
            if i + 1 < len(parts):
                piece = piece.removesuffix("\n").removesuffix("\r")
            if not piece and first is not None:
                continue
            p = L.para(container, piece, style)
            if i + 1 < len(parts):
                p.paragraph_format.keep_with_next = True  # the question stays with its picture
        first = first or p
    assert first is not None
    return first


def write_cell(cell, text: str, pictures: Pictures, *, where: str = "",  # type: ignore[no-untyped-def]
               max_width_cm: float) -> None:
    """Like ``layout.cell_text`` for a table cell whose text may show pictures."""
    if not has_pictures(text):
        L.cell_text(cell, text)
        return
    parts = split_pictures(text)
    lead = parts[0] if isinstance(parts[0], str) else ""
    L.cell_text(cell, lead.removesuffix("\n").removesuffix("\r"))
    ppr = cell.paragraphs[0]._p.pPr
    write_text(cell, text[len(lead):], ppr.style if ppr is not None else None, pictures, where=where,
               max_width_cm=max_width_cm)


def strip_pictures(text: str) -> str:
    """The text without its pictures (for measuring and for bracket checks)."""
    return "".join(p for p in split_pictures(text) if isinstance(p, str))


def options_have_pictures(item) -> bool:  # type: ignore[no-untyped-def]
    return any(has_pictures(o.text) for o in item.content.options)


def write_options(doc, item, pictures: Pictures) -> None:  # type: ignore[no-untyped-def]
    """Options of which one shows a picture: one paragraph per option, "A．" and its words with
    each picture on a line of its own under them (at most ``OPTION_MAX_WIDTH_CM`` wide), every
    option kept whole and the options kept together."""
    options = item.content.options
    for k, o in enumerate(options):
        p = L.para(doc, "", L.S_OPTIONS.format(n=1))
        p.paragraph_format.keep_together = True
        p.paragraph_format.keep_with_next = k < len(options) - 1
        p.add_run(f"{o.label}．")
        after_picture = False
        for part in split_pictures(o.text.strip()):
            if isinstance(part, PictureRef):
                data = pictures.get(part.sha256)
                if data is None:
                    raise missing_picture(f"item {item.ref}", part.sha256)
                width, height = print_size(data, max_width_cm=OPTION_MAX_WIDTH_CM, max_height_cm=OPTION_MAX_HEIGHT_CM)
                run = p.add_run()
                run.add_break()
                run.add_picture(io.BytesIO(data), width=Cm(width), height=Cm(height))
                if part.caption:
                    p.add_run().add_break()
                    p.add_run(part.caption)
                after_picture = True
            else:
                words = part.strip("\r\n")
                if not words:
                    continue
                if after_picture:
                    p.add_run().add_break()
                p.add_run(words)


def append_to_text(text: str, suffix: str) -> str:
    """``text + suffix``, but when the text ends with pictures the suffix goes after the last
    words before them (an answer bracket or "（2分）" belongs to the question, not under a
    drawing)."""
    parts = split_pictures(text)
    for i in range(len(parts) - 1, -1, -1):
        part = parts[i]
        if isinstance(part, str) and part.strip():
            stripped = part.rstrip()
            parts[i] = stripped + suffix + part[len(stripped):]
            return "".join(p if isinstance(p, str) else f"![{p.caption}](media:{p.sha256})" for p in parts)
    return suffix + text
