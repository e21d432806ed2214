"""Errors raised by the analysis package.

Solver outcomes are data: non-convergence or a model the data cannot identify is reported in
the result (``status``, ``converged=False``, ``problems``), not raised. Exceptions are for
input the analysis cannot work with, and they name the field, item or person at fault.

The text is a :class:`~analysis.messages.Message` (an English template of the message catalog
and its parameters; rendered in the reader's locale at the edge). By convention a parameter
named ``item`` holds an item index and ``items`` a list of item indices, so that a caller who
knows the items' codes can put them in their place (``with_items``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from analysis.messages import Message, Text, render


class AnalysisError(Exception):
    """Base class of every error raised by :mod:`analysis`.

    ``text`` keeps the message as data; ``message`` and ``str()`` render it in the current
    locale (English unless the edge installed its catalog).
    """

    def __init__(self, message: Text) -> None:
        super().__init__(message)
        self.text: Text = message

    @property
    def message(self) -> str:
        return render(self.text)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.text.params) if isinstance(self.text, Message) else {}

    def __str__(self) -> str:
        return self.message


class InvalidInputError(AnalysisError, ValueError):
    """Input data or parameters are malformed (wrong shape, out of range, inconsistent)."""


class InsufficientDataError(AnalysisError, ValueError):
    """The data cannot identify what was asked for (e.g. an item with one observed category)."""


def with_items(message: Text, name_of: Callable[[int], Any]) -> Text:
    """``message`` with its ``item`` / ``items`` parameters (item indices) replaced by
    ``name_of(index)`` (e.g. the item's code), recursively through nested messages."""
    if not isinstance(message, Message):
        return message
    params: dict[str, Any] = {}
    for key, value in message.params.items():
        if key == "item" and isinstance(value, (int, np.integer)):
            params[key] = name_of(int(value))
        elif key == "items" and isinstance(value, Sequence) and not isinstance(value, str):
            params[key] = [name_of(int(v)) for v in value]
        elif isinstance(value, Message):
            params[key] = with_items(value, name_of)
        else:
            params[key] = value
    return Message(message.msgid, **params)
