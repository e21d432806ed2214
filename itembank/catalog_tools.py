"""Keeping the message catalog in step with the code (developers; not used at run time).

    python -m itembank.catalog_tools update   # add new msgids to zh_CN.po, drop unused ones, sort
    python -m itembank.catalog_tools check    # list msgids without a translation or with bad fields
    python -m itembank.catalog_tools compile  # write the .mo files beside the .po files

Msgids are extracted with Babel from the Python packages (calls of ``_``, ``N_``,
``gettext`` and ``Message``, whose first argument must be a plain string literal, never an
f-string), from the Jinja templates (``_()`` calls), from the command line's help texts
(``api/cli``: commands' docstrings, options' ``help``/``metavar``/``show_default``,
arguments' names as metavars; see ``api.cli.localized``) and from the installed Click (its
own words: usage, errors). The ``.po`` file is kept sorted by msgid so that changes from
several branches rarely touch the same lines.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from itembank.i18n import DOMAIN, LOCALE_DIR, LOCALES, placeholders

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("analysis", "assembly", "itembank", "exports", "lifecycle", "api")
KEYWORDS = {"_": None, "N_": None, "gettext": None, "Message": None}
TRANSLATED = tuple(loc for loc in LOCALES if loc != "en")


@dataclass(frozen=True)
class Found:
    msgid: str
    where: str  # "path:line"


def extract(root: Path = ROOT) -> dict[str, list[str]]:
    """Every msgid of the code and templates under ``root`` (and of Click) with where it is used."""
    from babel.messages.extract import extract_from_dir

    method_map = [("**/templates/**.html", "jinja2"), ("cli/**.py", extract_cli), ("**.py", extract_calls)]
    options_map = {"**/templates/**.html": {"extensions": "", "silent": "false"}}
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        base = root / package
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(base), method_map, options_map, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True,
        ):
            if isinstance(message, tuple):
                message = message[0]
            if not message or "catalog_tools" in filename:
                continue
            found.setdefault(message, []).append(f"{package}/{filename}:{lineno}")
    for message, where in click_msgids():
        found.setdefault(message, []).append(where)
    return found


_COMMAND_DECORATORS = {"command", "group"}
_HELP_KEYWORDS = {"command": ("help", "short_help", "epilog"), "group": ("help", "short_help", "epilog"),
                  "option": ("help", "metavar", "show_default"), "argument": ("metavar",)}


def _called(node: ast.expr) -> str | None:
    func = node.func if isinstance(node, ast.Call) else None
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value else None


def extract_calls(fileobj, keywords, comment_tags, options) -> Iterator[tuple]:  # type: ignore[no-untyped-def]
    """Babel extraction of a Python module: the first argument of every call of a keyword
    (``_``, ``N_``, ``gettext``, ``Message``) that is a string literal, at any depth (calls
    nested in another call's arguments too, which Babel's own Python extractor skips)."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) in keywords and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
                yield node.lineno, _called(node), first.value, []
            elif isinstance(first, ast.JoinedStr):
                raise SyntaxError(f"line {node.lineno}: an f-string as a msgid cannot be translated; give a template "
                                  "with named fields and pass the values")


def extract_cli(fileobj, keywords, comment_tags, options) -> Iterator[tuple]:  # type: ignore[no-untyped-def]
    """Babel extraction of a command line module: its catalog calls (:func:`extract_calls`),
    and the help texts Click shows (``api.cli.localized`` renders them through the catalog):
    command docstrings, ``help``/``metavar``/``show_default`` texts, argument names in capitals."""
    source = fileobj.read()
    import io

    yield from extract_calls(io.BytesIO(source), keywords, comment_tags, options)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decorators = [d for d in node.decorator_list if _called(d) in _COMMAND_DECORATORS]
            has_help = any(k.arg == "help" for d in decorators for k in d.keywords)  # type: ignore[attr-defined]
            doc = ast.get_docstring(node, clean=True)
            if decorators and doc and not has_help:
                yield node.lineno, None, doc, []
        elif isinstance(node, ast.Call) and _called(node) in _HELP_KEYWORDS:
            kind = _called(node)
            named = {k.arg: k.value for k in node.keywords}
            for key in _HELP_KEYWORDS[kind]:  # type: ignore[index]
                text = _text(named.get(key))
                if text:
                    yield node.lineno, None, inspect.cleandoc(text), []
            if kind == "argument" and "metavar" not in named and node.args and _text(node.args[0]):
                yield node.lineno, None, str(_text(node.args[0])).upper(), []


