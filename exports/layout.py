"""Word building blocks shared by every document: A4 page set-up, the styles and fonts of a
Chinese exam paper, tables, page-number fields, the sealing strip, deterministic saving.

Fonts. Chinese text gets its font from ``w:rFonts/@w:eastAsia`` in the run properties; the
Latin font (``w:ascii``/``w:hAnsi``) is a separate attribute. python-docx's ``font.name`` only
sets the Latin ones, and its template's defaults point at *theme* fonts (``w:eastAsiaTheme``),
which win over a plain font name. So the document defaults are rewritten with explicit names
and every paragraph style here carries both: body text 宋体 / Times New Roman, headings 黑体.
Runs then inherit the fonts from their style; only a run that differs from its style gets
its own ``w:rFonts`` (cheap, and the file stays small: see bench/exports.py).

Sizes follow the Chinese 字号 scale (GB/T 9704-2012 uses the same names for official
documents): 小二 18 pt for a paper's title, 三号 16 pt, 小四 12 pt for section headings,
五号 10.5 pt for body text, 小五 9 pt for headers, footers and dense tables.

Determinism. ``save`` fixes the core properties' dates (to the paper's creation time or a
fixed epoch), drops the template's thumbnail and rewrites the zip with fixed entry times, so
the same input gives the same bytes.
"""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from itembank.i18n import N_, gettext

# --------------------------------------------------------------------------------------
# Fonts and sizes

SONG = "宋体"  # SimSun: body text
HEI = "黑体"  # SimHei: headings
LATIN = "Times New Roman"
# Alternative (English) names written to the font table, so that Word and LibreOffice on a
# machine without the Chinese names can still find or substitute the fonts.
_FONT_TABLE = {SONG: ("SimSun", "02010600030101010101", "86", "variable"),
               HEI: ("SimHei", "02010609060101010101", "86", "modern")}

PT_XIAO_ER = 18.0  # 小二
PT_SAN = 16.0  # 三号
PT_SI = 14.0  # 四号
PT_XIAO_SI = 12.0  # 小四
PT_WU = 10.5  # 五号
PT_XIAO_WU = 9.0  # 小五

# --------------------------------------------------------------------------------------
# Page (A4, portrait unless said): the wide left margin holds the sealing strip.

PAGE_W_CM, PAGE_H_CM = 21.0, 29.7
MARGIN_TOP_CM, MARGIN_BOTTOM_CM = 2.4, 2.2
MARGIN_LEFT_CM, MARGIN_RIGHT_CM = 3.0, 2.2
HEADER_CM, FOOTER_CM = 1.4, 1.2
TEXT_W_CM = PAGE_W_CM - MARGIN_LEFT_CM - MARGIN_RIGHT_CM  # 15.8 cm
LANDSCAPE_TEXT_W_CM = PAGE_H_CM - 2.2 - 2.2

# Width of one full-width (CJK) character of 五号 text, in cm (10.5 pt = 0.3704 cm).
CJK_CHAR_CM = PT_WU * 2.54 / 72.0

# --------------------------------------------------------------------------------------
# Style names (paragraph styles unless noted)

S_NORMAL = "Normal"
S_TITLE = "IB Title"  # 小二 黑体, centred: the paper's title
S_SUBTITLE = "IB Subtitle"  # 三号 黑体, centred
S_CENTRE = "IB Centre"  # the centre's name above the title
S_SECRET = "IB Secret"  # 绝密★启用前
S_INFO = "IB Info"  # the information lines under the title
S_NOTES_HEADING = "IB Notes Heading"  # 注 意 事 项
S_NOTE = "IB Note"  # numbered notes, hanging indent
S_SECTION = "IB Section"  # 小四 黑体: 一、单项选择题（...）
S_HEADING = "IB Heading"  # 四号 黑体: headings of reports
S_STEM = "IB Stem"  # an item's stem, kept with its options
S_OPTIONS = "IB Options {n}"  # options in n columns, with tab stops
S_ANSWER_SPACE = "IB Answer Space"  # blank lines left for a written answer
S_BODY = "IB Body"  # running text of reports, first-line indent of two characters
S_CELL = "IB Cell"  # table text, centred
S_CELL_LEFT = "IB Cell Left"  # table text, left
S_CELL_SMALL = "IB Cell Small"  # dense tables, 小五
S_SIGN = "IB Sign"  # signature lines
S_CAPTION = "IB Caption"
S_HEADER = "Header"
S_FOOTER = "Footer"
OPTION_COLUMNS = (4, 2, 1)


