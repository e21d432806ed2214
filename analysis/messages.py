"""User-visible text as data.

A :class:`Message` is an English template (the ``msgid`` of the project's one message
catalog) and its named parameters. Code everywhere builds messages; the edge (API error
bodies, pages, the CLI, documents) renders them in the reader's locale through the catalog
(``itembank.i18n``: zh_CN by default, English as the second locale).

This module is in the lowest layer so that both core packages (``analysis``, ``assembly``)
can use it. It does no I/O and knows no catalog: until the edge installs a renderer
(:func:`install_renderer`, done by importing ``itembank.i18n``), ``str(message)`` gives the
English text.

Templates use :meth:`str.format` fields with names (``"{count} items short"``); a field may
carry a format spec (``"{value:.2f}"``). Parameters may themselves be messages (rendered in
the same locale), datetimes (shown in the centre's time zone), enums and plain values.
Mark a constant that is translated later with :func:`N_` so that extraction finds it.
"""

from __future__ import annotations

import enum
import functools
import string
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any


def _message(msgid: str, params: dict[str, Any]) -> "Message":
    return Message(msgid, **params)


def N_(msgid: str) -> str:  # noqa: N802 (gettext's name)
    """Mark ``msgid`` for the catalog without translating it now (a constant rendered later)."""
    return msgid


class Message:
    """An English template and its parameters, rendered in the reader's locale by ``str()``.

    Messages are immutable, hashable and comparable; :meth:`to_data` / :meth:`from_data`
    store one as JSON (the stored form of notes and reasons that are shown later, each time
    in the reader's locale)."""

    __slots__ = ("msgid", "params")

    msgid: str
    params: Mapping[str, Any]

    def __init__(self, msgid: str, /, **params: Any) -> None:
        object.__setattr__(self, "msgid", msgid)
        object.__setattr__(self, "params", dict(params))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Message is immutable")

    def __str__(self) -> str:
        return _renderer(self, None)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{dict(self.params)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # picklable (results cross process boundaries: the solver runs in a child process)
        return (_message, (self.msgid, dict(self.params)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.msgid, dict(self.params)) == (other.msgid, dict(other.params))

    def __hash__(self) -> int:
        return hash((self.msgid, tuple(sorted((k, repr(v)) for k, v in self.params.items()))))

    def english(self) -> str:
        """The text in English, whatever renderer is installed (logs, developers)."""
        return render_with(self, lambda msgid: msgid, _plain_value)

    def to_data(self) -> dict[str, Any]:
        """A JSON-safe form: ``{"msgid": ..., "params": {...}}``."""
        return {"msgid": self.msgid, "params": {k: _value_to_data(v) for k, v in self.params.items()}}

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | str) -> "Message":
        """The message that :meth:`to_data` stored; a plain string becomes a message of itself."""
        if isinstance(data, str):
            return cls(data)
        return cls(str(data["msgid"]), **{k: _value_from_data(v) for k, v in dict(data.get("params") or {}).items()})


Text = str | Message
"""What a user-visible field may hold: a message, or a string that is already final (a name,
an item's own content)."""


# --------------------------------------------------------------------------------------
# Problems about one input field


_FIELD_LABELS: dict[str, str] = {}


def register_field_labels(labels: Mapping[str, str]) -> None:
    """Name input fields for people: ``{"stem": N_("question text")}``. The label is a msgid,
    rendered in the reader's locale; a field without a label is shown by its own name."""
    _FIELD_LABELS.update(labels)


def field_label(field: str) -> Message | str:
    """The label of ``field`` (``options[2]`` and ``elements[2].max`` find ``options`` and
    ``max`` / ``elements``): a message, or the name itself when none is registered."""
    if field in _FIELD_LABELS:
        return Message(_FIELD_LABELS[field])
    parts = [p.split("[")[0] for p in field.split(".") if p]
    for name in reversed(parts):
        if name in _FIELD_LABELS:
            return Message(_FIELD_LABELS[name])
    return field


class FieldMessage:
    """A message about one input field: ``field`` is the machine name (a form field, a JSON
    path such as ``options[2]``), ``message`` says what is wrong, ``where`` optionally names
    the row or item. Renders as ``where: label: message`` in the reader's locale, so that
    pages can put the message beside the field and lists can show it whole."""

    __slots__ = ("field", "message", "where", "labelled")

    field: str | None
    message: "Text"
    where: "Text | None"
    labelled: bool

    def __init__(self, field: str | None, message: "Text", *, where: "Text | None" = None,
                 labelled: bool = True) -> None:
        """``labelled=False``: the text does not repeat the field's label (the message names
        it already); the field stays as data for the page."""
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "where", where)
        object.__setattr__(self, "labelled", labelled)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FieldMessage is immutable")

    def as_message(self) -> Message:
        """The whole text as one message (where, field label and message)."""
        field = self.field if self.labelled else None
        if field and self.where is not None:
            return Message("{where}: {field}: {message}", where=self.where, field=field_label(field),
                           message=self.message)
        if field:
            return Message("{field}: {message}", field=field_label(field), message=self.message)
        if self.where is not None:
            return Message("{where}: {message}", where=self.where, message=self.message)
        return self.message if isinstance(self.message, Message) else Message("{message}", message=self.message)

    def __str__(self) -> str:
        return _renderer(self.as_message(), None)

    def __repr__(self) -> str:
        return f"FieldMessage({self.field!r}, {self.message!r}, where={self.where!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldMessage) and (self.field, self.message, self.where, self.labelled) == (
            other.field, other.message, other.where, other.labelled)

    def __hash__(self) -> int:
        return hash((self.field, self.message, self.where, self.labelled))

    def english(self) -> str:
        return self.as_message().english()

    def to_data(self) -> dict[str, Any]:
        return {"field": self.field, "message": _value_to_data(self.message), "where": _value_to_data(self.where),
                "labelled": self.labelled}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> "FieldMessage":
        return cls(data.get("field"), _value_from_data(data.get("message")), where=_value_from_data(data.get("where")),
                   labelled=bool(data.get("labelled", True)))