def click_msgids() -> Iterator[tuple[str, str]]:
    """Click's own msgids (``_()`` and both forms of ``ngettext()``) with where they are."""
    import click
    from babel.messages.extract import extract_from_dir

    base = Path(click.__file__).parent
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(base), [("**.py", "python")], keywords={"_": None, "ngettext": (1, 2)}, comment_tags=(),
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                yield msgid, f"click/{filename}:{lineno}"


HEADER = """\
# The message catalog of itembank (zh_CN). Msgids are English; every user-visible text has
# its Chinese here. Keep the fields ({name}) of each msgid; edit msgstr lines only, then run
# `python -m itembank.catalog_tools update` (adds new msgids, drops unused ones, sorts)."""


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read(locale: str):  # type: ignore[no-untyped-def]
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, domain=DOMAIN, project="itembank", fuzzy=False, header_comment=HEADER)
    with path.open("rb") as f:
        return read_po(f, locale=locale)


FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # a header that never changes: no merge conflicts


def _write(locale: str, catalog) -> None:  # type: ignore[no-untyped-def]
    from babel.messages.pofile import write_po

    catalog.project, catalog.version = "itembank", "1"
    catalog.copyright_holder, catalog.msgid_bugs_address = "itembank", ""
    catalog.last_translator, catalog.language_team = "itembank", locale
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    catalog.fuzzy = False

    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=0, no_location=True, omit_header=False, sort_output=True,
                 include_previous=False, ignore_obsolete=True)


def update(root: Path = ROOT) -> dict[str, int]:
    """Add the code's new msgids (untranslated) and drop the ones the code no longer uses."""
    found = extract(root)
    counts = {}
    for locale in TRANSLATED:
        catalog = _read(locale)
        known = {m.id for m in catalog if m.id}
        for msgid in found:
            if msgid not in known:
                catalog.add(msgid, string="")
        for msgid in list(known):
            if msgid not in found:
                catalog.delete(msgid)
        _write(locale, catalog)
        counts[locale] = len([m for m in catalog if m.id])
    return counts


@dataclass(frozen=True)
class Problem:
    locale: str
    msgid: str
    what: str
    where: str


def check(root: Path = ROOT, found: dict[str, list[str]] | None = None) -> list[Problem]:
    """Msgids of the code without a translation, translations whose fields differ from the
    msgid's, and entries the code no longer uses."""
    found = extract(root) if found is None else found
    problems = []
    for locale in TRANSLATED:
        catalog = _read(locale)
        entries = {m.id: m for m in catalog if m.id}
        for msgid, where in sorted(found.items()):
            entry = entries.get(msgid)
            if entry is None or not entry.string:
                problems.append(Problem(locale, msgid, "no translation", where[0]))
            elif entry.fuzzy:
                problems.append(Problem(locale, msgid, "translation marked fuzzy", where[0]))
            elif placeholders(msgid) != placeholders(str(entry.string)):
                problems.append(Problem(locale, msgid, f"fields differ: {sorted(placeholders(msgid))} vs "
                                        f"{sorted(placeholders(str(entry.string)))}", where[0]))
        for msgid in sorted(set(entries) - set(found)):
            problems.append(Problem(locale, msgid, "not used by the code (run update)", ""))
    return problems


def compile_catalogs(target: Path | None = None) -> list[Path]:
    """Write ``messages.mo`` for every translated locale (into ``target``'s locale tree, or
    beside the ``.po``)."""
    from babel.messages.mofile import write_mo

    written = []
    for locale in TRANSLATED:
        catalog = _read(locale)
        base = (target / locale / "LC_MESSAGES") if target else po_path(locale).parent
        base.mkdir(parents=True, exist_ok=True)
        out = base / f"{DOMAIN}.mo"
        with out.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(out)
    return written


def _print(problems: Iterable[Problem]) -> int:
    n = 0
    for p in problems:
        n += 1
        print(f"{p.locale}: {p.what}: {p.msgid!r} {p.where}")
    return n


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        for locale, n in update().items():
            print(f"{po_path(locale)}: {n} messages")
        return 0
    if command == "check":
        return 1 if _print(check()) else 0
    if command == "compile":
        for path in compile_catalogs():
            print(path)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