# Child order of the property elements we touch (ECMA-376 Part 1, wml.xsd: CT_PPrBase,
# CT_TblPrBase, CT_TcPrBase). Word rejects a file whose children are out of schema order.
PPR_ORDER = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
             "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
             "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
             "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
             "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
             "sectPr", "pPrChange")
TBLPR_ORDER = ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
               "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook",
               "tblCaption", "tblDescription", "tblPrChange")
TCPR_ORDER = ("cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
              "textDirection", "tcFitText", "vAlign", "hideMark", "headers", "cellIns", "cellDel", "cellMerge",
              "tcPrChange")


def insert_ordered(parent, child, order: Sequence[str]) -> None:  # type: ignore[no-untyped-def]
    """Insert ``child`` into ``parent`` at its schema position (replacing one of the same tag)."""
    local = child.tag.rsplit("}", 1)[-1]
    for old in parent.findall(child.tag):
        parent.remove(old)
    after = order[order.index(local) + 1:]
    for existing in parent:
        if existing.tag.rsplit("}", 1)[-1] in after:
            existing.addprevious(child)
            return
    parent.append(child)


def set_fonts(rpr_owner, *, east_asia: str, latin: str = LATIN) -> None:  # type: ignore[no-untyped-def]
    """Write explicit ``w:rFonts`` (ascii, hAnsi, eastAsia, cs) on a style's or run's rPr,
    dropping any theme-font attributes, which would otherwise win."""
    rpr = rpr_owner.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:cs"), latin)


# The default template defines ~160 styles (every table and list style Word ships); a paper
# uses a handful. The rest only make files bigger and style look-ups slower.
_KEEP_STYLES = {"Normal", "header", "Header Char", "footer", "Footer Char", "Default Paragraph Font",
                "Normal Table", "No List", "Table Grid"}


def _prune_styles(doc: DocxDocument) -> None:
    root = doc.styles.element
    for st in root.findall(qn("w:style")):
        name = st.find(qn("w:name"))
        if name is None or name.get(qn("w:val")) not in _KEEP_STYLES:
            root.remove(st)


def _set_doc_defaults(doc: DocxDocument) -> None:
    styles_el = doc.styles.element
    rpr_default = styles_el.find(qn("w:docDefaults") + "/" + qn("w:rPrDefault") + "/" + qn("w:rPr"))
    rfonts = rpr_default.find(qn("w:rFonts"))
    for attr in list(rfonts.attrib):
        del rfonts.attrib[attr]
    rfonts.set(qn("w:ascii"), LATIN)
    rfonts.set(qn("w:hAnsi"), LATIN)
    rfonts.set(qn("w:eastAsia"), SONG)
    rfonts.set(qn("w:cs"), LATIN)
    for tag, val in (("w:sz", "21"), ("w:szCs", "21")):
        rpr_default.find(qn(tag)).set(qn("w:val"), val)
    lang = rpr_default.find(qn("w:lang"))
    lang.set(qn("w:eastAsia"), "zh-CN")
    ppr_default = styles_el.find(qn("w:docDefaults") + "/" + qn("w:pPrDefault") + "/" + qn("w:pPr"))
    spacing = ppr_default.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")


def _font_table(doc: DocxDocument) -> None:
    """Declare 宋体/黑体 in fontTable.xml with their English names (w:altName), GB2312
    charset and panose, as Word itself writes them."""
    for rel in doc.part.rels.values():
        if rel.reltype == RT.FONT_TABLE:
            part = rel.target_part
            break
    else:  # pragma: no cover - the default template has one
        return
    root = parse_xml(part.blob)
    for name, (alt, panose, charset, family) in _FONT_TABLE.items():
        root.append(parse_xml(
            f'<w:font xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
            f'w:name="{name}"><w:altName w:val="{alt}"/><w:panose1 w:val="{panose}"/>'
            f'<w:charset w:val="{charset}"/><w:family w:val="{family}"/>'
            f'<w:pitch w:val="variable"/></w:font>'
        ))
    from lxml import etree

    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _paragraph_style(
    doc: DocxDocument,
    name: str,
    *,
    size: float = PT_WU,
    east_asia: str = SONG,
    bold: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    before: float = 0.0,
    after: float = 0.0,
    line: float | None = None,
    exact: bool = False,
    keep_next: bool = False,
    first_indent_cm: float | None = None,
    left_indent_cm: float | None = None,
) -> ParagraphStyle:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles[S_NORMAL]
    style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = bold
    set_fonts(style.element, east_asia=east_asia)
    pf = style.paragraph_format
    if align is not None:
        pf.alignment = align
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    if line is not None:
        pf.line_spacing = Pt(line) if exact else line
        if exact:
            pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.keep_with_next = keep_next
    pf.widow_control = True
    if first_indent_cm is not None:
        pf.first_line_indent = Cm(first_indent_cm)
    if left_indent_cm is not None:
        pf.left_indent = Cm(left_indent_cm)
    return style


