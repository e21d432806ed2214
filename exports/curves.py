"""Charts of the papers' test information and test characteristic curves (matplotlib).

Rendered with the Agg canvas on a ``matplotlib.figure.Figure`` of our own, never through
``pyplot``: no global figure state, safe in a web worker. Chinese labels need a CJK font;
the first one found among the usual families (Noto Sans CJK, Source Han Sans, WenQuanYi,
SimHei, Microsoft YaHei) is passed to each text element as a ``FontProperties`` (the
global rcParams stay untouched). Without one the labels fall back to English and a warning
is logged, so the chart never shows empty boxes.

Determinism: PNG output depends only on the data (and the matplotlib version); SVG output
is given a fixed hash salt and no date, so the same data give the same bytes.
"""

from __future__ import annotations

import functools
import io
import logging
import os
from typing import TYPE_CHECKING

import numpy as np

from exports.errors import ReportDataError

if TYPE_CHECKING:  # pragma: no cover
    from exports.assembly_report import AssemblyReportData

log = logging.getLogger(__name__)

CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei",
                "Noto Sans CJK JP", "Noto Serif CJK SC", "AR PL UMing CN")
_CJK_FILE_HINTS = ("notosanscjk", "sourcehansans", "wqy-zenhei", "wqy-microhei", "simhei", "msyh",
                   "notoserifcjk", "uming")
_SVG_SALT = "itembank-exports"

_LABELS = {
    "zh": {"info": "测验信息函数", "tcc": "测验特征曲线", "theta": "能力 θ", "info_y": "信息量 I(θ)",
           "tcc_y": "期望得分", "target": "目标信息函数"},
    "en": {"info": "Test information", "tcc": "Test characteristic curve", "theta": "ability θ",
           "info_y": "information I(θ)", "tcc_y": "expected score", "target": "target information"},
}


@functools.lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """Path of a font file with Chinese glyphs, or None.

    Looks in matplotlib's font list first; its cache may predate fonts installed since, so
    the system font folders are searched by file name as a fallback (once per process)."""
    from matplotlib import font_manager

    by_name: dict[str, str] = {}
    for f in font_manager.fontManager.ttflist:
        by_name.setdefault(f.name, f.fname)
    for family in CJK_FAMILIES:
        if family in by_name and os.path.exists(by_name[family]):
            return by_name[family]
    for path in sorted(font_manager.findSystemFonts()):
        base = os.path.basename(path).lower()
        if any(h in base for h in _CJK_FILE_HINTS) and "bold" not in base:
            return path
    return None


def plot_curves(data: "AssemblyReportData", *, fmt: str = "png", dpi: int = 150,
                english: bool | None = None) -> bytes:
    """The papers' test information (left) and test characteristic curves (right), one line
    per paper, on one figure.

    Parameters
    ----------
    data : AssemblyReportData
        ``thetas`` shape (n_thetas,); each paper's ``information`` and ``expected_scores``
        shape (n_thetas,).
    fmt : {"png", "svg"}
    dpi : int
        Resolution of the PNG.
    english : bool, optional
        Force English labels; by default Chinese when a CJK font is available.

    Returns
    -------
    bytes
        The PNG or SVG image.
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    from exports.assembly_report import validate_report_data

    if fmt not in ("png", "svg"):
        raise ReportDataError(f"chart format {fmt!r}: use 'png' or 'svg'", field="fmt")
    validate_report_data(data)
    font_path = None if english else cjk_font_path()
    if font_path is None and not english:
        log.warning("no CJK font found for matplotlib: chart labels in English "
                    "(install fonts-noto-cjk for Chinese labels)")
    lang = "zh" if font_path else "en"
    labels = _LABELS[lang]
    def font(size: float) -> FontProperties:
        return FontProperties(fname=font_path, size=size) if font_path else FontProperties(size=size)

    fp, fp_title, fp_legend = font(11), font(12.5), font(9.5)

    thetas = np.asarray(data.thetas, dtype=np.float64)
    fig = Figure(figsize=(9.0, 3.9), dpi=dpi)
    ax_info, ax_tcc = fig.subplots(1, 2)
    styles = ["-", "--", "-.", ":"]
    for k, p in enumerate(data.papers):
        name = f"{p.label} {p.code}" if lang == "zh" else p.code
        ls = styles[k % len(styles)]
        ax_info.plot(thetas, np.asarray(p.information, dtype=np.float64), ls, lw=1.6, label=name)
        ax_tcc.plot(thetas, np.asarray(p.expected_scores, dtype=np.float64), ls, lw=1.6, label=name)
    if data.target_information is not None:
        ax_info.plot(thetas, np.asarray(data.target_information, dtype=np.float64), color="0.4", lw=1.0,
                     ls=(0, (4, 2)), label=labels["target"])
    max_points = max(p.total_points for p in data.papers)
    for ax, key, ykey in ((ax_info, "info", "info_y"), (ax_tcc, "tcc", "tcc_y")):
        ax.set_title(labels[key], fontproperties=fp_title)
        ax.set_xlabel(labels["theta"], fontproperties=fp)
        ax.set_ylabel(labels[ykey], fontproperties=fp)
        ax.grid(True, lw=0.4, color="0.85")
        ax.tick_params(labelsize=10)
        ax.set_xlim(thetas[0], thetas[-1])
        ax.legend(prop=fp_legend, frameon=False, loc="upper left" if key == "tcc" else "upper right")
    ax_info.set_ylim(bottom=0)
    ax_tcc.set_ylim(0, max_points * 1.02)
    fig.tight_layout()

    buf = io.BytesIO()
    if fmt == "png":
        FigureCanvasAgg(fig).print_png(buf, metadata={"Software": None})
    else:
        # a fixed salt for the SVG's element ids and no date: same data, same bytes
        with rc_context({"svg.hashsalt": _SVG_SALT, "svg.fonttype": "path"}):
            FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None, "Creator": None})
    return buf.getvalue()
