"""The message catalog and the reader's locale: one place that turns messages into the words
the centre's staff read.

- Locales: ``zh_CN`` (the default, the centre's staff) and ``en`` (the second locale). The
  catalog is gettext (Babel): ``itembank/locale/zh_CN/LC_MESSAGES/messages.po``, compiled to
  ``.mo`` when the package is built; a source checkout without ``.mo`` files reads the
  ``.po`` directly. English needs no catalog: the msgids are English.
- The current locale is a context variable: the API and the pages set it per request from
  ``Accept-Language`` (default: the centre's configuration), the CLI from ``--lang`` or
  ``LANG``. Code that renders (``str(message)``, :func:`gettext`, :func:`format_datetime`)
  uses it.
- Times are stored in UTC and shown in the centre's time zone (configured, default
  Asia/Shanghai) in the locale's format: ``2026年12月6日 08:30``.

Importing this module installs its renderer into :mod:`analysis.messages`, so that every
``str(message)`` at the edge speaks the reader's locale.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import re
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from analysis.messages import (FieldMessage, Message, N_, Sentences, Text, _value_from_data, _value_to_data,
                               field_label, install_renderer, register_field_labels, render_with)

__all__ = [
    "DEFAULT_LOCALE", "FieldMessage", "LOCALES", "Message", "N_", "Text", "configure", "field_label", "for_storage",
    "register_field_labels", "current_locale", "format_date",
    "format_datetime", "format_time", "from_storable", "plain_params", "gettext", "locale_from_accept_language", "locale_from_env",
    "render", "render_tree", "set_locale", "to_storable", "use_locale", "word", "_",
]

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
DEFAULT_TIME_ZONE = "Asia/Shanghai"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

_locale: ContextVar[str | None] = ContextVar("itembank_locale", default=None)
_config = {"locale": DEFAULT_LOCALE, "time_zone": DEFAULT_TIME_ZONE}


def configure(*, default_locale: str | None = None, time_zone: str | None = None) -> None:
    """Set the centre's default locale and time zone (from ``Settings``; done by the app and
    the CLI at start). Unknown values are refused with the allowed ones named."""
    if default_locale is not None:
        _config["locale"] = normalize_locale(default_locale, strict=True)
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except Exception as exc:  # noqa: BLE001 (zoneinfo raises several kinds)
            from itembank.errors import ConfigurationError  # (itembank.errors imports this module)

            raise ConfigurationError(Message(
                "the centre's time zone {value!r} (ITEMBANK_TIME_ZONE) is unknown: set the name of a time "
                "zone of the tz database, such as Asia/Shanghai", value=time_zone), field="time_zone") from exc
        _config["time_zone"] = time_zone


def normalize_locale(value: str | None, *, strict: bool = False) -> str:
    """``zh``, ``zh-CN``, ``zh_CN.UTF-8`` -> ``zh_CN``; ``en``, ``en-US`` -> ``en``."""
    text = (value or "").strip().replace("-", "_").split(".")[0].lower()
    if text.startswith("zh"):
        return "zh_CN"
    if text.startswith("en"):
        return "en"
    if strict:
        from itembank.errors import ConfigurationError

        raise ConfigurationError(Message("the language {value!r} is not available: use one of {choices} (--lang, "
                                         "ITEMBANK_DEFAULT_LOCALE)", value=value,
                                         choices=list(LOCALES)), field="default_locale")
    return _config["locale"]


def current_locale() -> str:
    return _locale.get() or _config["locale"]


def set_locale(locale: str | None) -> None:
    """Set the locale of the current context (a request, a CLI run)."""
    _locale.set(normalize_locale(locale) if locale else None)


@contextlib.contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    token = _locale.set(normalize_locale(locale) if locale else None)
    try:
        yield current_locale()
    finally:
        _locale.reset(token)


def time_zone() -> ZoneInfo:
    return ZoneInfo(_config["time_zone"])


def locale_from_accept_language(header: str | None) -> str | None:
    """The best supported locale of an ``Accept-Language`` header (RFC 9110 §12.5.4), or None."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        fields = part.strip().split(";")
        tag = fields[0].strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for f in fields[1:]:
            f = f.strip()
            if f.startswith("q="):
                try:
                    quality = float(f[2:])
                except ValueError:
                    quality = 0.0
        low = tag.lower()
        if quality > 0 and (low.startswith("zh") or low.startswith("en")):
            choices.append((-quality, index, normalize_locale(tag)))
    return min(choices)[2] if choices else None


