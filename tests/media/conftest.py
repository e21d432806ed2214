"""Pictures for the media tests, made here: a wiring drawing (PNG), a photo of equipment with
camera metadata (JPEG), a circuit diagram with Chinese labels (SVG), and hostile files."""

from __future__ import annotations

import io
from collections.abc import Iterator
import struct
import zlib

import pytest
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from itembank.i18n import use_locale

from tests.api.conftest import _cheap_password_hashing, api  # noqa: F401 (fixtures of the API tests)
from tests.workflow.conftest import Cast, make_bank


def wiring_png(width: int = 640, height: int = 400, *, seed: int = 0) -> bytes:
    """A black-on-white line drawing: a lamp circuit with a switch (PNG, palette)."""
    im = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(im)
    d.rectangle((40, 60, width - 40, height - 60), outline="black", width=3)
    d.ellipse((width // 2 - 30, 30, width // 2 + 30, 90), outline="black", width=3)  # the lamp
    d.line((width // 2 - 20, 40, width // 2 + 20, 80), fill="black", width=3)
    d.line((100 + seed, height - 60, 140 + seed, height - 90), fill="black", width=3)  # the switch
    buf = io.BytesIO()
    im.convert("P").save(buf, "PNG")
    return buf.getvalue()


def photo_jpeg(width: int = 1600, height: int = 1200, *, orientation: int = 6) -> bytes:
    """A photo-like JPEG with EXIF: camera make, a GPS position and the orientation tag."""
    r = Image.linear_gradient("L").resize((width, height))
    g = Image.radial_gradient("L").resize((width, height))
    b = r.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    im = Image.merge("RGB", (r, g, b))
    ImageDraw.Draw(im).rectangle((width // 4, height // 4, width // 2, height // 2), fill=(40, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = orientation  # 6: rotate 90° clockwise to view
    exif[0x8825] = {1: "N", 2: (31.0, 18.0, 0.0), 3: "E", 4: (120.0, 37.0, 0.0)}  # GPS: Suzhou
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


CIRCUIT_SVG = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" width="300mm" height="150mm"
     viewBox="0 0 300 150" inkscape:version="1.2">
  <metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>
  <defs><marker id="dot" markerWidth="4" markerHeight="4" refX="2" refY="2"><circle cx="2" cy="2" r="2"/></marker></defs>
  <g id="circuit" stroke="black" fill="none" stroke-width="1.5">
    <path d="M20 30 H280 V120 H20 Z" marker-start="url(#dot)"/>
    <rect x="120" y="20" width="60" height="20" fill="white"/>
    <use xlink:href="#lamp" x="150" y="120"/>
  </g>
  <symbol id="lamp" overflow="visible"><circle cx="0" cy="0" r="8" stroke="black" fill="none"/></symbol>
  <text id="circuit-label" x="130" y="60" font-size="14" font-family="SimSun">电阻 R1 10Ω</text>
  <text x="30" y="140" font-size="12" style="font-family:Arial">KM1 接触器</text>
</svg>
""".encode("utf-8")


def svg(body: str, *, attrs: str = 'width="100" height="60"') -> bytes:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" {attrs}>'
            f'{body}</svg>').encode("utf-8")


def png_claiming(width: int, height: int) -> bytes:
    """A small, valid-looking PNG whose header declares ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
            + chunk(b"IEND", b""))


@pytest.fixture()
def english() -> Iterator[None]:
    """Service messages read in English (their Chinese is checked through the API and pages)."""
    with use_locale("en"):
        yield


@pytest.fixture()
def cast(session: Session) -> Cast:
    return make_bank(session)


# the live server and Chromium of the browser tests (tests/web/conftest.py)
from tests.web.conftest import live  # noqa: E402,F401 (the browser fixture is the session's: tests/conftest.py)
