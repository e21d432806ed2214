"""Convert a .docx to PDF with LibreOffice (headless): the printable copy beside each Word
document, and the rendering tests.

Fonts. A paper's text is set in 宋体 (SimSun) and its headings in 黑体 (SimHei). Where those
Windows fonts are installed, LibreOffice uses them. Where they are not (a Linux print server),
the serif and sans Simplified Chinese faces of the free Noto CJK fonts stand in: Noto Serif CJK
SC for 宋体 and Noto Sans CJK SC for 黑体 (Debian package ``fonts-noto-cjk``). Debian ships
them as collections (.ttc) whose first face is the Japanese one, and the collection's faces
share one CFF table named after it, so LibreOffice embeds ``NotoSerifCJKjp``. ``cjk_font_dir``
therefore copies the SC faces once into a cache directory, each CFF renamed after its own face
(``NotoSerifCJKsc-Regular``: same length, bytes only, nothing recompiled), and the fontconfig
file of the conversion hides the collections, so that the PDF embeds the Simplified Chinese
faces under their own names (``pdffonts`` shows ``NotoSerifCJKsc-Regular``).

LibreOffice runs as a child process with its own throw-away profile, so that concurrent
conversions don't fight over one. Debian packages: ``libreoffice-writer-nogui``,
``fonts-noto-cjk`` (and ``poppler-utils`` for the tests' ``pdffonts``/``pdftotext``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from itembank.i18n import Message

from exports.errors import PdfConversionError

log = logging.getLogger(__name__)

# (family in the collection, style, file) of the faces copied out of the Noto CJK collections
CJK_FACES = (("Noto Serif CJK SC", "Regular"), ("Noto Serif CJK SC", "Bold"),
             ("Noto Sans CJK SC", "Regular"), ("Noto Sans CJK SC", "Bold"))

_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<!-- Used only for the LibreOffice process of exports.pdf: the system configuration, the
     Simplified Chinese faces copied out of the Noto CJK collections (which are hidden), and
     the exam-paper fonts mapped to them where the Windows fonts are absent. -->
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
{extra}
  <alias binding="same">
    <family>宋体</family>
    <prefer><family>SimSun</family><family>Noto Serif CJK SC</family><family>Source Han Serif SC</family><family>AR PL UMing CN</family></prefer>
  </alias>
  <alias binding="same">
    <family>SimSun</family>
    <prefer><family>Noto Serif CJK SC</family><family>Source Han Serif SC</family><family>AR PL UMing CN</family></prefer>
  </alias>
  <alias binding="same">
    <family>黑体</family>
    <prefer><family>SimHei</family><family>Noto Sans CJK SC</family><family>Source Han Sans SC</family><family>WenQuanYi Zen Hei</family></prefer>
  </alias>
  <alias binding="same">
    <family>SimHei</family>
    <prefer><family>Noto Sans CJK SC</family><family>Source Han Sans SC</family><family>WenQuanYi Zen Hei</family></prefer>
  </alias>
  <alias binding="same">
    <family>Times New Roman</family>
    <prefer><family>Liberation Serif</family><family>DejaVu Serif</family></prefer>
  </alias>
</fontconfig>
"""


def find_soffice() -> str | None:
    """Path of LibreOffice's ``soffice`` (or ``libreoffice``), or None when not installed."""
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _faces() -> dict[tuple[str, str], tuple[Path, int]]:
    """(family, style) -> (collection file, face index) of the installed Noto CJK SC faces."""
    fc = shutil.which("fc-list")
    if fc is None:
        return {}
    try:
        out = subprocess.run([fc, "-f", "%{file}|%{index}|%{family[0]}|%{style[0]}\n", ":lang=zh-cn"],
                             capture_output=True, timeout=60, check=True).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return {}
    found: dict[tuple[str, str], tuple[Path, int]] = {}
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 4 and (parts[2], parts[3]) in CJK_FACES and parts[0].endswith(".ttc"):
            found[(parts[2], parts[3])] = (Path(parts[0]), int(parts[1] or 0))
    return found


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    root = Path(base) / "itembank" / "fonts"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".probe"
        probe.write_bytes(b"")
        probe.unlink()
        return root
    except OSError:
        root = Path(tempfile.gettempdir()) / f"itembank-fonts-{os.getuid() if hasattr(os, 'getuid') else 0}"
        root.mkdir(parents=True, exist_ok=True)
        return root


