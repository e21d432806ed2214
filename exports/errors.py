"""Errors of the exports package. Messages name the paper, item or field concerned."""

from __future__ import annotations

from analysis.messages import Text, render


class ExportError(Exception):
    """Base class. ``field`` names the offending input where there is one."""

    code = "export_error"

    def __init__(self, message: Text, *, field: str | None = None) -> None:
        super().__init__(message)
        self.text = message
        self.field = field

    @property
    def message(self) -> str:
        """The message in the current locale."""
        return render(self.text)

    def __str__(self) -> str:
        return self.message


class PaperLayoutError(ExportError):
    """The paper cannot be laid out as given (no items, an item of the wrong part, the same
    item twice, item types not grouped into sections ...)."""

    code = "paper_layout_invalid"


class ReportDataError(ExportError):
    """Report input is inconsistent (curve lengths differ from the theta grid, no papers ...)."""

    code = "report_data_invalid"


class UnknownDocumentError(ExportError):
    """A document kind was asked for that does not exist for this paper's part."""

    code = "unknown_document"


class PdfConversionError(ExportError):
    """LibreOffice is missing, failed or timed out converting a document to PDF."""

    code = "pdf_conversion_failed"
