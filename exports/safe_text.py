"""Exports never fail on stored text: every public function of ``exports`` receives its domain
objects with the characters XML cannot hold replaced by U+FFFD (``itembank.textcheck``).

New text is refused where it enters; this covers what was stored before that check existed
(or reached the database another way): one bad stem must not make every readiness or paper
export answer 500 for everyone."""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from itembank.i18n import FieldMessage, Message
from itembank.textcheck import xml_safe

F = TypeVar("F", bound=Callable[..., Any])


def cleaned(value: Any) -> Any:
    """``value`` with unsafe characters replaced in every string it holds (dataclasses, tuples,
    lists, dicts); the same object when nothing changes."""
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, (enum.Enum, int, float, bytes)) or value is None:
        return value
    if isinstance(value, Message):  # stored text inside a message's parameters (a rule's note ...)
        params = {k: cleaned(v) for k, v in value.params.items()}
        return value if all(params[k] is value.params[k] for k in params) else Message(value.msgid, **params)
    if isinstance(value, FieldMessage):
        message, where = cleaned(value.message), cleaned(value.where)
        if message is value.message and where is value.where:
            return value
        return FieldMessage(value.field, message, where=where, labelled=value.labelled)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = cleaned(old)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if type(value) in (tuple, list):
        items = [cleaned(v) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else type(value)(items)
    if type(value) is dict:
        items = {cleaned(k): cleaned(v) for k, v in value.items()}
        same = all(a is b for a, b in zip(items, value)) and all(items[k] is value[k] for k in value if k in items)
        return value if same and len(items) == len(value) else items
    return value


def safe_text(fn: F) -> F:
    """Wrap an export function so that its arguments are :func:`cleaned`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*(cleaned(a) for a in args), **{k: cleaned(v) for k, v in kwargs.items()})

    return wrapper  # type: ignore[return-value]


__all__ = ["cleaned", "safe_text"]