def _add_styles(doc: DocxDocument, text_w_cm: float) -> None:
    normal = doc.styles[S_NORMAL]
    normal.font.size = Pt(PT_WU)
    set_fonts(normal.element, east_asia=SONG)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    for name in (S_HEADER, S_FOOTER):
        st = doc.styles[name]
        st.font.size = Pt(PT_XIAO_WU)
        set_fonts(st.element, east_asia=SONG)
    C, L = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT
    _paragraph_style(doc, S_CENTRE, size=PT_SAN, east_asia=HEI, align=C, after=4)
    _paragraph_style(doc, S_TITLE, size=PT_XIAO_ER, east_asia=HEI, bold=True, align=C, before=2, after=8)
    _paragraph_style(doc, S_SUBTITLE, size=PT_SAN, east_asia=HEI, align=C, after=6)
    _paragraph_style(doc, S_SECRET, size=PT_XIAO_SI, east_asia=HEI, align=L, after=2)
    _paragraph_style(doc, S_INFO, size=PT_WU, align=C, after=2, line=1.15)
    _paragraph_style(doc, S_NOTES_HEADING, size=PT_XIAO_SI, east_asia=HEI, align=C, before=6, after=3)
    _paragraph_style(doc, S_NOTE, size=PT_WU, line=1.2, left_indent_cm=0.74, first_indent_cm=-0.74)
    _paragraph_style(doc, S_SECTION, size=PT_XIAO_SI, east_asia=HEI, align=L, before=4, after=4,
                     line=1.25, keep_next=True)
    _paragraph_style(doc, S_HEADING, size=PT_SI, east_asia=HEI, align=L, before=10, after=4, keep_next=True)
    # not kept with the next paragraph by style: the paper sets it per paragraph (a stem with
    # its options), so that a section of one-paragraph items never forms one long chain
    _paragraph_style(doc, S_STEM, size=PT_WU, line=1.25, before=3, keep_next=False)
    _paragraph_style(doc, S_ANSWER_SPACE, size=PT_WU, line=1.6)
    _paragraph_style(doc, S_BODY, size=PT_WU, line=1.35, first_indent_cm=2 * CJK_CHAR_CM, after=2)
    _paragraph_style(doc, S_CELL, size=PT_WU, align=C)
    _paragraph_style(doc, S_CELL_LEFT, size=PT_WU, align=L)
    _paragraph_style(doc, S_CELL_SMALL, size=PT_XIAO_WU, align=C)
    _paragraph_style(doc, S_SIGN, size=PT_WU, line=2.0, before=6)
    _paragraph_style(doc, S_CAPTION, size=PT_XIAO_WU, align=C, before=2, after=6)
    indent = 2 * CJK_CHAR_CM
    col_area = text_w_cm - indent
    for n in OPTION_COLUMNS:
        st = _paragraph_style(doc, S_OPTIONS.format(n=n), size=PT_WU, line=1.2, left_indent_cm=indent,
                              keep_next=False)
        for k in range(1, n):
            st.paragraph_format.tab_stops.add_tab_stop(Cm(indent + k * col_area / n), WD_TAB_ALIGNMENT.LEFT)
    # the header's rule under the running title
    header = doc.styles[S_HEADER]
    ppr = header.element.get_or_add_pPr()
    insert_ordered(ppr, parse_xml(
        '<w:pBdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        '<w:bottom w:val="single" w:sz="6" w:space="1" w:color="000000"/></w:pBdr>'
    ), PPR_ORDER)
    # right-aligned tab at the text edge for "title ............ code"
    _set_tabs(ppr, [(text_w_cm, "right")])
    _set_tabs(doc.styles[S_FOOTER].element.get_or_add_pPr(), [(text_w_cm / 2, "center"), (text_w_cm, "right")])