# --------------------------------------------------------------------------------------
# Rendering


Translate = Callable[[str], str]
FormatValue = Callable[[Any], Any]


class _Fields(dict):  # type: ignore[type-arg]
    """Missing fields stay visible as ``{name}`` instead of failing the whole text."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _SafeFormatter(string.Formatter):
    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, int):
            return "{" + str(key) + "}"
        return kwargs[key]

    def format_field(self, value: Any, format_spec: str) -> str:
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


_FORMATTER = _SafeFormatter()


@functools.lru_cache(maxsize=4096)
def _fields_of(template: str) -> frozenset[str]:
    try:
        return frozenset(name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template)
                         if name)
    except ValueError:
        return frozenset({"\0invalid"})


def render_with(message: Message, translate: Translate, format_value: FormatValue) -> str:
    """Render ``message``: translate its template, render each parameter (messages
    recursively with the same functions, other values through ``format_value``) and fill the
    template. A translation whose fields do not fit falls back to the English template."""
    values = _Fields()
    for key, value in message.params.items():
        if isinstance(value, FieldMessage):
            value = value.as_message()
        if isinstance(value, Message):
            values[key] = render_with(value, translate, format_value)
        elif isinstance(value, (list, tuple)):
            rendered = [render_with(_as_message(v), translate, format_value)
                        if isinstance(v, (Message, FieldMessage)) else format_value(v) for v in value]
            # a list of sentences is joined with semicolons, a list of names with commas
            sentences = any(isinstance(v, (Message, FieldMessage)) for v in value)
            values[key] = format_value(Sentences(rendered) if sentences else rendered)
        else:
            values[key] = format_value(value)
    template = translate(message.msgid) or message.msgid
    if template is not message.msgid and not _fields_of(template) <= _fields_of(message.msgid):
        template = message.msgid  # a translation naming fields the msgid has not: never show "{m}"
    try:
        return _FORMATTER.vformat(template, (), values)
    except (IndexError, KeyError, ValueError, AttributeError):
        return _FORMATTER.vformat(message.msgid, (), values)


class Sentences(list):  # type: ignore[type-arg]
    """Rendered messages to be joined as sentences (``；`` in Chinese, ``; `` in English)."""


def _as_message(value: "Message | FieldMessage") -> Message:
    return value.as_message() if isinstance(value, FieldMessage) else value


def _plain_value(value: Any) -> Any:
    if isinstance(value, Sentences):
        return "; ".join(str(v) for v in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return value


def _default_renderer(message: Message, locale: str | None) -> str:
    return render_with(message, lambda msgid: msgid, _plain_value)


Renderer = Callable[[Message, "str | None"], str]
_renderer: Renderer = _default_renderer


def install_renderer(renderer: Renderer) -> None:
    """Install the edge's renderer (``itembank.i18n`` does this when it is imported)."""
    global _renderer
    _renderer = renderer


def render(message: "Text | FieldMessage", locale: str | None = None) -> str:
    """``message`` in ``locale`` (the current one when None); a plain string is returned as is."""
    if isinstance(message, FieldMessage):
        message = message.as_message()
    if isinstance(message, Message):
        return _renderer(message, locale)
    return str(message)


# --------------------------------------------------------------------------------------
# Stored form


def _value_to_data(value: Any) -> Any:
    if isinstance(value, Message):
        return {"$message": value.to_data()}
    if isinstance(value, FieldMessage):
        return {"$field_message": value.to_data()}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, enum.Enum):
        # kept with its class, so that it renders as the enum again (a level as 五级/初级工)
        cls = type(value)
        return {"$enum": f"{cls.__module__}:{cls.__qualname__}", "value": value.value}
    if isinstance(value, (list, tuple)):
        return [_value_to_data(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


_ENUM_PACKAGES = ("analysis.", "assembly.", "itembank.", "lifecycle.", "exports.", "api.")


def _enum_from_data(name: str, raw: Any) -> Any:
    """The enum member stored as ``module:Class`` and its value; the plain value when the class
    is not one of the project's (or no longer exists)."""
    import importlib

    module, _, qualname = name.partition(":")
    if not module.startswith(_ENUM_PACKAGES):
        return raw
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        return obj(raw)
    except (ImportError, AttributeError, ValueError, TypeError):
        return raw


def _value_from_data(value: Any) -> Any:
    if isinstance(value, dict):
        if "$message" in value:
            return Message.from_data(value["$message"])
        if "$field_message" in value:
            return FieldMessage.from_data(value["$field_message"])
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$enum" in value:
            return _enum_from_data(str(value["$enum"]), value.get("value"))
    if isinstance(value, list):
        return [_value_from_data(v) for v in value]
    return value
