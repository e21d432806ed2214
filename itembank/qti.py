"""IMS QTI 3.0 export and import (1EdTech Question and Test Interoperability 3.0), so that
items move to and from other platforms.

Mapping (one ``qti-assessment-item`` per item, in a content package with ``imsmanifest.xml``):

==================  ===================================================================
single choice       ``qti-choice-interaction`` max-choices 1, response cardinality single
multiple choice     ``qti-choice-interaction``, cardinality multiple
true/false          ``qti-choice-interaction`` with choices T 正确 / F 错误
fill-in             ``qti-text-entry-interaction`` at each blank (``____``) of the stem, one
                    response declaration per blank
short answer, calculation, essay, practical task, defence topic
                    ``qti-extended-text-interaction``, scored by people (SCORE external-scored
                    "human"); the reference answer, if any, is the correct response
==================  ===================================================================

Points are the ``MAXSCORE`` outcome; objective items set SCORE to MAXSCORE on a match.
Scoring points (评分要点) are a ``qti-rubric-block`` (view scorer, use scoring) holding an
``ol`` whose ``li`` carry ``data-points`` / ``data-criteria``; the analysis (解析/评分标准)
is a second scorer rubric block (use ``ext:itembank-analysis``). The manifest carries, per
item, IEEE LOM metadata that other platforms read (identifier = item code, difficulty, typical
time, one taxon per element code) and an ``ib:item`` extension with the rest (version, type,
rating 1-5, time limit, equipment, set code, occupation, level), so a round trip keeps
content, key, points and metadata. Text is kept exactly, carriage returns included; XML 1.0
cannot hold control characters, so an item containing one is refused on export.

Pictures (issue 17): where an item's text shows a picture (``![caption](media:<sha256>)``,
``itembank.media``), the item body holds ``<img src="images/<sha256>.png" alt="caption"
width height/>`` and the package the file ``items/images/<sha256>.png`` (or ``.jpg``), listed
as a ``file`` of each item resource that uses it. On import every ``img`` of the body, the
choices and the rubric blocks is resolved against the package (a path relative to the item
file, or a ``data:`` URI), checked and re-encoded like an upload, and becomes that markup
again; a picture missing from the package, outside it, or refused is a problem of the item.
"""

from __future__ import annotations

import contextvars
import hashlib
import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from sqlalchemy.orm import Session

from itembank import ledger, media
from itembank.archive import QTI_LIMITS, ArchiveLimitError, SafeZip
from itembank.domain import (
    Actor,
    BankRef,
    Item,
    ItemContent,
    ItemType,
    Option,
    Part,
    Role,
    RubricPoint,
    VersionState,
)
from itembank.errors import ImportFileError, PermissionDeniedError, ValidationError
from itembank.i18n import Message, field_label
from itembank.imports import ImportMode, ImportProblem, ImportReport, ParsedItem, _check_items, apply_items
from itembank.pool import load_pool

__all__ = [
    "QTI_NS",
    "export_package",
    "export_qti",
    "import_qti",
    "item_to_qti",
    "read_package",
]

QTI_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
QTI_XSD = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd"
CP_NS = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
CP_XSD = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd"
LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
IB_NS = "urn:itembank:qti-metadata:1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
ITEM_RESOURCE = "imsqti_item_xmlv3p0"
TOOL = "itembank"
BLANK_RE = re.compile(r"_{2,}")
LOM_DIFFICULTY = ("very easy", "easy", "medium", "difficult", "very difficult")  # = rating 1..5
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A private-use character absent from the item stands for "\r" until serialisation, where it
# becomes "&#13;" (XML parsers turn a raw \r into \n; ElementTree does not escape it in text).
_CR: contextvars.ContextVar[str] = contextvars.ContextVar("qti_cr_marker", default="\ue000")
ANALYSIS_USE = "ext:itembank-analysis"
IMAGES_DIR = "images"  # beside the item files: items/images/<sha256>.png
# while one item is written: sha256 -> (src relative to the item file, width, height)
_PICTURES: contextvars.ContextVar[Mapping[str, tuple[str, int, int]]] = contextvars.ContextVar(
    "qti_pictures", default={})

for _prefix, _uri in (("", QTI_NS), ("imscp", CP_NS), ("imsmd", LOM_NS), ("ib", IB_NS), ("xsi", XSI_NS)):
    ET.register_namespace(_prefix, _uri)


def _q(tag: str, ns: str = QTI_NS) -> str:
    return f"{{{ns}}}{tag}"


def _identifier(code: str) -> str:
    """QTI identifiers are NCNames; item codes may start with a digit."""
    return code if re.match(r"^[A-Za-z_][A-Za-z0-9_.\-]*$", code) else f"ITEM-{code}"