def _set_tabs(ppr, tabs: Sequence[tuple[float, str]]) -> None:  # type: ignore[no-untyped-def]
    xml = "".join(f'<w:tab w:val="{kind}" w:pos="{int(round(pos / 2.54 * 1440))}"/>' for pos, kind in tabs)
    el = parse_xml(f'<w:tabs xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">{xml}</w:tabs>')
    insert_ordered(ppr, el, PPR_ORDER)


# --------------------------------------------------------------------------------------
# Documents


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """Core properties. ``created`` fixes both created and modified dates, so that the same
    input gives the same bytes."""

    title: str
    subject: str = ""
    author: str = ""
    keywords: str = ""
    created: datetime | None = None


FIXED_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def new_document(info: DocumentInfo, *, landscape: bool = False) -> DocxDocument:
    """An empty A4 document with the exam-paper styles and fonts, margins and core properties."""
    doc = Document()
    pkg = doc.part.package
    for rid, rel in list(pkg.rels.items()):
        if rel.reltype == RT.THUMBNAIL:  # the template's picture of some other document
            del pkg.rels[rid]
    _prune_styles(doc)
    _set_doc_defaults(doc)
    _font_table(doc)
    text_w = LANDSCAPE_TEXT_W_CM if landscape else TEXT_W_CM
    _add_styles(doc, text_w)
    _page_setup(doc.sections[0], landscape=landscape)
    cp = doc.core_properties
    when = (info.created or FIXED_EPOCH)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    cp.title = info.title
    cp.subject = info.subject
    cp.author = info.author
    cp.keywords = info.keywords
    cp.comments = "itembank exports"
    cp.last_modified_by = "itembank"
    cp.language = "zh-CN"
    cp.revision = 1
    cp.created = when
    cp.modified = when
    cp.category = ""
    return doc


def _page_setup(section, *, landscape: bool) -> None:  # type: ignore[no-untyped-def]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(PAGE_H_CM), Cm(PAGE_W_CM)
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(PAGE_W_CM), Cm(PAGE_H_CM)
        section.left_margin, section.right_margin = Cm(MARGIN_LEFT_CM), Cm(MARGIN_RIGHT_CM)
        section.top_margin, section.bottom_margin = Cm(MARGIN_TOP_CM), Cm(MARGIN_BOTTOM_CM)
    section.header_distance, section.footer_distance = Cm(HEADER_CM), Cm(FOOTER_CM)
    section.gutter = Cm(0)


def save(doc: DocxDocument) -> bytes:
    """Serialise with fixed zip entry times (1980-01-01) so equal documents are equal bytes."""
    raw = io.BytesIO()
    doc.save(raw)
    raw.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for entry in src.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            dst.writestr(info, src.read(entry.filename))
    return out.getvalue()


# --------------------------------------------------------------------------------------
# Paragraphs and runs


def style_id(name: str) -> str:
    """The styleId Word and python-docx give the styles named here ("IB Title" -> "IBTitle")."""
    return name.replace(" ", "")


def set_style(paragraph: Paragraph, name: str) -> None:
    """Set a paragraph's style by id. python-docx's ``paragraph.style = ...`` looks up the
    default style among all the template's styles on every call (most of a paper's render
    time before this); writing ``w:pStyle`` directly costs nothing."""
    paragraph._p.get_or_add_pPr().style = style_id(name)


def para(container, text: str = "", style: str | None = None) -> Paragraph:  # type: ignore[no-untyped-def]
    """Add a paragraph to a document, cell, header or footer."""
    p = container.add_paragraph()
    if style is not None and style != S_NORMAL:
        set_style(p, style)
    if text:
        p.add_run(text)
    return p


def run(paragraph: Paragraph, text: str, *, bold: bool | None = None, underline: bool | None = None,
        east_asia: str | None = None, size: float | None = None):  # type: ignore[no-untyped-def]
    r = paragraph.add_run(text)
    if bold is not None:
        r.bold = bold
    if underline is not None:
        r.underline = underline
    if size is not None:
        r.font.size = Pt(size)
    if east_asia is not None:
        set_fonts(r._element, east_asia=east_asia)
    return r


