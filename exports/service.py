"""Service functions the API and the CLI call: which documents a paper has, rendering them
into named files with their hashes, and the manifest the sealing step records.

Domain objects in, ``ExportedDocument``s out; nothing here opens a database session or
writes a file.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from itembank.domain import ElementTable, Occupation, Paper, Part
from itembank.i18n import N_, Message, gettext
from itembank.readiness import BankReadiness

from exports.answer_sheet import render_answer_sheet
from exports import layout as L
from exports.assembly_report import AssemblyReportData, build_assembly_report
from exports.curves import plot_curves
from exports.element_table import render_element_table
from exports.errors import UnknownDocumentError
from exports.key import KeyOptions, render_answer_key
from exports.manifest import MANIFEST_VERSION, text_manifest
from exports.paper import PaperOptions, render_theory_paper
from exports.pdf import docx_to_pdf
from exports.practical import MIN_EXAMINERS, render_defence_topics, render_scoring_sheet, render_task_sheet
from exports.readiness import render_readiness_report

log = logging.getLogger(__name__)

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_MEDIA_TYPE = "application/pdf"
PNG_MEDIA_TYPE = "image/png"
SVG_MEDIA_TYPE = "image/svg+xml"


class DocumentKind(str, enum.Enum):
    PAPER = "paper"  # 试卷 (theory)
    ANSWER_KEY = "answer_key"  # 标准答案及评分标准
    ANSWER_SHEET = "answer_sheet"  # 答题卡
    TASK_SHEET = "task_sheet"  # 实际操作试题
    SCORING_SHEET = "scoring_sheet"  # 评分表
    DEFENCE_TOPICS = "defence_topics"  # 论文答辩/技术评审题目
    ELEMENT_TABLE = "element_table"  # 认定要素细目表
    READINESS = "readiness"  # 题库达标情况报告
    ASSEMBLY_REPORT = "assembly_report"  # 组卷报告
    CURVES_PNG = "curves_png"
    CURVES_SVG = "curves_svg"

    @property
    def zh(self) -> str:
        """The document's name in the reader's locale (试卷, 评分表 …)."""
        return gettext(_KIND_ZH[self])

    @property
    def for_candidates(self) -> bool:
        """Printed for candidates: must never hold a key or a rubric."""
        return self in (DocumentKind.PAPER, DocumentKind.ANSWER_SHEET, DocumentKind.TASK_SHEET,
                        DocumentKind.DEFENCE_TOPICS)


_KIND_ZH = {
    DocumentKind.PAPER: N_("paper"), DocumentKind.ANSWER_KEY: N_("Answer key and scoring standard"),
    DocumentKind.ANSWER_SHEET: N_("Answer sheet"), DocumentKind.TASK_SHEET: N_("practical tasks"),
    DocumentKind.SCORING_SHEET: N_("scoring sheet"), DocumentKind.DEFENCE_TOPICS: N_("defence / technical review topics"),
    DocumentKind.ELEMENT_TABLE: N_("element specification table"), DocumentKind.READINESS: N_("bank readiness report"),
    DocumentKind.ASSEMBLY_REPORT: N_("Assembly report"), DocumentKind.CURVES_PNG: N_("information and characteristic curves (PNG)"),
    DocumentKind.CURVES_SVG: N_("information and characteristic curves (SVG)"),
}

_SUFFIX = {
    DocumentKind.PAPER: "paper", DocumentKind.ANSWER_KEY: "key", DocumentKind.ANSWER_SHEET: "answer-sheet",
    DocumentKind.TASK_SHEET: "tasks", DocumentKind.SCORING_SHEET: "scoring", DocumentKind.DEFENCE_TOPICS: "topics",
    DocumentKind.ELEMENT_TABLE: "element-table", DocumentKind.READINESS: "readiness",
    DocumentKind.ASSEMBLY_REPORT: "assembly-report", DocumentKind.CURVES_PNG: "curves",
    DocumentKind.CURVES_SVG: "curves",
}


@dataclass(frozen=True, slots=True)
class ExportedDocument:
    """One rendered file.

    ``text_sha256`` is ``text_manifest`` of a .docx (None for images); ``sha256`` is over
    the bytes, which our exports keep identical for identical input.
    """

    kind: DocumentKind
    filename: str
    content: bytes
    media_type: str
    text_sha256: str | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def safe_filename(text: str) -> str:
    """ASCII letters, digits, '.', '_' and '-' only (paper codes are ASCII; anything else
    becomes '_'), so file names survive zips, mail and HTTP headers."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return cleaned or "document"


def _docx(kind: DocumentKind, stem: str, content: bytes) -> ExportedDocument:
    return ExportedDocument(kind, f"{safe_filename(stem)}_{_SUFFIX[kind]}.docx", content, DOCX_MEDIA_TYPE,
                            text_manifest(content))


def paper_document_kinds(paper: Paper, *, answer_sheet: bool = False) -> tuple[DocumentKind, ...]:
    """The documents a paper has: theory -> paper, key (and answer sheet on paper exams);
    practical -> task sheet and scoring sheet; defence -> topic list and scoring sheet."""
    if paper.part is Part.THEORY:
        kinds = [DocumentKind.PAPER, DocumentKind.ANSWER_KEY]
        if answer_sheet and any(it.item_type.is_objective for it in paper.items):
            kinds.append(DocumentKind.ANSWER_SHEET)
        return tuple(kinds)
    if paper.part is Part.PRACTICAL:
        return (DocumentKind.TASK_SHEET, DocumentKind.SCORING_SHEET)
    return (DocumentKind.DEFENCE_TOPICS, DocumentKind.SCORING_SHEET)