def locale_from_env(environ: dict[str, str]) -> str | None:
    """The CLI's locale from ``LC_ALL`` / ``LC_MESSAGES`` / ``LANG``; None for C/POSIX/unset
    (then the centre's default, zh_CN, applies)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        low = value.lower()
        if low.startswith("zh") or low.startswith("en"):
            return normalize_locale(value)
    return None


# --------------------------------------------------------------------------------------
# The catalog


class _Catalog:
    """msgid -> translation of one locale."""

    def __init__(self, entries: dict[str, str]) -> None:
        self.entries = entries

    def get(self, msgid: str) -> str:
        return self.entries.get(msgid) or msgid


@functools.lru_cache(maxsize=None)
def catalog(locale: str) -> _Catalog:
    """The compiled catalog of ``locale`` (the ``.mo`` when it is at least as new as the
    ``.po``, else the ``.po`` read directly). English is the msgids themselves."""
    if locale == "en":
        return _Catalog({})
    base = LOCALE_DIR / locale / "LC_MESSAGES"
    po, mo = base / f"{DOMAIN}.po", base / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        import gettext as _gettext

        with mo.open("rb") as f:
            trans = _gettext.GNUTranslations(f)
        return _Catalog(dict(trans._catalog))  # type: ignore[attr-defined]
    if not po.exists():
        return _Catalog({})
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        cat = read_po(f, locale=locale)
    entries = {}
    for m in cat:
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy:
            entries[m.id] = str(m.string)
    return _Catalog(entries)


def gettext(msgid: str, locale: str | None = None) -> str:
    """``msgid`` translated into ``locale`` (default: the current one)."""
    return catalog(locale or current_locale()).get(msgid)


def _(msgid: str, /, **params: Any) -> str:
    """Translate now and fill ``params`` (pages, CLI output): ``_("{n} items", n=3)``."""
    if params:
        return render(Message(msgid, **params))
    return gettext(msgid)


# --------------------------------------------------------------------------------------
# Rendering values


_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def local(dt: datetime) -> datetime:
    """``dt`` in the centre's time zone (a naive datetime is taken as UTC, as stored)."""
    aware = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return aware.astimezone(time_zone())


def format_datetime(dt: datetime | None, locale: str | None = None, *, seconds: bool = False) -> str:
    """``2026年12月6日 08:30`` (zh_CN) / ``6 Dec 2026, 08:30`` (en), in the centre's time zone."""
    if dt is None:
        return "—"
    t = local(dt)
    clock = f"{t:%H:%M:%S}" if seconds else f"{t:%H:%M}"
    if (locale or current_locale()) == "en":
        return f"{t.day} {_EN_MONTHS[t.month - 1]} {t.year}, {clock}"
    return f"{t.year}年{t.month}月{t.day}日 {clock}"


def format_date(d: date | datetime | None, locale: str | None = None) -> str:
    """``2026年12月6日`` / ``6 Dec 2026`` (a datetime is first moved to the centre's time zone)."""
    if d is None:
        return "—"
    if isinstance(d, datetime):
        d = local(d).date()
    if (locale or current_locale()) == "en":
        return f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"
    return f"{d.year}年{d.month}月{d.day}日"


def format_time(dt: datetime | None) -> str:
    """``08:30`` in the centre's time zone."""
    return "—" if dt is None else f"{local(dt):%H:%M}"


def _enum_label(value: enum.Enum, locale: str) -> str:
    if locale != "en":
        title = getattr(value, "title_zh", None)  # levels: 五级/初级工
        zh = title if isinstance(title, str) else getattr(value, "zh", None)
        if isinstance(zh, str):
            return zh
    raw = value.value
    return str(raw).replace("_", " ") if isinstance(raw, str) else str(raw)


def word(value: enum.Enum, locale: str | None = None) -> str:
    """An enum value in the reader's words: 理论知识, 五级/初级工 (English: its code's words)."""
    return _enum_label(value, locale or current_locale())


def _value_formatter(locale: str):  # type: ignore[no-untyped-def]
    sep = ", " if locale == "en" else "、"

    def fmt(value: Any) -> Any:
        if isinstance(value, Sentences):
            return ("; " if locale == "en" else "；").join(str(v) for v in value)
        if isinstance(value, list):
            return sep.join(str(v) for v in value)
        if isinstance(value, datetime):
            return format_datetime(value, locale)
        if isinstance(value, date):
            return format_date(value, locale)
        if isinstance(value, enum.Enum):
            return _enum_label(value, locale)
        return value

    return fmt


