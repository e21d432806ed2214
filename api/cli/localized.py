"""The command line in the reader's locale: Click's own words and every help text through the
one message catalog (issue 14).

- Click translates its own texts ("Usage:", "Missing option", "No such command", "Invalid
  value for ...") with the standard library's ``gettext``, bound into its modules at import.
  :func:`install` points those names at the catalog instead, so they follow the run's locale
  (``--lang`` / ``LANG``, default zh_CN) rather than the process environment. The catalog
  holds Click's msgids (``catalog_tools`` extracts them from the installed Click).
- Help texts are msgids too: a command's docstring (or ``help=``), an option's ``help``,
  ``metavar`` and ``show_default`` text, an argument's name as its metavar. The classes below
  translate them when Click reads them, so one command tree serves both locales;
  ``catalog_tools`` extracts them from ``api/cli``.

Every command of ``itembank`` is built with :func:`command` / :func:`group` and its parameters
with :func:`option` / :func:`argument` (tests/api/test_cli_locale.py walks the tree to hold that).
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import sys
import unicodedata
import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types
import click.utils

from itembank import i18n
from itembank.i18n import N_

# --------------------------------------------------------------------------------------
# Click's own words


def _click_gettext(message: str) -> str:
    return i18n.gettext(message)


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    # Chinese has one form; the catalog keeps both msgids, each translated alike
    return i18n.gettext(singular if n == 1 else plural)


# words Click shows that it does not pass through gettext with a literal (so the extraction of
# Click's msgids misses them): the "required" mark and the names of its value types, which
# are metavars (TEXT, INTEGER ...) and part of its errors ("'x' is not a valid integer.")
# (the names only shown as metavars are in capitals: "text" is a field label elsewhere)
CLICK_EXTRA = (N_("required"), N_("TEXT"), N_("integer"), N_("float"), N_("boolean"), N_("uuid"),
               N_("datetime"), N_("choice"), N_("FILENAME"), N_("integer range"), N_("float range"),
               N_("[OPTIONS]"), N_("COMMAND [ARGS]..."), N_("[COMMAND] [ARGS]..."),
               N_("COMMAND1 [ARGS]... [COMMAND2 [ARGS]...]..."), N_("[COMMAND1] [ARGS]... [COMMAND2 [ARGS]...]..."))


class _TypeName:
    """The ``name`` of a Click value type, in the reader's locale when read."""

    def __init__(self, msgid: str) -> None:
        self.msgid = msgid

    def __get__(self, obj: object, owner: type | None = None) -> str:
        return i18n.gettext(self.msgid)


class _PathName:
    """``click.Path`` names itself file, directory or path by its flags (set in ``__init__``
    with the words of the locale at import): read them by the flags, in the reader's locale."""

    def __get__(self, obj: Any, owner: type | None = None) -> str:
        if obj is None:
            return "path"
        if obj.file_okay and not obj.dir_okay:
            return i18n.gettext("file")
        if obj.dir_okay and not obj.file_okay:
            return i18n.gettext("directory")
        return i18n.gettext("path")

    def __set__(self, obj: object, value: str) -> None:
        pass  # derived from the flags


_CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types", "utils",
                  "_termui_impl", "shell_completion")


@functools.cache
def install() -> None:
    """Route Click's texts through the catalog (once per process; done on importing this module)."""
    import importlib

    for name in _CLICK_MODULES:
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:  # pragma: no cover - a Click without that module
            continue
        if hasattr(module, "_"):
            module._ = _click_gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _click_ngettext  # type: ignore[attr-defined]
    t = click.types
    for cls, msgid in ((t.StringParamType, "TEXT"), (t.UnprocessedParamType, "TEXT"), (t.IntParamType, "integer"),
                       (t.FloatParamType, "float"), (t.BoolParamType, "boolean"), (t.UUIDParameterType, "uuid"),
                       (t.DateTime, "datetime"), (t.Choice, "choice"), (t.File, "FILENAME"),
                       (t.IntRange, "integer range"), (t.FloatRange, "float range")):
        cls.name = _TypeName(msgid)  # type: ignore[assignment,misc]
    t.Path.name = _PathName()  # type: ignore[assignment,misc]


install()


# --------------------------------------------------------------------------------------
# Help texts as msgids


def help_msgid(text: str | None) -> str | None:
    """The msgid of a help text: the text as Click shows it (docstrings lose their indent)."""
    return inspect.cleandoc(text) if text else text