def export_paper(
    paper: Paper,
    *,
    kinds: Sequence[DocumentKind | str] | None = None,
    answer_sheet: bool = False,
    n_examiners: int = MIN_EXAMINERS,
    paper_options: PaperOptions | None = None,
    key_options: KeyOptions = KeyOptions(),
) -> tuple[ExportedDocument, ...]:
    """Render a paper's documents (default: all that its part has, see
    ``paper_document_kinds``), in a fixed order.

    Raises
    ------
    UnknownDocumentError
        A kind was asked for that this paper's part does not have.
    PaperLayoutError, ExportError
        From the renderers.
    """
    available = paper_document_kinds(paper, answer_sheet=True)
    wanted = paper_document_kinds(paper, answer_sheet=answer_sheet) if kinds is None else tuple(
        DocumentKind(k) for k in kinds)
    for k in wanted:
        if k not in available:
            raise UnknownDocumentError(Message(
                "paper {code} is a {part} paper: it has no {kind} ({value}); choose from {available}",
                code=paper.code, part=paper.part, kind=k.zh, value=k.value, available=[a.value for a in available]),
                field="kinds")
    options = paper_options or PaperOptions(answer_sheet=answer_sheet)
    renderers: dict[DocumentKind, Callable[[], bytes]] = {
        DocumentKind.PAPER: lambda: render_theory_paper(paper, options=options),
        DocumentKind.ANSWER_KEY: lambda: render_answer_key(paper, options=key_options),
        DocumentKind.ANSWER_SHEET: lambda: render_answer_sheet(paper),
        DocumentKind.TASK_SHEET: lambda: render_task_sheet(paper),
        DocumentKind.SCORING_SHEET: lambda: render_scoring_sheet(paper, n_examiners=n_examiners),
        DocumentKind.DEFENCE_TOPICS: lambda: render_defence_topics(paper),
    }
    out = tuple(_docx(k, paper.code, renderers[k]()) for k in available if k in wanted)
    log.info("exported paper %s: %s", paper.code, ", ".join(d.filename for d in out))
    return out


def pdf_of(document: ExportedDocument) -> ExportedDocument:
    """The printable PDF of a Word document (LibreOffice; see ``exports.pdf``), same name with
    .pdf. ``text_sha256`` stays the Word text's: the PDF prints the same words."""
    if document.media_type != DOCX_MEDIA_TYPE:
        raise UnknownDocumentError(Message("{file} is not a Word document; only Word documents have a PDF",
                                           file=document.filename), field="kinds")
    return ExportedDocument(document.kind, document.filename.removesuffix(".docx") + ".pdf",
                            docx_to_pdf(document.content), PDF_MEDIA_TYPE, document.text_sha256)


def with_pdfs(documents: Sequence[ExportedDocument]) -> tuple[ExportedDocument, ...]:
    """Each Word document followed by its PDF (other files as they are)."""
    out: list[ExportedDocument] = []
    for d in documents:
        out.append(d)
        if d.media_type == DOCX_MEDIA_TYPE:
            out.append(pdf_of(d))
    return tuple(out)


def export_element_table(table: ElementTable, *, occupation: Occupation | None = None,
                         centre_name: str = "职业技能等级认定中心") -> ExportedDocument:
    stem = f"{table.occupation_code}_L{int(table.level)}_{table.part.value}_v{table.version}"
    return _docx(DocumentKind.ELEMENT_TABLE, stem,
                 render_element_table(table, occupation=occupation, centre_name=centre_name))


def export_readiness(reports: Sequence[BankReadiness], *, as_of: date | None = None,
                     centre_name: str = "职业技能等级认定中心") -> ExportedDocument:
    if len(reports) == 1:
        b = reports[0].bank
        stem = f"{b.occupation.code}_L{int(b.level)}"
    else:
        stem = "banks" + (f"_{as_of.isoformat()}" if as_of else "")
    return _docx(DocumentKind.READINESS, stem, render_readiness_report(reports, as_of=as_of, centre_name=centre_name))


def export_assembly_report(data: AssemblyReportData, *, stem: str | None = None) -> tuple[ExportedDocument, ...]:
    """The assembly report (.docx with the chart embedded) and the chart on its own as PNG
    and SVG."""
    stem = stem or data.run_label or "assembly"
    png = plot_curves(data, fmt="png")
    svg = plot_curves(data, fmt="svg")
    report = L.save(build_assembly_report(data, chart_png=png))
    return (
        _docx(DocumentKind.ASSEMBLY_REPORT, stem, report),
        ExportedDocument(DocumentKind.CURVES_PNG, f"{safe_filename(stem)}_curves.png", png, PNG_MEDIA_TYPE, None),
        ExportedDocument(DocumentKind.CURVES_SVG, f"{safe_filename(stem)}_curves.svg", svg, SVG_MEDIA_TYPE, None),
    )


def sealing_manifest(documents: Sequence[ExportedDocument]) -> dict[str, object]:
    """What the sealing step records: per file its kind, byte hash and text hash, in the
    order given. JSON-serialisable."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "documents": [
            {"filename": d.filename, "kind": d.kind.value, "media_type": d.media_type, "bytes": len(d.content),
             "sha256": d.sha256, "text_sha256": d.text_sha256}
            for d in documents
        ],
    }