# --------------------------------------------------------------------------------------
# Export


def _check_text(code: str, name: str, text: str) -> None:
    m = _BAD_XML_CHARS.search(text or "")
    if m:
        raise ValidationError(Message(
            "Item {code}: {field} holds the control character U+{char}, which XML cannot carry; remove it before "
            "exporting.", code=code, field=field_label(name), char=format(ord(m.group()), "04X")), field=name)


def _t(text: str) -> str:
    return text.replace("\r", _CR.get())


def _marker(texts: Sequence[str]) -> str:
    used = set("".join(texts))
    return next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in used)


def _append_mixed(el: ET.Element, text: str) -> None:
    """Append ``text`` at the end of ``el``'s content: its words as text, each picture it shows
    as an ``img`` (the file's path relative to the item file)."""
    for part in media.split_pictures(text):
        if isinstance(part, media.PictureRef):
            src, width, height = _PICTURES.get()[part.sha256]
            ET.SubElement(el, _q("img"), {"src": src, "alt": part.caption, "width": str(width),
                                          "height": str(height)})
        elif len(el):
            el[-1].tail = (el[-1].tail or "") + _t(part)
        else:
            el.text = (el.text or "") + _t(part)


def _paragraphs(parent: ET.Element, text: str, **attrs: str) -> None:
    for line in text.split("\n"):
        p = ET.SubElement(parent, _q("p"), attrs)
        _append_mixed(p, line)


def _value(parent: ET.Element, text: str, tag: str = "qti-value") -> None:
    ET.SubElement(parent, _q(tag)).text = _t(text)


def _outcomes(root: ET.Element, points: float, human: bool) -> None:
    attrs = {"identifier": "SCORE", "cardinality": "single", "base-type": "float"}
    if human:
        attrs["external-scored"] = "human"
    score = ET.SubElement(root, _q("qti-outcome-declaration"), attrs)
    _value(ET.SubElement(score, _q("qti-default-value")), "0")
    mx = ET.SubElement(root, _q("qti-outcome-declaration"),
                       {"identifier": "MAXSCORE", "cardinality": "single", "base-type": "float"})
    _value(ET.SubElement(mx, _q("qti-default-value")), repr(float(points)))


def _response(root: ET.Element, ident: str, cardinality: str, base_type: str, values: Sequence[str]) -> None:
    decl = ET.SubElement(root, _q("qti-response-declaration"),
                         {"identifier": ident, "cardinality": cardinality, "base-type": base_type})
    if values:
        correct = ET.SubElement(decl, _q("qti-correct-response"))
        for v in values:
            _value(correct, v)


def _match_processing(root: ET.Element, idents: Sequence[str]) -> None:
    rp = ET.SubElement(root, _q("qti-response-processing"))
    cond = ET.SubElement(ET.SubElement(rp, _q("qti-response-condition")), _q("qti-response-if"))
    test = ET.SubElement(cond, _q("qti-and")) if len(idents) > 1 else cond
    for ident in idents:
        m = ET.SubElement(test, _q("qti-match"))
        ET.SubElement(m, _q("qti-variable"), {"identifier": ident})
        ET.SubElement(m, _q("qti-correct"), {"identifier": ident})
    setv = ET.SubElement(cond, _q("qti-set-outcome-value"), {"identifier": "SCORE"})
    ET.SubElement(setv, _q("qti-variable"), {"identifier": "MAXSCORE"})


def _fill_in_body(body: ET.Element, stem: str, n_keys: int) -> list[str]:
    """Put a text entry at each blank of the stem when the blanks match the keys, else after it."""
    idents = ["RESPONSE"] if n_keys == 1 else [f"RESPONSE_{i}" for i in range(1, n_keys + 1)]
    blanks = BLANK_RE.findall(stem)
    if len(blanks) == n_keys:
        k = 0
        for line in stem.split("\n"):
            p = ET.SubElement(body, _q("p"))
            pieces = BLANK_RE.split(line)
            marks = BLANK_RE.findall(line)
            _append_mixed(p, pieces[0])
            for mark, after in zip(marks, pieces[1:]):
                ET.SubElement(p, _q("qti-text-entry-interaction"),
                              {"response-identifier": idents[k], "data-placeholder": mark})
                _append_mixed(p, after)
                k += 1
    else:
        _paragraphs(body, stem)
        p = ET.SubElement(body, _q("p"), {"class": "itembank-blanks"})
        for ident in idents:
            ET.SubElement(p, _q("qti-text-entry-interaction"), {"response-identifier": ident})
    return idents


