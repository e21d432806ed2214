"""File downloads: bytes with a media type and a file name (Chinese names survive through the
RFC 6266 ``filename*`` form; an ASCII fallback keeps old clients working)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Response

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
ZIP = "application/zip"
PNG = "image/png"
SVG = "image/svg+xml"


def download(content: bytes, filename: str, media_type: str) -> Response:
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return Response(content=content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"})


def file_response(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI description of a 200 that is a file."""
    return {200: {"description": "The file.", "content": {
        m: {"schema": {"type": "string", "format": "binary"}} for m in media_types}}}