def _tr(text: str | None) -> str | None:
    return i18n.gettext(help_msgid(text)) if text else text  # type: ignore[arg-type]


_CJK = re.compile(r"[\u3400-\u9fff]")
_SENTENCE_END = re.compile(r"(?<=[。！？；])")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def short_help(text: str, limit: int) -> str:
    """The first sentence of a Chinese help text, cut to ``limit`` terminal columns (Click's
    own shortening looks for spaces and full stops, which Chinese has not)."""
    paragraph = " ".join(text.partition("\n\n")[0].split())
    first = _SENTENCE_END.split(paragraph, maxsplit=1)[0].rstrip("。；")
    if _width(first) <= limit:
        return first
    out = ""
    for char in first:
        if _width(out + char) > limit - 1:
            break
        out += char
    return out + "…"


class Formatter(click.HelpFormatter):
    """Headings end with the locale's colon (选项：)."""

    def write_heading(self, heading: str) -> None:
        colon = "" if heading.endswith((":", "：")) else ("：" if _CJK.search(heading) else ":")
        self.write(f"{'':>{self.current_indent}}{heading}{colon}\n")


class Context(click.Context):
    formatter_class = Formatter


class _Msgid:
    """A Click attribute stored as given (a msgid) and read in the run's locale."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else _tr(obj.__dict__.get(self.key))

    def __set__(self, obj: Any, value: str | None) -> None:
        obj.__dict__[self.key] = value


class _HelpTexts:
    """``help``, ``short_help`` and ``epilog`` stored as msgids, read in the reader's locale."""

    context_class = Context

    def get_short_help_str(self, limit: int = 45) -> str:
        text = self.short_help or self.help or ""
        if not self.short_help and _CJK.search(text) and not getattr(self, "deprecated", False):
            return short_help(text, limit)
        return super().get_short_help_str(limit)  # type: ignore[misc]

    help = _Msgid("_help_msgid")
    short_help = _Msgid("_short_help_msgid")
    epilog = _Msgid("_epilog_msgid")
    options_metavar = _Msgid("_options_metavar")

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:  # Click caches it with the words of the first locale that asked
            option.help = i18n.gettext("Show this message and exit.")
        return option


class Command(_HelpTexts, click.Command):
    """A command whose help reads in the run's locale."""


class Group(_HelpTexts, click.Group):
    """A group whose help reads in the run's locale; its ``command()`` / ``group()`` make
    localized commands."""

    command_class = Command
    group_class = type  # subgroups of the same class

    subcommand_metavar = _Msgid("_subcommand_metavar")


class Option(click.Option):
    """An option whose ``help``, ``metavar`` and ``show_default`` text are msgids."""

    help = _Msgid("_help_msgid")
    metavar = _Msgid("_metavar")

    @property
    def show_default(self) -> bool | str | None:
        value = self.__dict__.get("_show_default")
        return _tr(value) if isinstance(value, str) else value

    def get_help_extra(self, ctx: click.Context) -> Any:
        extra = super().get_help_extra(ctx)
        if isinstance(self.type, Choice) and "default" in extra and i18n.current_locale() != "en":
            default = str(extra["default"])
            extra["default"] = self.type.word(default) if default in self.type.choices else default
        return extra

    @show_default.setter
    def show_default(self, value: bool | str | None) -> None:
        self.__dict__["_show_default"] = value


class Argument(click.Argument):
    """An argument shown by a metavar in the reader's locale: its ``metavar`` (a msgid), or
    else its name in capitals (``CODE`` -> 代码)."""

    metavar = _Msgid("_metavar")

    def make_metavar(self, ctx: click.Context) -> str:
        text = super().make_metavar(ctx)
        if self.metavar is not None or not self.name or self.type.get_metavar(param=self, ctx=ctx):
            return text
        plain = self.name.upper()
        return text.replace(plain, i18n.gettext(plain), 1)


