"""English left in text the centre's staff read (issue 14): the words a Chinese reader would
meet in English, outside a short allowlist.

What is not a word here: codes and identifiers (anything with a digit, ``_ . / : - @ = %``:
item codes DG5-T-0001, occupation codes, file names, paths, URLs, option flags, action codes
such as item.state), single letters (option letters A–D, importance X/Y/Z, θ's variables) and
answer keys made of option letters (AB, ACE).
What is allowed by name (``ALLOWED``): the acronyms of standards and methods the regulation
and the profession use as they are, file formats and units. A test may add the literals its
own text is made of (command names, choice values, people's user names), never prose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ALLOWED = frozenset({
    # measurement and exchange standards, as the profession writes them
    "IRT", "CTT", "QTI", "PDF", "Rasch", "CML", "MML", "EM", "DIF", "SE", "PCM", "GPCM", "GRM",
    # file formats and the office programs the documents open in
    "CSV", "XML", "JSON", "SVG", "PNG", "JPEG", "ZIP", "UTF", "Excel", "Word",
    # the databases an operator chooses between, the solvers an assembly chooses between
    "SQLite", "PostgreSQL", "CBC", "HiGHS",
    # units
    "MB", "KB", "GB", "MiB", "KiB", "px",
})

_IDENTIFIER = re.compile(r"[0-9_./:\-@=%\\#&?+]")
_SPLIT = re.compile(r"[\s\u3000-\u303f\uff00-\uffef\u3400-\u9fff\u2010-\u206f,;!?()\[\]{}<>\"'“”‘’|]+")
_WORD = re.compile(r"[A-Za-z]{2,}")
_KEY = re.compile(r"[A-H]{2,8}")  # an answer key of a multiple choice item: option letters


def english_words(text: str, allow: Iterable[str] = ()) -> list[str]:
    """The English words of ``text`` (in order, repeated as found) outside ``ALLOWED`` and ``allow``."""
    allowed = ALLOWED | set(allow)
    found = []
    for token in _SPLIT.split(text):
        token = token.rstrip(".:")
        if not token or _IDENTIFIER.search(token):
            continue
        found.extend(w for w in _WORD.findall(token) if w not in allowed and not _KEY.fullmatch(w))
    return found