def _picture_files(items: Sequence[Item], pictures: Mapping[str, bytes]) -> dict[str, tuple[str, bytes, int, int]]:
    """sha256 -> (file name in images/, bytes, width, height) of every picture the items show;
    ``ValidationError`` naming the item when one was not given."""
    out: dict[str, tuple[str, bytes, int, int]] = {}
    for item in items:
        for sha in media.content_picture_refs(item.content):
            if sha in out:
                continue
            data = pictures.get(sha)
            if data is None:
                raise ValidationError(Message(
                    "item {code} shows picture {sha}, which was not given for the export; export through "
                    "export_qti, which loads the pictures", code=item.code, sha=sha[:12] + "…"), field="pictures")
            ext = "png" if data.startswith(b"\x89PNG") else "jpg"
            out[sha] = (f"{sha}.{ext}", data, *media.stored_size(data))
    return out


def item_to_qti(item: Item, pictures: Mapping[str, bytes] | None = None) -> bytes:
    """One ``qti-assessment-item`` document (UTF-8) for one item version; ``pictures``
    (sha256 -> bytes) holds the pictures its text shows, written as ``img`` of ``images/``."""
    files = _picture_files([item], pictures or {})
    token = _PICTURES.set({sha: (f"{IMAGES_DIR}/{name}", w, h) for sha, (name, _, w, h) in files.items()})
    try:
        return _item_to_qti(item)
    finally:
        _PICTURES.reset(token)


def _item_to_qti(item: Item) -> bytes:
    c = item.content
    fields = (("stem", c.stem), ("analysis", c.analysis), ("equipment", c.equipment), ("code", item.code),
              *((f"options[{o.label}]", o.text) for o in c.options), *(("key", k) for k in c.key),
              *(("rubric", r.description + r.criteria) for r in c.rubric))
    for name, text in fields:
        _check_text(item.code, name, text)
    token = _CR.set(_marker([t for _, t in fields]))
    try:
        return _item_xml(item)
    finally:
        _CR.reset(token)


def _item_xml(item: Item) -> bytes:
    c = item.content
    root = ET.Element(_q("qti-assessment-item"), {
        _q("schemaLocation", XSI_NS): f"{QTI_NS} {QTI_XSD}",
        "identifier": _identifier(item.code), "title": item.code, "label": item.code,
        _q("lang", XML_NS): "zh-CN", "time-dependent": "false", "adaptive": "false",
        "tool-name": TOOL, "tool-version": "1",
    })
    t = c.item_type
    body = ET.Element(_q("qti-item-body"))
    if t.has_options or t is ItemType.TRUE_FALSE:
        _response(root, "RESPONSE", "multiple" if t is ItemType.MULTIPLE_CHOICE else "single", "identifier", c.key)
        _outcomes(root, c.points, human=False)
        _paragraphs(body, c.stem)
        options = c.options if t.has_options else (Option("T", "正确"), Option("F", "错误"))
        inter = ET.SubElement(body, _q("qti-choice-interaction"), {
            "response-identifier": "RESPONSE", "shuffle": "false",
            "max-choices": "1" if t is not ItemType.MULTIPLE_CHOICE else str(len(options)),
        })
        for o in options:
            _append_mixed(ET.SubElement(inter, _q("qti-simple-choice"), {"identifier": o.label}), o.text)
        idents = ["RESPONSE"]
    elif t is ItemType.FILL_IN:
        holder = ET.Element("holder")
        idents = _fill_in_body(holder, c.stem, len(c.key))
        for ident, k in zip(idents, c.key):
            _response(root, ident, "single", "string", [k])
        _outcomes(root, c.points, human=False)
        body.extend(list(holder))
    else:
        _response(root, "RESPONSE", "multiple" if len(c.key) > 1 else "single", "string", c.key)
        _outcomes(root, c.points, human=True)
        _paragraphs(body, c.stem)
        lines = {ItemType.ESSAY: 15, ItemType.PRACTICAL_TASK: 10, ItemType.DEFENCE_TOPIC: 15}.get(t, 6)
        ET.SubElement(body, _q("qti-extended-text-interaction"),
                      {"response-identifier": "RESPONSE", "expected-lines": str(lines), "format": "plain"})
        idents = []
    if c.rubric:
        block = ET.SubElement(body, _q("qti-rubric-block"), {"view": "scorer", "use": "scoring"})
        ol = ET.SubElement(ET.SubElement(block, _q("qti-content-body")), _q("ol"), {"class": "itembank-rubric"})
        for r in c.rubric:
            ET.SubElement(ol, _q("li"), {"data-points": repr(float(r.points)),
                                         "data-criteria": r.criteria}).text = _t(r.description)
    if c.analysis:
        block = ET.SubElement(body, _q("qti-rubric-block"), {"view": "scorer", "use": ANALYSIS_USE})
        _paragraphs(ET.SubElement(block, _q("qti-content-body")), c.analysis)
    root.append(body)
    if idents:
        _match_processing(root, idents)
    text = ET.tostring(root, encoding="unicode").replace(_CR.get(), "&#13;")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode("utf-8")