def blank_field(paragraph: Paragraph, n_chars: int) -> None:
    """An underlined blank of ``n_chars`` full-width spaces to write on (姓名＿＿＿)."""
    run(paragraph, "\u3000" * n_chars, underline=True)


def add_field(paragraph: Paragraph, instruction: str, placeholder: str = "1") -> None:
    """A complex field (``PAGE``, ``NUMPAGES``) with a cached result Word and LibreOffice
    replace when they lay out the pages."""
    def fld(kind: str) -> None:
        r = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        r._r.append(el)

    fld("begin")
    r = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    r._r.append(instr)
    fld("separate")
    paragraph.add_run(placeholder)
    fld("end")


def page_footer(section, *, left: str = "", right: str = "") -> None:  # type: ignore[no-untyped-def]
    """Footer "第 X 页 共 Y 页" centred, optional text at the left and right edges; the same on
    every page, including a distinct first page."""
    footers = [section.footer]
    if section.different_first_page_header_footer:
        footers.append(section.first_page_footer)
    for footer in footers:
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        if left:
            p.add_run(left)
        p.add_run("\t第 ")
        add_field(p, "PAGE")
        p.add_run(" 页 共 ")
        add_field(p, "NUMPAGES")
        p.add_run(" 页")
        if right:
            p.add_run("\t" + right)


def running_header(section, *, left: str, right: str, first_page_too: bool = True) -> None:  # type: ignore[no-untyped-def]
    headers = [section.header]
    if first_page_too and section.different_first_page_header_footer:
        headers.append(section.first_page_header)
    for header in headers:
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        p.add_run(left)
        if right:
            p.add_run("\t" + right)


# --------------------------------------------------------------------------------------
# Tables


_TBL, _P = qn("w:tbl"), qn("w:p")
_BORDER_XML = (
    '<w:tblBorders xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    + "".join(f'<w:{side} w:val="{{val}}" w:sz="{{sz}}" w:space="0" w:color="000000"/>'
              for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    + "</w:tblBorders>"
)


def table(
    container,  # type: ignore[no-untyped-def]
    rows: int,
    widths_cm: Sequence[float],
    *,
    borders: bool = True,
    align: WD_TABLE_ALIGNMENT = WD_TABLE_ALIGNMENT.CENTER,
    cell_style: str | None = S_CELL,
) -> Table:
    """A fixed-layout table with the given column widths; single black borders (or none).

    Every cell's first paragraph gets ``cell_style``. A table right after another table
    gets an empty paragraph between them: Word and LibreOffice would join the two."""
    parent = container._body._element if hasattr(container, "_body") else container._element
    for child in reversed(parent):
        if child.tag == _TBL:
            para(container, "")
            break
        if child.tag == _P:
            break
    t = container.add_table(rows=min(rows, 1), cols=len(widths_cm))
    t.alignment = align
    t.autofit = False  # w:tblLayout fixed: the column widths below hold
    tbl_pr = t._tbl.tblPr
    val, sz = ("single", 4) if borders else ("nil", 0)
    insert_ordered(tbl_pr, parse_xml(_BORDER_XML.format(val=val, sz=sz)), TBLPR_ORDER)
    # narrow cell margins, as hand-made exam paper tables have
    insert_ordered(tbl_pr, parse_xml(
        '<w:tblCellMar xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        '<w:left w:w="60" w:type="dxa"/><w:right w:w="60" w:type="dxa"/></w:tblCellMar>'
    ), TBLPR_ORDER)
    grid = t._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_cm):
        col.set(qn("w:w"), str(int(round(w / 2.54 * 1440))))
    if rows:
        _format_cells(t.rows[0].cells, widths_cm, cell_style)
        _clone_last_row(t, rows - 1)
    return t


def _clone_last_row(t: Table, n: int) -> None:
    # Copying one formatted, still empty row is several times faster than python-docx's
    # add_row plus per-cell width, alignment and style (most of a key's render time before).
    template = t._tbl.tr_lst[-1]
    for _ in range(n):
        template.addnext(copy.deepcopy(template))


def _format_cells(cells: Sequence[_Cell], widths_cm: Sequence[float], style: str | None) -> None:
    for cell, w in zip(cells, widths_cm):
        cell.width = Cm(w)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        if style is not None:
            set_style(cell.paragraphs[0], style)


