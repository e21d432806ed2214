"""Text that documents can hold.

Word documents, QTI packages and every other XML the service writes can hold only the
characters of XML 1.0 (§2.2 Char): no control characters but tab, line feed and carriage
return, no U+FFFE / U+FFFF, no lone surrogates; PostgreSQL cannot store NUL either. Such
characters are refused wherever text enters (the API's bodies and parameters, the pages'
forms, item content from any source, imported files: ``text_problem``), and anything already
stored is printed with U+FFFD in their place (``xml_safe``), so that no export fails on it.
"""

from __future__ import annotations

import re

from itembank.i18n import Message

UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def text_problem(value: str) -> Message | None:
    """Why ``value`` cannot be stored and printed, naming the first offending character and
    where it is; None when it can."""
    m = UNSAFE.search(value)
    if m is None:
        return None
    ch = m.group(0)
    if ch == "\x00":
        return Message("contains a NUL character (U+0000) at character {position}; remove it", position=m.start() + 1)
    if "\ud800" <= ch <= "\udfff":
        return Message("contains a character that is not valid Unicode (a lone surrogate, U+{code}) at character "
                       "{position}; remove it", code=format(ord(ch), "04X"), position=m.start() + 1)
    return Message("contains the control character U+{code} at character {position}, which documents cannot hold "
                   "(copied from another program?); remove it", code=format(ord(ch), "04X"), position=m.start() + 1)


def xml_safe(value: str) -> str:
    """``value`` with every character XML cannot hold replaced by U+FFFD."""
    return UNSAFE.sub(REPLACEMENT, value) if UNSAFE.search(value) else value


__all__ = ["REPLACEMENT", "UNSAFE", "text_problem", "xml_safe"]