def _lom(parent: ET.Element, item: Item, bank_label: str) -> None:
    c = item.content
    L = lambda tag: _q(tag, LOM_NS)  # noqa: E731
    lom = ET.SubElement(parent, L("lom"))
    ident = ET.SubElement(ET.SubElement(lom, L("general")), L("identifier"))
    ET.SubElement(ident, L("catalog")).text = TOOL
    ET.SubElement(ident, L("entry")).text = item.code
    edu = ET.SubElement(lom, L("educational"))
    diff = ET.SubElement(edu, L("difficulty"))
    ET.SubElement(diff, L("source")).text = "LOMv1.0"
    ET.SubElement(diff, L("value")).text = LOM_DIFFICULTY[c.difficulty_rating - 1]
    ET.SubElement(ET.SubElement(edu, L("typicalLearningTime")), L("duration")).text = f"PT{c.estimated_time_s:g}S"
    cls = ET.SubElement(lom, L("classification"))
    purpose = ET.SubElement(cls, L("purpose"))
    ET.SubElement(purpose, L("source")).text = "LOMv1.0"
    ET.SubElement(purpose, L("value")).text = "educational objective"
    for code in c.element_codes:
        path = ET.SubElement(cls, L("taxonPath"))
        ET.SubElement(ET.SubElement(path, L("source")), L("string")).text = f"认定要素细目表 {bank_label} {c.part.zh}"
        ET.SubElement(ET.SubElement(path, L("taxon")), L("id")).text = code


def _ib(parent: ET.Element, item: Item) -> None:
    c = item.content
    attrs = {"code": item.code, "version": str(item.version), "item-type": c.item_type.value,
             "part": c.part.value, "points": repr(float(c.points)), "difficulty-rating": str(c.difficulty_rating),
             "estimated-time-s": repr(float(c.estimated_time_s)), "state": VersionState(item.state).value}
    if c.time_limit_min is not None:
        attrs["time-limit-min"] = repr(float(c.time_limit_min))
    if item.set_code:
        attrs["set-code"] = item.set_code
    if item.occupation_code:
        attrs["occupation"] = item.occupation_code
    if item.level is not None:
        attrs["level"] = str(int(item.level))
    e = ET.SubElement(parent, _q("item", IB_NS), attrs)
    for code in c.element_codes:
        ET.SubElement(e, _q("element", IB_NS)).text = code
    if c.equipment:
        ET.SubElement(e, _q("equipment", IB_NS), {"text": c.equipment})


def export_package(items: Sequence[Item], *, bank_label: str = "",
                   pictures: Mapping[str, bytes] | None = None) -> bytes:
    """A QTI 3.0 content package (zip): ``imsmanifest.xml``, ``items/<id>.xml`` and the pictures
    the items show (``pictures``: sha256 -> bytes) in ``items/images/``, each once."""
    files = _picture_files(items, pictures or {})
    manifest = ET.Element(_q("manifest", CP_NS), {
        "identifier": "MANIFEST-" + hashlib.sha256("|".join(f"{i.code}:{i.version}" for i in items)
                                                   .encode()).hexdigest()[:16],
        _q("schemaLocation", XSI_NS): f"{CP_NS} {CP_XSD}",
    })
    meta = ET.SubElement(manifest, _q("metadata", CP_NS))
    ET.SubElement(meta, _q("schema", CP_NS)).text = "QTI Package"
    ET.SubElement(meta, _q("schemaversion", CP_NS)).text = "3.0.0"
    ET.SubElement(manifest, _q("organizations", CP_NS))
    resources = ET.SubElement(manifest, _q("resources", CP_NS))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        used: set[str] = set()
        for item in items:
            ident = _identifier(item.code)
            if ident in used:
                raise ValidationError(Message("Item {code} appears twice in the export.", code=item.code), field="codes")
            used.add(ident)
            href = f"items/{ident}.xml"
            zf.writestr(href, item_to_qti(item, pictures))
            res = ET.SubElement(resources, _q("resource", CP_NS),
                                {"identifier": f"RES-{ident}", "type": ITEM_RESOURCE, "href": href})
            rmeta = ET.SubElement(res, _q("metadata", CP_NS))
            _lom(rmeta, item, bank_label)
            _ib(rmeta, item)
            ET.SubElement(res, _q("file", CP_NS), {"href": href})
            for sha in media.content_picture_refs(item.content):
                ET.SubElement(res, _q("file", CP_NS), {"href": f"items/{IMAGES_DIR}/{files[sha][0]}"})
        for name, data, _, _ in files.values():
            zf.writestr(f"items/{IMAGES_DIR}/{name}", data)
        ET.indent(manifest)
        zf.writestr("imsmanifest.xml", '<?xml version="1.0" encoding="UTF-8"?>\n'
                    + ET.tostring(manifest, encoding="unicode"))
    return buf.getvalue()