def add_row(t: Table, widths_cm: Sequence[float], style: str | None = S_CELL) -> list[_Cell]:
    cells = t.add_row().cells
    _format_cells(cells, widths_cm, style)
    return cells


def add_rows(t: Table, widths_cm: Sequence[float], n: int, style: str | None = S_CELL) -> list[list[_Cell]]:
    """Append ``n`` empty formatted rows; returns their cells."""
    if n <= 0:
        return []
    first = len(t.rows)
    _format_cells(t.add_row().cells, widths_cm, style)
    _clone_last_row(t, n - 1)
    rows = t.rows
    return [rows[i].cells for i in range(first, first + n)]


def cell_text(cell: _Cell, text: str, *, bold: bool | None = None, east_asia: str | None = None,
              style: str | None = None) -> None:
    """Write ``text`` into the cell's first paragraph (further lines split on newlines get
    paragraphs of the same style)."""
    lines = text.split("\n")
    p = cell.paragraphs[0]
    if style is not None:
        set_style(p, style)
    run(p, lines[0], bold=bold, east_asia=east_asia)
    pstyle = p._p.pPr.style if p._p.pPr is not None else None
    for line in lines[1:]:
        q = cell.add_paragraph()
        if pstyle:
            q._p.get_or_add_pPr().style = pstyle
        run(q, line, bold=bold, east_asia=east_asia)


def cell_borders(cell: _Cell, *, val: str = "single", sz: int = 4, sides: Sequence[str] = ("top", "left", "bottom", "right")) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    xml = "".join(f'<w:{s} w:val="{val}" w:sz="{sz}" w:space="0" w:color="000000"/>' for s in sides)
    insert_ordered(tc_pr, parse_xml(
        f'<w:tcBorders xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">{xml}</w:tcBorders>'
    ), TCPR_ORDER)


def row_height(t: Table, index: int, cm: float, *, exact: bool = False) -> None:
    from docx.enum.table import WD_ROW_HEIGHT_RULE

    r = t.rows[index]
    r.height = Cm(cm)
    r.height_rule = WD_ROW_HEIGHT_RULE.EXACTLY if exact else WD_ROW_HEIGHT_RULE.AT_LEAST


def repeat_header(t: Table, n_rows: int = 1) -> None:
    """Repeat the first rows at the top of every page the table runs onto."""
    for r in t.rows[:n_rows]:
        tr_pr = r._tr.get_or_add_trPr()
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        tr_pr.append(el)


def keep_with_next(t: Table, *, last_row: bool = True) -> None:
    """Keep a table on the page of the paragraph after it (a section's 得分/评分人 box with
    its first item): Word and LibreOffice both honour keep-with-next on every row's text.
    With ``last_row=False`` the table only keeps together (a task's table on one page)."""
    rows = list(t.rows) if last_row else list(t.rows)[:-1]
    for r in rows:
        for c in r.cells:
            for p in c.paragraphs:
                p.paragraph_format.keep_with_next = True


def keep_together(t: Table) -> None:
    """Keep a whole table on one page: no row split, every row kept with the next."""
    keep_rows_together(t)
    keep_with_next(t, last_row=False)


def keep_paragraphs_with_next(paragraphs: Sequence[Paragraph]) -> None:
    """Chain paragraphs onto one page (each kept with the next; the last one is not)."""
    for p in paragraphs[:-1]:
        p.paragraph_format.keep_with_next = True
        p.paragraph_format.keep_together = True
    if paragraphs:
        paragraphs[-1].paragraph_format.keep_together = True


def no_wrap(cell: _Cell) -> None:
    """The cell's text is not wrapped (the column is made wide enough for it)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    insert_ordered(tc_pr, OxmlElement("w:noWrap"), TCPR_ORDER)


def keep_rows_together(t: Table) -> None:
    """Don't split a row across pages."""
    for r in t.rows:
        tr_pr = r._tr.get_or_add_trPr()
        el = OxmlElement("w:cantSplit")
        el.set(qn("w:val"), "true")
        tr_pr.append(el)


# --------------------------------------------------------------------------------------
# Sealing strip (密封线 / 标封): a text box in the left margin of the first page, turned
# to read bottom-to-top, with the blanks for name, admission ticket number and unit and the
# line candidates must not write beyond.

