"""Convert a .docx to PDF with LibreOffice (headless), for previews and the rendering test.

LibreOffice runs as a child process with its own throw-away profile (so that concurrent
conversions don't fight over one) and with ``FONTCONFIG`` below as its fontconfig file:
the system configuration plus aliases that map 宋体/SimSun and 黑体/SimHei to the free
Noto CJK Serif/Sans faces when the Windows fonts are absent. Debian packages:
``libreoffice-writer-nogui`` and ``fonts-noto-cjk``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from exports.errors import PdfConversionError

log = logging.getLogger(__name__)

FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<!-- Used only for the LibreOffice process of exports.pdf: the system configuration plus
     the Chinese exam-paper fonts mapped to free fonts with the same look when the real ones
     are absent (宋体/SimSun: a serif Ming face; 黑体/SimHei: a sans Hei face). -->
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
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


def docx_to_pdf(docx_bytes: bytes, *, soffice: str | None = None, timeout_s: float = 180.0) -> bytes:
    """Render a .docx to PDF bytes with LibreOffice.

    Raises
    ------
    PdfConversionError
        LibreOffice is not installed, failed, or timed out.
    """
    exe = soffice or find_soffice()
    if exe is None:
        raise PdfConversionError("LibreOffice (soffice) is not installed; "
                                 "apt-get install libreoffice-writer-nogui fonts-noto-cjk")
    with tempfile.TemporaryDirectory(prefix="itembank-pdf-") as tmp:
        src = Path(tmp) / "document.docx"
        src.write_bytes(docx_bytes)
        profile = Path(tmp) / "profile"
        env = dict(os.environ)
        fonts_conf = Path(tmp) / "fonts.conf"
        fonts_conf.write_text(FONTCONFIG, encoding="utf-8")
        env["FONTCONFIG_FILE"] = str(fonts_conf)
        env.setdefault("HOME", tmp)
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", tmp, str(src)]
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as e:
            raise PdfConversionError(f"LibreOffice did not finish within {timeout_s:g} s") from e
        out = Path(tmp) / "document.pdf"
        if proc.returncode != 0 or not out.exists():
            raise PdfConversionError(
                f"LibreOffice failed (exit {proc.returncode}): "
                f"{proc.stderr.decode('utf-8', 'replace').strip() or proc.stdout.decode('utf-8', 'replace').strip()}"
            )
        log.debug("converted %d bytes of .docx to PDF", len(docx_bytes))
        return out.read_bytes()