def export_qti(
    session: Session,
    *,
    actor: Actor,
    bank: BankRef,
    codes: Sequence[str] | None = None,
    part: Part | None = None,
    states: Sequence[VersionState] = (VersionState.ACCEPTED,),
) -> tuple[bytes, list[Item]]:
    """Export the bank's items (by default the accepted versions; with other ``states`` the
    newest version of each item in them) as a QTI 3.0 package. Taking item content out is an
    access to confidential material: bank managers only, and ledgered (附件11 第23条)."""
    if not actor.has(Role.BANK_MANAGER, occupation_code=bank.occupation.code):
        raise PermissionDeniedError(Message(
            "{user} may not export the items of {bank}: it needs the role {role}.", user=actor.username,
            bank=bank.label, role=Role.BANK_MANAGER))
    newest: dict[str, Item] = {}
    for it in load_pool(session, bank=bank, part=part, states=list(states)):
        if it.code not in newest or it.version > newest[it.code].version:
            newest[it.code] = it
    if codes is not None:
        missing = sorted(set(codes) - set(newest))
        if missing:
            raise ValidationError(Message(
                "{bank}: no version in the state {states} for {codes}.", bank=bank.label,
                states=[VersionState(s) for s in states], codes=missing[:20]), field="codes")
        chosen = [newest[c] for c in dict.fromkeys(codes)]
    else:
        chosen = [newest[c] for c in sorted(newest)]
    pictures = media.pictures_for_items(session, chosen)
    data = export_package(chosen, bank_label=bank.label, pictures=pictures)
    ledger.append(session, actor=actor.username, action="export.qti", object_type="bank", object_id=bank.id,  # type: ignore[arg-type]
                  details={"bank": bank.label, "n_items": len(chosen), "sha256": hashlib.sha256(data).hexdigest(),
                           "states": [VersionState(s).value for s in states], "n_pictures": len(pictures),
                           "items": [f"{i.code} v{i.version}" for i in chosen]})
    return data, chosen


# --------------------------------------------------------------------------------------
# Import


@dataclass(frozen=True, slots=True)
class _Meta:
    code: str | None = None
    item_type: ItemType | None = None
    elements: tuple[str, ...] = ()
    rating: int | None = None
    est_time: float | None = None
    time_limit: float | None = None
    equipment: str = ""
    set_code: str | None = None


def _meta(res: ET.Element | None) -> _Meta:
    if res is None:
        return _Meta()
    ib = res.find(f".//{_q('item', IB_NS)}")
    lom = res.find(f".//{_q('lom', LOM_NS)}")
    code = elements = rating = est = None
    if lom is not None:
        entry = lom.find(f"{_q('general', LOM_NS)}/{_q('identifier', LOM_NS)}/{_q('entry', LOM_NS)}")
        code = entry.text if entry is not None else None
        elements = tuple(e.text or "" for e in lom.iter(_q("id", LOM_NS)))
        diff = lom.find(f".//{_q('difficulty', LOM_NS)}/{_q('value', LOM_NS)}")
        if diff is not None and diff.text in LOM_DIFFICULTY:
            rating = LOM_DIFFICULTY.index(diff.text) + 1
        dur = lom.find(f".//{_q('typicalLearningTime', LOM_NS)}/{_q('duration', LOM_NS)}")
        m = re.fullmatch(r"PT([0-9.]+)S", (dur.text or "") if dur is not None else "")
        est = float(m.group(1)) if m else None
    if ib is None:
        return _Meta(code=code, elements=elements or (), rating=rating, est_time=est)
    eq = ib.find(_q("equipment", IB_NS))
    return _Meta(
        code=ib.get("code") or code,
        item_type=ItemType(ib.get("item-type")) if ib.get("item-type") in {t.value for t in ItemType} else None,
        elements=tuple(e.text or "" for e in ib.findall(_q("element", IB_NS))) or elements or (),
        rating=int(ib.get("difficulty-rating")) if (ib.get("difficulty-rating") or "").isdigit() else rating,  # type: ignore[arg-type]
        est_time=float(ib.get("estimated-time-s")) if ib.get("estimated-time-s") else est,  # type: ignore[arg-type]
        time_limit=float(ib.get("time-limit-min")) if ib.get("time-limit-min") else None,  # type: ignore[arg-type]
        equipment=eq.get("text", "") if eq is not None else "",
        set_code=ib.get("set-code") or None,
    )