SEAL_WARNING = N_("Candidates must not write beyond this line")
SEAL_LINE = N_("SEALING LINE")
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _seal_paragraph_xml(runs: Sequence[tuple[str, bool]], *, size_half_pt: int = 21, east_asia: str = SONG,
                        align: str = "center") -> str:
    parts = []
    for text, underline in runs:
        u = '<w:u w:val="single"/>' if underline else ""
        parts.append(
            f'<w:r><w:rPr><w:rFonts w:ascii="{LATIN}" w:hAnsi="{LATIN}" w:eastAsia="{east_asia}" w:cs="{LATIN}"'
            ' w:hint="eastAsia"/>'
            f'<w:sz w:val="{size_half_pt}"/><w:szCs w:val="{size_half_pt}"/>{u}</w:rPr>'
            f'<w:t xml:space="preserve">{_xml_escape(text)}</w:t></w:r>'
        )
    return (f'<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="360" w:lineRule="auto"/>'
            f'<w:jc w:val="{align}"/></w:pPr>{"".join(parts)}</w:p>')


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def seal_line_text(n: int = 16) -> str:
    """The dotted 密封线 with its characters spaced along it (``4n + 3`` full-width characters
    for 密封线: 67 at 小五, about 21 cm of the 25 cm strip)."""
    dots = "…" * n
    words = gettext(SEAL_LINE)
    chars = list(words) if len(words) <= 4 else [words]
    return dots + dots.join(chars) + dots


def _spaced(text: str) -> str:
    """Chinese characters spaced by full-width spaces (考　生　答　题 …); other text as it is."""
    return "\u3000".join(text) if all(ord(c) > 0x2E80 for c in text) else text


def sealing_strip(header, *, fields: Sequence[tuple[str, int]], shape_id: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Put the sealing strip in ``header`` (use the first-page header).

    ``fields`` are (label, blank width in full-width characters), e.g. (("姓名", 8), ...).
    The strip is a borderless text box anchored to the page, 2.1 cm wide, from 2.4 cm below
    the top to 2.4 cm above the bottom, with its text turned 270 degrees (``vert270``), as the
    left-hand 密封线 of a printed Chinese exam paper reads.
    """
    emu_cm = 360000
    x = int(0.55 * emu_cm)
    y = int(MARGIN_TOP_CM * emu_cm)
    w = int(2.1 * emu_cm)
    h = int((PAGE_H_CM - MARGIN_TOP_CM - MARGIN_BOTTOM_CM) * emu_cm)
    field_runs: list[tuple[str, bool]] = []
    for i, (label, width) in enumerate(fields):
        field_runs.append((("\u3000\u3000" if i else "") + label + "：", False))
        field_runs.append(("\u3000" * width, True))
    paragraphs = (
        _seal_paragraph_xml(field_runs)
        + _seal_paragraph_xml([(seal_line_text(), False)], size_half_pt=18)
        + _seal_paragraph_xml([(_spaced(gettext(SEAL_WARNING)), False)], size_half_pt=18, east_asia=HEI)
    )
    xml = (
        f'<w:r xmlns:w="{_W_NS}"'
        ' xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"'
        ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
        ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<w:drawing>'
        f'<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="{251659264 + shape_id}"'
        ' behindDoc="0" locked="1" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/>'
        f'<wp:positionH relativeFrom="page"><wp:posOffset>{x}</wp:posOffset></wp:positionH>'
        f'<wp:positionV relativeFrom="page"><wp:posOffset>{y}</wp:posOffset></wp:positionV>'
        f'<wp:extent cx="{w}" cy="{h}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
        f'<wp:docPr id="{shape_id}" name="密封线"/><wp:cNvGraphicFramePr/>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp><wps:cNvSpPr txBox="1"/>'
        f'<wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{w}" cy="{h}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln></wps:spPr>'
        f'<wps:txbx><w:txbxContent>{paragraphs}</w:txbxContent></wps:txbx>'
        '<wps:bodyPr rot="0" vert="vert270" wrap="square" lIns="0" tIns="0" rIns="0" bIns="0"'
        ' anchor="ctr" anchorCtr="0"><a:noAutofit/></wps:bodyPr>'
        '</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></w:r>'
    )
    header.is_linked_to_previous = False
    p = header.paragraphs[0]
    set_style(p, S_NORMAL)  # no running-title rule on the page that carries the strip
    p._p.append(parse_xml(xml))