def render(message: Text | FieldMessage, locale: str | None = None) -> str:
    """``message`` in ``locale`` (default: the current one); a plain string is returned as is.
    A message's stored form (``Message.to_data()``, e.g. from a run report) is rendered too."""
    if isinstance(message, FieldMessage):
        message = message.as_message()
    if isinstance(message, dict) and ("$message" in message or "$field_message" in message):
        message = from_storable(message)  # a stored message (``to_storable``)
        if isinstance(message, FieldMessage):
            message = message.as_message()
    if isinstance(message, dict) and "msgid" in message:
        message = Message.from_data(message)
    if not isinstance(message, Message):
        return "" if message is None else str(message)
    loc = locale or current_locale()
    cat = catalog(loc)
    return render_with(message, cat.get, _value_formatter(loc))


def for_storage(message: Text) -> str:
    """Words the system writes that become data people edit or look up later (a default
    blueprint name, a batch's note): rendered once in the centre's language (the configured
    default locale, zh_CN), whoever's request made them. Words shown again in each reader's
    language are stored as messages instead (:func:`to_storable`)."""
    return render(message, _config["locale"])


def render_all(messages: Sequence[Text], locale: str | None = None) -> list[str]:
    return [render(m, locale) for m in messages]


# --------------------------------------------------------------------------------------
# Messages inside stored JSON (reports, ledger details, run results)


def to_storable(value: Any) -> Any:
    """``value`` (dicts, lists, messages, plain values) as JSON: each message becomes
    ``{"$message": {...}}`` so that :func:`from_storable` gives it back and it is rendered in
    the reader's locale when shown."""
    if isinstance(value, (Message, FieldMessage)):
        return _value_to_data(value)
    if isinstance(value, dict):
        return {str(k): to_storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_storable(v) for v in value]
    return value


def from_storable(value: Any) -> Any:
    """The inverse of :func:`to_storable`: stored messages become :class:`Message` again."""
    if isinstance(value, dict):
        if len(value) == 1 and ("$message" in value or "$field_message" in value):
            return _value_from_data(value)
        return {k: from_storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_storable(v) for v in value]
    return value


def plain_params(message: Any, locale: str | None = None) -> dict[str, Any]:
    """The parameters of ``message`` as plain JSON for programs (the API's ``error.params``):
    nested messages rendered in ``locale``, enums as their values, times in ISO 8601."""
    if not isinstance(message, Message):
        return {}

    def plain(value: Any) -> Any:
        if isinstance(value, (Message, FieldMessage)):
            return render(value, locale)
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        return value.item() if hasattr(value, "item") else str(value)

    return {k: plain(v) for k, v in message.params.items()}


def render_tree(value: Any, locale: str | None = None) -> Any:
    """``value`` with every message rendered in ``locale`` (JSON answers of the API)."""
    if isinstance(value, (Message, FieldMessage)):
        return render(value, locale)
    if isinstance(value, dict):
        return {k: render_tree(v, locale) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render_tree(v, locale) for v in value]
    return value


_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[:!][^{}]*)?\}(?!\})")


def placeholders(template: str) -> set[str]:
    """The named fields of a template (the catalog test checks translations keep them)."""
    return set(_PLACEHOLDER.findall(template))


# --------------------------------------------------------------------------------------
# Field labels: how a problem about an input field names the field (FieldMessage), in the
# reader's locale. Request fields of the API, item content, forms and element tables.