def _untext(text: str | None) -> str:
    return text or ""


Resolver = Callable[[str, str], str]  # (img src, alt) -> the picture's markup ("" when refused)


def _is_img(el: ET.Element) -> bool:
    return isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "img"  # QTI, XHTML or no namespace


def _inline_text(el: ET.Element, resolve: Resolver | None = None) -> str:
    """Text of a paragraph; a text entry stands for its blank, a picture for its markup."""
    if _is_img(el):
        return resolve(el.get("src") or "", el.get("alt") or "") if resolve else ""
    out = [_untext(el.text)]
    for child in el:
        if child.tag == _q("qti-text-entry-interaction"):
            out.append(child.get("data-placeholder") or "____")
        else:
            out.append(_inline_text(child, resolve))
        out.append(_untext(child.tail))
    return "".join(out)


def _values(decl: ET.Element | None) -> tuple[str, ...]:
    if decl is None:
        return ()
    correct = decl.find(_q("qti-correct-response"))
    return tuple(_untext(v.text) for v in correct.findall(_q("qti-value"))) if correct is not None else ()


class _PackagePictures:
    """The pictures of one package: each ``img`` resolved against the package (relative to the
    item file that shows it) or a ``data:`` URI, read with a bound, checked and re-encoded once."""

    def __init__(self, zf: SafeZip | zipfile.ZipFile | None) -> None:
        self.zf = zf
        self.names = set(zf.namelist()) if zf is not None else set()
        self.by_source: dict[str, media.CheckedPicture | media.PictureError] = {}
        self.checked: dict[str, media.CheckedPicture] = {}

    def resolver(self, where: str, problems: list[ImportProblem]) -> Resolver:
        def resolve(src: str, alt: str) -> str:
            def bad(message: Message | str) -> str:
                problems.append(ImportProblem(where, None, "img", message))
                return ""

            src = src.strip()
            if src.lower().startswith("data:"):
                key = "data:" + hashlib.sha256(src.encode()).hexdigest()
                label = "data: URI"
            else:
                if not src or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", src) or src.startswith(("/", "\\")):
                    return bad(Message("picture {src} is outside the package: put the file into the package and "
                                       "refer to it by its path", src=src[:120] or '""'))
                key = posixpath.normpath(posixpath.join(posixpath.dirname(where), unquote(src)))
                label = key
                if key.startswith("../") or key == ".." or key not in self.names:
                    return bad(Message("picture {src} is not in the package (looked for {path})", src=src[:120],
                                       path=key))
            if key not in self.by_source:
                try:
                    data = (media.decode_data_uri(src) if key.startswith("data:")
                            else media.read_packaged_picture(self.zf, key))
                    self.by_source[key] = media.check_picture(data, name=label)
                except media.PictureError as e:
                    self.by_source[key] = e
            found = self.by_source[key]
            if isinstance(found, media.PictureError):
                return bad(found.message)
            self.checked[found.sha256] = found
            return media.picture_markup(found.sha256, alt)

        return resolve


def _no_pictures(where: str, problems: list[ImportProblem]) -> Resolver:
    """One item file on its own: its pictures cannot be in it, unless written into it."""
    return _PackagePictures(None).resolver(where, problems)


