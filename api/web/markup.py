"""The one markup item text may hold: formulas between dollar signs, rendered server-side.

Everything else in a stem or an option is plain text: it is escaped, and line breaks are kept.
Between ``$...$`` a small LaTeX-like subset becomes HTML built here from escaped pieces, so no
text from an item is ever inserted as raw HTML:

- ``x^2``, ``x^{n+1}`` superscripts; ``I_1``, ``U_{AB}`` subscripts;
- ``\\frac{a}{b}`` fractions, ``\\sqrt{x}`` roots;
- Greek letters (``\\alpha`` ... ``\\Omega``) and common symbols (``\\times``, ``\\cdot``, ``\\div``,
  ``\\pm``, ``\\leq``, ``\\geq``, ``\\neq``, ``\\approx``, ``\\infty``, ``\\degree``, ``\\angle`` ...);
- ``\\$`` is a literal dollar sign.

Why not KaTeX: item formulas in vocational theory banks are short (Ohm's law, powers, roots,
unit symbols); this subset covers them without 300 kB of script and fonts, renders the same in
the preview and on every page, and works without JavaScript. An unknown command is shown as
written, so a writer sees at once that it is not supported.

Pictures (issue 17): outside formulas, ``![caption](media:<sha256>)`` shows an uploaded
picture with its caption under it (``itembank.media``: the one syntax, also printed in papers
and carried in QTI). The picture is fetched from ``/ui/media/<sha256>``, where need-to-know
is checked and the reading is ledgered.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from itembank.i18n import _
from itembank.media import PictureRef, split_pictures

MAX_FORMULA = 500  # characters between one pair of dollar signs
MAX_DEPTH = 12

SYMBOLS = {
    # Greek
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ",
    "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ",
    "Psi": "Ψ", "Omega": "Ω",
    # operators and relations
    "times": "×", "cdot": "·", "div": "÷", "pm": "±", "mp": "∓", "leq": "≤", "le": "≤", "geq": "≥",
    "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "equiv": "≡", "infty": "∞", "degree": "°",
    "circ": "°", "angle": "∠", "parallel": "∥", "perp": "⊥", "rightarrow": "→", "to": "→",
    "leftarrow": "←", "Rightarrow": "⇒", "sum": "∑", "int": "∫", "partial": "∂", "%": "%",
    "prime": "′", "propto": "∝", "sim": "∼", "cdots": "⋯", "ldots": "…", ",": "\u2009", " ": " ",
}


class _FormulaError(ValueError):
    pass


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def parse(self) -> str:
        out = self.sequence(depth=0, closing=False)
        if self.pos != len(self.src):
            raise _FormulaError("unbalanced }")
        return out

    def sequence(self, *, depth: int, closing: bool) -> str:
        if depth > MAX_DEPTH:
            raise _FormulaError("nested too deeply")
        parts: list[str] = []
        while self.pos < len(self.src):
            ch = self.peek()
            if ch == "}":
                if not closing:
                    raise _FormulaError("unbalanced }")
                return "".join(parts)
            if ch in "^_":
                self.pos += 1
                tag = "sup" if ch == "^" else "sub"
                parts.append(f"<{tag}>{self.atom(depth)}</{tag}>")
            else:
                parts.append(self.atom(depth))
        if closing:
            raise _FormulaError("missing }")
        return "".join(parts)

    def group(self, depth: int) -> str:
        if self.peek() != "{":
            return self.atom(depth)
        self.pos += 1
        inner = self.sequence(depth=depth + 1, closing=True)
        self.pos += 1  # the closing brace
        return inner

    def atom(self, depth: int) -> str:
        ch = self.peek()
        if not ch:
            raise _FormulaError("a ^, _ or command lacks its argument")
        if ch == "{":
            return self.group(depth)
        if ch == "\\":
            return self.command(depth)
        self.pos += 1
        if ch == " ":
            return ""  # spacing inside formulas comes from the layout, as in TeX
        return str(escape(ch))

    def command(self, depth: int) -> str:
        self.pos += 1  # the backslash
        start = self.pos
        while self.pos < len(self.src) and self.src[self.pos].isalpha():
            self.pos += 1
        name = self.src[start:self.pos]
        if not name and self.pos < len(self.src):  # \, \% \{ \}
            name = self.src[self.pos]
            self.pos += 1
            if name in "{}$\\":
                return str(escape(name))
        if name == "frac":
            num, den = self.group(depth + 1), self.group(depth + 1)
            return (f'<span class="frac"><span class="num">{num}</span>'
                    f'<span class="den">{den}</span></span>')
        if name == "sqrt":
            return f'<span class="sqrt">√<span class="radicand">{self.group(depth + 1)}</span></span>'
        if name in ("text", "mathrm"):
            return f'<span class="upright">{self.group(depth + 1)}</span>'
        if name in SYMBOLS:
            return str(escape(SYMBOLS[name]))
        return Markup('<span class="unknown">') + escape("\\" + name) + Markup("</span>")


def render_formula(src: str) -> Markup:
    """HTML of one formula (the text between the dollar signs); the source, escaped, when it
    does not parse."""
    if len(src) > MAX_FORMULA:
        return Markup('<span class="math bad">') + escape(src) + Markup("</span>")
    try:
        inner = _Parser(src).parse()
    except _FormulaError:
        title = escape(_("The formula could not be read"))
        return Markup(f'<span class="math bad" title="{title}">$') + escape(src) + Markup("$</span>")
    return Markup(f'<span class="math">{inner}</span>')


PICTURE_URL = "/ui/media/{sha}"


def render_picture(ref: PictureRef) -> Markup:
    """One picture as a block with its caption (sized by the page, never past its column)."""
    cap = escape(ref.caption)
    return Markup(
        f'<span class="pic" style="display:block;margin:.5rem 0;text-align:center">'
        f'<img src="{PICTURE_URL.format(sha=ref.sha256)}" alt="{cap or "图"}" loading="lazy" '
        f'style="max-width:100%;max-height:24rem;height:auto;border:1px solid #d0d7de;background:#fff">'
        + (f'<span class="pic-cap" style="display:block;font-size:.9em">{cap}</span>' if cap else "")
        + "</span>")


def _plain(text: str) -> Markup:
    """Plain text: escaped, pictures shown."""
    return Markup("").join(render_picture(p) if isinstance(p, PictureRef) else escape(p)
                           for p in split_pictures(text))


def render_markup(text: str | None) -> Markup:
    """Item text as safe HTML: escaped, line breaks kept, ``$...$`` formulas rendered."""
    if not text:
        return Markup("")
    out: list[Markup | str] = []
    buf: list[str] = []
    formula: list[str] | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] == "$":
            (formula if formula is not None else buf).append("\\$" if formula is not None else "$")
            i += 2
            continue
        if ch == "$":
            if formula is None:
                out.append(_plain("".join(buf)))
                buf, formula = [], []
            else:
                out.append(render_formula("".join(formula)))
                formula = None
            i += 1
            continue
        (formula if formula is not None else buf).append(ch)
        i += 1
    if formula is not None:  # an unmatched dollar is text
        buf = ["$", *formula]
    out.append(_plain("".join(buf)))
    html = Markup("").join(out)
    return Markup(str(html).replace("\r\n", "\n").replace("\n", "<br>"))