FIELD_LABELS = {
    "request": N_("request"), "body": N_("request body"), "url": N_("address"), "file": N_("file"),
    "D": N_("scaling constant D"), "analysis": N_("analysis / scoring standard"), "anchor": N_("anchor items"),
    "answer_sheet": N_("answer sheet"), "application_id": N_("application number"), "applied_on": N_("date of application"),
    "assemble_if_needed": N_("assemble when needed"), "bank_id": N_("bank"), "batch_code": N_("batch code"),
    "batch_ref": N_("committee batch reference"), "blueprint": N_("blueprint"), "blueprint_id": N_("blueprint"),
    "candidate_id": N_("candidate number"), "capacities": N_("capacities"), "capacity": N_("capacity"),
    "category": N_("occupation category"), "certificate_level": N_("certificate level"),
    "certificate_no": N_("certificate number"), "chief_staff_id": N_("chief proctor"), "clause": N_("clause"),
    "code": N_("code"), "codes": N_("codes"), "comment": N_("comment"), "completed_on": N_("date completed"),
    "content": N_("item content"), "criteria": N_("scoring criteria"), "decision": N_("decision"),
    "declaration": N_("declaration"), "deputy_staff_id": N_("deputy proctor"), "description": N_("description"),
    "difficulty_rating": N_("difficulty"), "documents": N_("supporting documents"), "dry_run": N_("check only"),
    "education": N_("education"), "education_related": N_("related speciality"), "element_codes": N_("elements"),
    "email": N_("e-mail"), "employer": N_("employer"), "ends_at": N_("end time"), "equipment": N_("equipment"),
    "estimated_time_s": N_("estimated time (seconds)"), "exam_session_code": N_("exam session"),
    "formulation": N_("formulation"), "grade": N_("grade"), "holder_name": N_("holder's name"),
    "id_number": N_("document number"), "id_type": N_("type of identity document"), "importance": N_("importance"),
    "issued_on": N_("date of issue"), "item_type": N_("item type"), "items": N_("items"), "key": N_("key"),
    "kind": N_("kind"), "leader_staff_id": N_("group leader"), "level": N_("level"), "limit": N_("page size"),
    "location": N_("location"), "max_overlap": N_("maximum overlap"), "meeting": N_("meeting"),
    "member_staff_ids": N_("group members"), "members": N_("committee members"), "minimum": N_("minimum"),
    "mode": N_("import mode"), "model": N_("model"), "n_backups": N_("number of backup papers"),
    "n_forms": N_("number of papers"), "name": N_("name"), "nodes": N_("element table rows"), "note": N_("note"),
    "number": N_("number"), "objective": N_("objective"), "occupation": N_("occupation"),
    "occupation_code": N_("occupation code"), "offset": N_("start position"), "opinion": N_("opinion"),
    "options": N_("options"), "organisation": N_("organisation"), "paper_code": N_("paper code"),
    "paper_codes": N_("papers"), "parent_code": N_("parent code"), "part": N_("part"), "passed": N_("passed"),
    "password": N_("password"), "phone": N_("phone"), "place": N_("place"), "plan_code": N_("exam plan"),
    "points": N_("points"), "polytomous_model": N_("polytomous model"), "practice": N_("practice paper"),
    "prior_certificate": N_("prior certificate"), "prior_certificate_related": N_("related occupation"),
    "raised_by": N_("raised by"), "raised_on": N_("date raised"), "reason": N_("reason"),
    "recipient": N_("recipient"), "rel_gap": N_("relative gap"), "resolution": N_("answer"),
    "responses": N_("answers"), "return_codes": N_("items to return"), "reviewer": N_("reviewer"),
    "role": N_("role"), "roles": N_("roles"), "room_code": N_("room"), "rubric": N_("scoring points"),
    "rubric_scores": N_("scores per scoring point"), "run_id": N_("assembly run"), "score": N_("score"),
    "seed": N_("random seed"), "session_code": N_("exam session"), "set_code": N_("set code"),
    "solver": N_("solver"), "spec": N_("specification"), "staff_id": N_("staff member"),
    "starts_at": N_("start time"), "starts_on": N_("start date"), "state": N_("state"), "status": N_("status"),
    "stem": N_("question text"), "text": N_("text"), "time_allowed_min": N_("time allowed (minutes)"),
    "time_limit_min": N_("time limit (minutes)"), "time_limit_s": N_("solver time limit (seconds)"),
    "title": N_("title"), "title_name": N_("professional title"), "title_rank": N_("professional title rank"),
    "training_completed": N_("training completed"), "username": N_("user name"), "version": N_("version"),
    "version_id": N_("item version"), "version_ids": N_("item versions"), "weight": N_("weight"),
    "work_type": N_("work type"), "year": N_("year"), "years_in_occupation": N_("years in the occupation"),
    "years_of_work": N_("years of work"), "years_since_prior": N_("years since the prior certificate"),
    "writer": N_("writer"), "q": N_("search text"), "rules": N_("analysis rules"), "actor": N_("who acts"),
    "calibration_id": N_("calibration"),
}
register_field_labels(FIELD_LABELS)


install_renderer(lambda message, locale: render(message, locale))