def _parse_item(xml: bytes, where: str, meta: _Meta, default_elements: Sequence[str],
                problems: list[ImportProblem], pictures: _PackagePictures | None = None) -> ParsedItem | None:
    def bad(column: str | None, message: Message) -> None:
        problems.append(ImportProblem(where, None, column, message))

    resolve = pictures.resolver(where, problems) if pictures is not None else _no_pictures(where, problems)

    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        bad(None, Message("the XML is not well-formed: {reason}", reason=str(e)))
        return None
    if root.tag != _q("qti-assessment-item"):
        ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else "—"
        bad(None, Message("not a QTI 3.0 item: the root element is {root} in namespace {ns}; expected "
                          "qti-assessment-item in {expected}", root=root.tag.split("}")[-1], ns=ns, expected=QTI_NS))
        return None
    code = meta.code or root.get("label") or root.get("identifier") or ""
    decls = {d.get("identifier"): d for d in root.findall(_q("qti-response-declaration"))}
    maxscore = None
    for o in root.findall(_q("qti-outcome-declaration")):
        if o.get("identifier") == "MAXSCORE":
            v = o.find(f"{_q('qti-default-value')}/{_q('qti-value')}")
            try:
                maxscore = float(_untext(v.text if v is not None else None))
            except ValueError:
                bad("qti-outcome-declaration MAXSCORE", Message("item {code}: the maximum score is not a number",
                                                                code=code))
                return None
    body = root.find(_q("qti-item-body"))
    if body is None:
        bad("qti-item-body", Message("item {code}: the item has no qti-item-body", code=code))
        return None
    supported = {_q(t) for t in ("qti-choice-interaction", "qti-text-entry-interaction",
                                 "qti-extended-text-interaction")}
    kinds = {e.tag for e in body.iter() if e.tag.endswith("-interaction")}
    for tag in sorted(kinds - supported):
        bad(tag.split("}")[-1], Message("item {code}: {interaction} is not supported (choice, text entry and "
                                        "extended text interactions are)", code=code, interaction=tag.split("}")[-1]))
    if not kinds:
        bad("qti-item-body", Message("item {code}: the item has no interaction", code=code))
    if kinds - supported or not kinds:
        return None
    if len(kinds) > 1:
        bad("qti-item-body", Message("item {code}: mixes {interactions}; one kind of interaction per item is "
                                     "supported", code=code, interactions=sorted(k.split("}")[-1] for k in kinds)))
        return None
    kind = next(iter(kinds))

    stem_lines: list[str] = []
    rubric: list[RubricPoint] = []
    analysis: list[str] = []
    options: list[Option] = []
    choice: ET.Element | None = None
    for el in body:
        if el.tag == _q("qti-rubric-block"):
            content = el.find(_q("qti-content-body"))
            content = content if content is not None else el
            if el.get("use") == ANALYSIS_USE or (el.get("use") != "scoring" and el.get("view") == "scorer"
                                                 and content.find(f".//{_q('li')}") is None):
                analysis += [_inline_text(p, resolve) for p in content.iter(_q("p"))]
            else:
                for li in content.iter(_q("li")):
                    try:
                        pts = float(li.get("data-points", ""))
                    except ValueError:
                        bad("qti-rubric-block", Message("item {code}: scoring point '{point}' has no data-points "
                                                        "number", code=code, point=_inline_text(li, resolve)))
                        return None
                    rubric.append(RubricPoint(_inline_text(li, resolve), pts, li.get("data-criteria", "")))
        elif el.tag == _q("qti-choice-interaction"):
            choice = el
            prompt = el.find(_q("qti-prompt"))
            if prompt is not None:
                stem_lines.append(_inline_text(prompt, resolve))
        elif el.tag == _q("qti-extended-text-interaction"):
            prompt = el.find(_q("qti-prompt"))
            if prompt is not None:
                stem_lines.append(_inline_text(prompt, resolve))
        elif el.get("class") == "itembank-blanks":
            continue
        else:
            stem_lines.append(_inline_text(el, resolve))
    stem = "\n".join(stem_lines)

    item_type = meta.item_type
    if kind == _q("qti-choice-interaction"):
        assert choice is not None
        decl = decls.get(choice.get("response-identifier"))
        ids = [c.get("identifier") or "" for c in choice.iter(_q("qti-simple-choice"))]
        texts = [_inline_text(c, resolve) for c in choice.iter(_q("qti-simple-choice"))]
        key = _values(decl)
        if item_type is None:
            multiple = (decl is not None and decl.get("cardinality") == "multiple") or choice.get("max-choices") != "1"
            item_type = (ItemType.MULTIPLE_CHOICE if multiple else
                         ItemType.TRUE_FALSE if ids == ["T", "F"] else ItemType.SINGLE_CHOICE)
        if item_type is not ItemType.TRUE_FALSE:
            # foreign identifiers (ChoiceA, c1 ...) become the labels A, B, C ...
            letters = all(re.fullmatch(r"[A-Z]", i) for i in ids)
            labels = ids if letters else [chr(ord("A") + n) for n in range(len(ids))]
            relabel = dict(zip(ids, labels))
            options = [Option(lbl, txt) for lbl, txt in zip(labels, texts)]
            key = tuple(relabel.get(k, k) for k in key)
    elif kind == _q("qti-text-entry-interaction"):
        item_type = item_type or ItemType.FILL_IN
        key = tuple(v for e in body.iter(_q("qti-text-entry-interaction"))
                    for v in _values(decls.get(e.get("response-identifier")))[:1])
    else:
        item_type = item_type or ItemType.SHORT_ANSWER
        key = _values(decls.get("RESPONSE"))
    elements = meta.elements or tuple(default_elements)
    if not elements:
        bad("metadata", Message("item {code}: the package metadata holds no element codes; import with default "
                                "element codes", code=code))
        unreadable = frozenset({"element_codes"})
    else:
        unreadable = frozenset()
    content = ItemContent(
        item_type=item_type, stem=stem, points=maxscore if maxscore is not None else 1.0,
        element_codes=elements, options=tuple(options), key=key, rubric=tuple(rubric),
        analysis="\n".join(analysis), time_limit_min=meta.time_limit, equipment=meta.equipment,
        estimated_time_s=meta.est_time if meta.est_time is not None else 60.0,
        difficulty_rating=meta.rating if meta.rating is not None else 3,
    )
    columns = {"stem": "qti-item-body", "options": "qti-simple-choice", "key": "qti-correct-response",
               "points": "MAXSCORE", "rubric": "qti-rubric-block", "element_codes": "metadata",
               "analysis": "qti-rubric-block", "item_type": "interaction", "code": "identifier",
               "difficulty_rating": "metadata", "estimated_time_s": "metadata", "time_limit_min": "metadata"}
    shown = media.content_picture_refs(content)
    return ParsedItem(sheet=where, row=None, code=code, content=content, set_code=meta.set_code, writer="",
                      columns=columns, unreadable=unreadable,
                      pictures=tuple(pictures.checked[sha] for sha in shown
                                     if pictures is not None and sha in pictures.checked))