class Choice(click.Choice):
    """Codes with words: ``--part 理论知识`` or ``--part theory``; the command gets the code.

    The help shows the words of the reader's locale (``[理论知识|实际操作|…]``; in English the
    codes), and a wrong value is answered with them. ``words`` are msgids by code; an enum's
    members have their own words (``itembank.i18n.word``); a code without words is shown as it
    is (names such as CBC)."""

    def __init__(self, choices: Iterable[str] | type[enum.Enum], words: Mapping[str, str] | None = None) -> None:
        self.enum = choices if isinstance(choices, type) and issubclass(choices, enum.Enum) else None
        codes = [str(m.value) for m in self.enum] if self.enum else [str(c) for c in choices]  # type: ignore[union-attr]
        super().__init__(codes, case_sensitive=False)
        self.words = dict(words or {})

    def word(self, code: str, locale: str | None = None) -> str:
        if self.enum is not None:
            return i18n.word(self.enum(code), locale)
        return i18n.gettext(self.words[code], locale) if code in self.words else code

    def _shown(self) -> list[str]:
        codes = [str(c) for c in self.choices]
        return codes if i18n.current_locale() == "en" else [self.word(c) for c in codes]

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str | None:
        shown = "|".join(self._shown())
        return f"{{{shown}}}" if param.required and param.param_type_name == "argument" else f"[{shown}]"

    def get_missing_message(self, param: click.Parameter, ctx: click.Context | None) -> str:
        return i18n.gettext("Choose from:\n\t{choices}").format(choices=",\n\t".join(self._shown()))

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        shown = "、".join(self._shown()) if i18n.current_locale() != "en" else ", ".join(map(repr, self.choices))
        return _click_ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.",
                               len(self.choices)).format(value=value, choice=shown, choices=shown)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        for code in self.choices:  # the words of either locale name the code too
            if text.casefold() in {self.word(str(code), loc).casefold() for loc in i18n.LOCALES}:
                return code
        return super().convert(value, param, ctx)


def command(name: str | None = None, **attrs: Any):  # type: ignore[no-untyped-def]
    """``click.command`` making a :class:`Command` (its docstring is the help msgid)."""
    return click.command(name, cls=Command, **attrs)


def group(name: str | None = None, **attrs: Any):  # type: ignore[no-untyped-def]
    """``click.group`` making a :class:`Group`."""
    return click.group(name, cls=attrs.pop("cls", Group), **attrs)


def option(*decls: str, **attrs: Any):  # type: ignore[no-untyped-def]
    """``click.option`` making an :class:`Option` (``help``, ``metavar``, ``show_default`` text: msgids)."""
    return click.option(*decls, cls=Option, **attrs)


def argument(*decls: str, **attrs: Any):  # type: ignore[no-untyped-def]
    """``click.argument`` making an :class:`Argument`."""
    return click.argument(*decls, cls=Argument, **attrs)


# --------------------------------------------------------------------------------------
# The run's locale, known before Click parses anything (so that ``--help`` and usage errors
# of the whole line are in it)


def requested_locale(argv: Sequence[str], environ: dict[str, str]) -> str | None:
    """``--lang X`` / ``--lang=X`` on the line, else ``LC_ALL`` / ``LC_MESSAGES`` / ``LANG``;
    None: the centre's default. An unknown ``--lang`` is left to the option to refuse (in the
    environment's locale)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        value = None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.partition("=")[2]
        if value is not None:
            try:
                return i18n.normalize_locale(value, strict=True)
            except ValueError:
                break
    return i18n.locale_from_env(environ)


class RootGroup(Group):
    """The ``itembank`` group: the whole run, parsing included, in the requested locale; a
    setting of the centre that cannot be used ends it with the error in words, not a traceback."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:  # type: ignore[override]
        import os

        argv = list(sys.argv[1:] if args is None else args)
        with i18n.use_locale(requested_locale(argv, dict(os.environ))):
            return super().main(argv, *rest, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        from api.cli.common import fail
        from itembank.errors import ConfigurationError

        try:
            return super().invoke(ctx)
        except ConfigurationError as e:
            fail(e)


_LEVELS = {logging.DEBUG: N_("Debug"), logging.INFO: N_("Information"), logging.WARNING: N_("Warning"),
           logging.ERROR: N_("Error"), logging.CRITICAL: N_("Critical error")}


class LogFormatter(logging.Formatter):
    """Log lines on the operator's terminal in the run's locale: ``警告（itembank.keys）：…``;
    a message logged as a catalog message is rendered then."""

    def format(self, record: logging.LogRecord) -> str:
        level = _LEVELS.get(record.levelno)
        text = i18n._("{level} ({logger}): {message}", level=i18n.Message(level) if level else record.levelname,
                      logger=record.name, message=record.getMessage())
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def walk(cmd: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command of the tree under ``cmd`` with its path of names (groups included)."""
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            yield from walk(cmd.commands[name], (*path, name))
