"""Walking the pages as a person would (issue 14's "Done means"): log in through the login
form, follow every link reachable from the home page, read each answer's words (HTML text,
attributes people see, Word and Excel downloads) and collect the English ones.

Used by test_chinese_throughout.py with Starlette's test client (no browser: the pages are
rendered on the server; reading them is what a person would read)."""

from __future__ import annotations

import io
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html

from tests.words import english_words

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# attributes whose words people read (tooltips, placeholders, screen readers, pictures, buttons)
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-confirm")
# not followed: the server's static files and pictures, logging out, and PDFs (LibreOffice's
# rendering of the same .docx, which is read)
NOT_FOLLOWED = re.compile(r"^/(static|media)/|/logout\b|\.pdf$")
FILE = re.compile(r"\.[a-z]{2,4}$")  # a download: read once, whoever reaches it
MAX_VARIANTS = 3  # the same page with other query strings (filters, paging): a few suffice


def html_words(text: str) -> list[str]:
    """What a person reads on a page: its title, every text of the body (not scripts or
    styles, nor what the page marks ``translate="no"``: the stored record, data that is never
    translated), the attributes above and the words on buttons."""
    doc = lxml_html.fromstring(text)
    for bad in doc.xpath("//script|//style|//template|//noscript|//*[@translate='no']"):
        bad.drop_tree()
    parts = [str(t) for t in doc.xpath("//title//text()|//body//text()")]
    for attr in SHOWN_ATTRIBUTES:
        parts += [str(a) for a in doc.xpath(f"//@{attr}")]
    parts += [str(v) for v in doc.xpath("//input[@type='submit' or @type='button']/@value")]
    return parts


def docx_words(data: bytes) -> list[str]:
    """Every paragraph of a Word document with python-docx: body, tables (nested too),
    headers and footers, and the title and subject of its properties."""
    from docx import Document

    doc = Document(io.BytesIO(data))
    parts = [doc.core_properties.title or "", doc.core_properties.subject or ""]

    def blocks(container) -> Iterator[str]:  # type: ignore[no-untyped-def]
        for p in container.paragraphs:
            yield p.text
        for table in container.tables:
            for row in table.rows:
                for cell in row.cells:
                    yield from blocks(cell)

    parts += list(blocks(doc))
    for section in doc.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            parts += list(blocks(part))
    return parts


def xlsx_words(data: bytes) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    parts = []
    for sheet in book.worksheets:
        parts.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            parts += [v for v in row if isinstance(v, str) and not _stored_record(v)]
    return parts


def _stored_record(cell: str) -> bool:
    """A cell holding a stored record as JSON (the ledger export's details): data, as stored."""
    import json

    if not cell.startswith(("{", "[")):
        return False
    try:
        json.loads(cell)
    except ValueError:
        return False
    return True


@dataclass
class Visit:
    path: str
    status: int
    kind: str  # html | docx | xlsx | other
    english: list[str]


@dataclass
class Crawl:
    """The pages one person reached, with the English words found on each."""

    user: str
    visits: list[Visit] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [f"{self.user} {v.path} ({v.status}): {sorted(set(v.english))}" for v in self.visits if v.english]

    @property
    def paths(self) -> set[str]:
        return {v.path for v in self.visits}


def _links(base: str, text: str) -> Iterable[str]:
    doc = lxml_html.fromstring(text)
    for href in doc.xpath("//a/@href"):
        yield urljoin(base, href)


def words_of(response, allow: Iterable[str] = ()) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """(kind, English words) of an answer."""
    kind = response.headers.get("content-type", "").split(";")[0]
    if kind == "text/html":
        return "html", english_words("\n".join(html_words(response.text)), allow)
    if kind in ("text/plain", "text/csv"):
        return "text", english_words(response.content.decode("utf-8-sig"), allow)
    if kind == DOCX:
        return "docx", english_words("\n".join(docx_words(response.content)), allow)
    if kind == XLSX:
        return "xlsx", english_words("\n".join(xlsx_words(response.content)), allow)
    return "other", []


def crawl(client, user: str, allow: Iterable[str], *, start: str = "/",  # type: ignore[no-untyped-def]
          downloads: set[str] | None = None) -> Crawl:
    """Every page reachable from ``start`` by following links (GET), breadth first; each
    page (path with its query) once, at most ``MAX_VARIANTS`` query strings per path; a
    download (a path ending in a file extension) once across the crawls sharing ``downloads``."""
    downloads = set() if downloads is None else downloads
    allow = set(allow)
    out = Crawl(user)
    queue: deque[str] = deque([start])
    seen: set[str] = {start}
    variants: dict[str, int] = {}
    while queue:
        url = queue.popleft()
        r = client.get(url, follow_redirects=True)
        kind, english = words_of(r, allow)
        out.visits.append(Visit(url, r.status_code, kind, english))
        if kind != "html":
            continue
        for link in _links(str(r.url), r.text):
            parts = urlsplit(link)
            if parts.netloc and parts.netloc != urlsplit(str(r.url)).netloc:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if not parts.path.startswith("/") or NOT_FOLLOWED.search(parts.path) or target in seen:
                continue
            if FILE.search(parts.path):
                if parts.path in downloads:
                    continue
                downloads.add(parts.path)
            if parts.query:
                variants[parts.path] = variants.get(parts.path, 0) + 1
                if variants[parts.path] > MAX_VARIANTS:
                    continue
            seen.add(target)
            queue.append(target)
    return out
