"""Text manifests of .docx files for the sealing step.

A .docx is a zip of XML parts; its bytes change with anything from a zip timestamp to the
order of attributes, while the sealing step wants to know whether the *words* the candidate
or the examiner will read are the ones that were approved. ``text_manifest`` hashes the text
in document order: every paragraph of the body (tables and text boxes included, each
paragraph once), then the headers and footers in the order the sections reference them.
Each paragraph's text is normalised (Unicode NFC, tabs and runs of white space become one
space, trimmed); empty paragraphs are dropped. Our own exports also give identical bytes for
identical input (see ``exports.layout.save``); the text manifest is what stays comparable
when a file has been opened and saved again elsewhere.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import unicodedata
import zipfile

from lxml import etree

from exports.errors import ExportError

MANIFEST_VERSION = "itembank-docx-text/1"

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_P, _T, _TAB, _BR = f"{{{_W}}}p", f"{{{_W}}}t", f"{{{_W}}}tab", f"{{{_W}}}br"
_SPACE = re.compile(r"\s+")
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _paragraph_texts(root: etree._Element) -> list[str]:
    out: list[str] = []
    for p in root.iter(_P):
        pieces: list[str] = []
        for el in p.iter(_T, _TAB, _BR):
            # text belongs to its nearest paragraph: skip what a nested text box holds
            owner = next(el.iterancestors(_P), None)
            if owner is not p:
                continue
            if el.tag == _T:
                pieces.append(el.text or "")
            else:
                pieces.append(" ")
        text = _SPACE.sub(" ", unicodedata.normalize("NFC", "".join(pieces))).strip()
        if text:
            out.append(text)
    return out


def document_text(docx_bytes: bytes) -> list[str]:
    """The normalised paragraphs of a .docx in document order (body, then headers/footers).

    Raises
    ------
    ExportError
        The bytes are not a Word document.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
            body = etree.fromstring(z.read("word/document.xml"), _SAFE_PARSER)
            try:
                rels = etree.fromstring(z.read("word/_rels/document.xml.rels"), _SAFE_PARSER)
            except KeyError:
                rels = None
            targets = {}
            if rels is not None:
                for rel in rels.iter(f"{{{_REL}}}Relationship"):
                    targets[rel.get("Id")] = posixpath.normpath(posixpath.join("word", rel.get("Target", "")))
            texts = _paragraph_texts(body)
            seen: set[str] = set()
            for ref in body.iter(f"{{{_W}}}headerReference", f"{{{_W}}}footerReference"):
                target = targets.get(ref.get(f"{{{_R}}}id", ""))
                if target is None or target in seen:
                    continue
                seen.add(target)
                texts.extend(_paragraph_texts(etree.fromstring(z.read(target), _SAFE_PARSER)))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as e:
        raise ExportError(f"not a Word (.docx) document: {e}", field="document") from e
    return texts


def text_manifest(docx_bytes: bytes) -> str:
    """SHA-256 (hex) of a .docx's normalised text in document order.

    The hash covers ``MANIFEST_VERSION`` and the paragraphs of ``document_text`` joined by
    newlines, UTF-8 encoded. Two documents with the same words in the same order have the
    same manifest whatever their zip timestamps, core properties or XML formatting.
    """
    h = hashlib.sha256()
    h.update(MANIFEST_VERSION.encode("utf-8") + b"\n")
    h.update("\n".join(document_text(docx_bytes)).encode("utf-8"))
    return h.hexdigest()