def _copy_face(src: Path, index: int, target: Path) -> None:
    """Copy face ``index`` of the collection ``src`` to ``target`` with its CFF renamed after
    the face (the collection's faces share the first face's name)."""
    from fontTools.ttLib import TTCollection
    from fontTools.ttLib.tables.DefaultTable import DefaultTable

    font = TTCollection(str(src), lazy=True, recalcBBoxes=False, recalcTimestamp=False).fonts[index]
    ps = font["name"].getDebugName(6) or target.stem
    if "CFF " in font.reader:
        raw = font.reader["CFF "]
        for region in ("jp", "kr", "tc", "hk"):  # the first face's name, same length as ours
            raw = raw.replace(ps.replace("CJKsc", f"CJK{region}").encode("ascii"), ps.encode("ascii"))
        table = DefaultTable("CFF ")
        table.data = raw
        font["CFF "] = table
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    font.save(str(tmp))
    os.replace(tmp, target)  # atomic: concurrent conversions see a whole file or none


def cjk_font_dir() -> Path | None:
    """The directory of the Noto CJK SC faces for PDFs (made once per collection version),
    or None when fonts-noto-cjk is not installed (fontconfig then chooses alone)."""
    faces = _faces()
    if len(faces) < len(CJK_FACES):
        return None
    stamp = hashlib.sha256(repr(sorted((k, str(p), i, p.stat().st_size, p.stat().st_mtime_ns)
                                       for k, (p, i) in faces.items())).encode()).hexdigest()[:12]
    target_dir = _cache_root() / stamp
    target_dir.mkdir(parents=True, exist_ok=True)
    for (family, style), (src, index) in faces.items():
        target = target_dir / f"{family.replace(' ', '')}-{style}.otf"
        if not target.exists():
            log.info("copying %s %s out of %s for PDF output", family, style, src)
            _copy_face(src, index, target)
    return target_dir


def fontconfig_text() -> str:
    """The fontconfig file of a conversion (see the module docstring)."""
    font_dir = cjk_font_dir()
    extra = ""
    if font_dir is not None:
        hidden = sorted({str(p.parent) for p, _ in _faces().values()})
        extra = f"  <dir>{font_dir}</dir>\n" + "".join(
            f"  <selectfont><rejectfont><glob>{d}/Noto*CJK*.ttc</glob></rejectfont></selectfont>\n" for d in hidden)
    return _FONTCONFIG.format(extra=extra)


def docx_to_pdf(docx_bytes: bytes, *, soffice: str | None = None, timeout_s: float = 180.0) -> bytes:
    """Render a .docx to PDF bytes with LibreOffice.

    Raises
    ------
    PdfConversionError
        LibreOffice is not installed, failed, or timed out.
    """
    exe = soffice or find_soffice()
    if exe is None:
        raise PdfConversionError(Message(
            "LibreOffice (soffice) is not installed; install libreoffice-writer-nogui and fonts-noto-cjk"))
    with tempfile.TemporaryDirectory(prefix="itembank-pdf-") as tmp:
        src = Path(tmp) / "document.docx"
        src.write_bytes(docx_bytes)
        profile = Path(tmp) / "profile"
        env = dict(os.environ)
        fonts_conf = Path(tmp) / "fonts.conf"
        fonts_conf.write_text(fontconfig_text(), encoding="utf-8")
        env["FONTCONFIG_FILE"] = str(fonts_conf)
        env.setdefault("HOME", tmp)
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", tmp, str(src)]
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as e:
            raise PdfConversionError(Message("LibreOffice did not finish within {seconds:g} s",
                                             seconds=timeout_s)) from e
        out = Path(tmp) / "document.pdf"
        if proc.returncode != 0 or not out.exists():
            said = proc.stderr.decode("utf-8", "replace").strip() or proc.stdout.decode("utf-8", "replace").strip()
            raise PdfConversionError(Message("LibreOffice failed (exit {code}): {output}",
                                             code=proc.returncode, output=said))
        log.debug("converted %d bytes of .docx to PDF", len(docx_bytes))
        return out.read_bytes()
