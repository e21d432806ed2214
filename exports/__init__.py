"""Word (.docx) exports: papers, keys, answer sheets, practical task and scoring sheets,
element tables, readiness and assembly reports. Domain objects in, bytes out; no database.

Public API (see each module for details):

- ``render_theory_paper``, ``render_answer_key``, ``render_answer_sheet`` (theory papers)
- ``render_task_sheet``, ``render_scoring_sheet``, ``render_defence_topics`` (practical / defence)
- ``render_element_table``, ``render_readiness_report``
- ``AssemblyReportData`` (+ ``PaperAssembly``, ``ConstraintRow``, ``SolverReport``),
  ``render_assembly_report``, ``plot_curves``
- ``text_manifest``, ``document_text`` (for the sealing step)
- services: ``export_paper``, ``export_element_table``, ``export_readiness``,
  ``export_assembly_report``, ``sealing_manifest``, ``paper_document_kinds``
- ``docx_to_pdf``, ``pdf_of``, ``with_pdfs``: the printable PDF beside each Word document
  (LibreOffice; Simplified Chinese serif and sans faces embedded)
"""

from exports.answer_sheet import render_answer_sheet
from exports.assembly_report import (
    AssemblyReportData,
    ConstraintRow,
    PaperAssembly,
    SolverReport,
    render_assembly_report,
)
from exports.curves import plot_curves
from exports.element_table import render_element_table
from exports.errors import (
    ExportError,
    PaperLayoutError,
    PdfConversionError,
    ReportDataError,
    UnknownDocumentError,
)
from exports.key import KeyOptions, render_answer_key
from exports.manifest import document_text, text_manifest
from exports.paper import PaperOptions, render_theory_paper
from exports.pdf import docx_to_pdf
from exports.practical import render_defence_topics, render_scoring_sheet, render_task_sheet
from exports.readiness import render_readiness_report
from exports.service import (
    DocumentKind,
    ExportedDocument,
    export_assembly_report,
    export_element_table,
    export_paper,
    export_readiness,
    paper_document_kinds,
    pdf_of,
    sealing_manifest,
    with_pdfs,
)

# Stored text XML cannot hold never makes an export fail (exports/safe_text.py).
from exports.safe_text import safe_text as _safe_text  # noqa: E402

render_answer_sheet = _safe_text(render_answer_sheet)
render_assembly_report = _safe_text(render_assembly_report)
plot_curves = _safe_text(plot_curves)
render_element_table = _safe_text(render_element_table)
render_answer_key = _safe_text(render_answer_key)
render_theory_paper = _safe_text(render_theory_paper)
render_defence_topics = _safe_text(render_defence_topics)
render_scoring_sheet = _safe_text(render_scoring_sheet)
render_task_sheet = _safe_text(render_task_sheet)
render_readiness_report = _safe_text(render_readiness_report)
export_assembly_report = _safe_text(export_assembly_report)
export_element_table = _safe_text(export_element_table)
export_paper = _safe_text(export_paper)
export_readiness = _safe_text(export_readiness)

__all__ = [
    "AssemblyReportData", "ConstraintRow", "DocumentKind", "ExportError", "ExportedDocument", "KeyOptions",
    "PaperAssembly", "PaperLayoutError", "PaperOptions", "PdfConversionError", "ReportDataError",
    "SolverReport", "UnknownDocumentError", "docx_to_pdf", "document_text", "export_assembly_report",
    "export_element_table", "export_paper", "export_readiness", "paper_document_kinds", "plot_curves",
    "render_answer_key", "render_answer_sheet", "render_assembly_report", "render_defence_topics",
    "render_element_table", "render_readiness_report", "render_scoring_sheet", "render_task_sheet",
    "render_theory_paper", "sealing_manifest", "text_manifest", "pdf_of", "with_pdfs",
]