def read_package(
    data: bytes, *, source: str = "package", default_elements: Sequence[str] = (),
) -> tuple[list[ParsedItem], list[ImportProblem]]:
    """Items of a QTI 3.0 content package (zip with imsmanifest.xml), or of one item file."""
    problems: list[ImportProblem] = []
    items: list[ParsedItem] = []
    if not data.startswith(b"PK"):
        it = _parse_item(data, source, _Meta(), default_elements, problems)
        if it is not None:
            items.append(it)
        _check_items(items, problems)
        return items, problems
    try:
        zf = SafeZip(data, limits=QTI_LIMITS, source=source)  # bounded unpacking (itembank.archive)
    except ArchiveLimitError as e:
        return [], [ImportProblem(source, None, None, e.head_text)]
    try:
        with zf:
            _read_members(zf, source, default_elements, items, problems)
    except ArchiveLimitError as e:  # stopped while unpacking: nothing of the package is used
        return [], [ImportProblem(source, None, None, e.head_text)]
    _check_items(items, problems)
    return items, problems


def _read_members(zf: SafeZip, source: str, default_elements: Sequence[str], items: list[ParsedItem],
                  problems: list[ImportProblem]) -> None:
    names = set(zf.namelist())
    if "imsmanifest.xml" not in names:
        problems.append(ImportProblem(source, None, None, Message(
            "this is not a QTI content package: it holds no imsmanifest.xml")))
        return
    try:
        manifest = ET.fromstring(zf.read("imsmanifest.xml"))
    except ET.ParseError as e:
        problems.append(ImportProblem("imsmanifest.xml", None, None, Message("the XML is not well-formed: {reason}",
                                                                             reason=str(e))))
        return
    resources = [r for r in manifest.iter() if r.tag.split("}")[-1] == "resource"]
    package_pictures = _PackagePictures(zf)
    n_items = 0
    for res in resources:
        rtype = res.get("type", "")
        if not rtype.startswith("imsqti_item_xmlv3p0"):
            if rtype.startswith("imsqti_item_xmlv2"):
                problems.append(ImportProblem("imsmanifest.xml", None, res.get("identifier"), Message(
                    "resource {resource} is QTI 2.x ({type}); only QTI 3.0 items are read",
                    resource=res.get("identifier"), type=rtype)))
            continue
        n_items += 1
        href = res.get("href") or ""
        if href not in names:
            problems.append(ImportProblem("imsmanifest.xml", None, res.get("identifier"), Message(
                "resource {resource}: the file '{file}' is not in the package", resource=res.get("identifier"),
                file=href)))
            continue
        it = _parse_item(zf.read(href), href, _meta(res), default_elements, problems, package_pictures)
        if it is not None:
            items.append(it)
    if not n_items and not problems:
        problems.append(ImportProblem("imsmanifest.xml", None, None, Message("the package holds no QTI 3.0 item")))


def import_qti(
    session: Session,
    *,
    actor: Actor,
    bank: BankRef,
    data: bytes,
    filename: str,
    mode: ImportMode | str = ImportMode.DRAFT,
    batch_ref: str = "",
    dry_run: bool = False,
    default_elements: Sequence[str] = (),
) -> ImportReport:
    """Import a QTI 3.0 package (or one item file) into ``bank``: all-or-nothing and
    idempotent like the spreadsheet import (``itembank.imports.apply_items``)."""
    items, problems = read_package(data, source=filename, default_elements=default_elements)
    if not items and not problems:
        raise ImportFileError(Message("{filename}: no item found.", filename=filename), problems=[])
    return apply_items(session, actor=actor, bank=bank, items=items, problems=problems, source=filename,
                       sha256=hashlib.sha256(data).hexdigest(), mode=mode, batch_ref=batch_ref, dry_run=dry_run,
                       fmt="qti")
