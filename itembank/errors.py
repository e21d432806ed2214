"""Errors of the item bank. Every message names the occupation, level, element, item, row or
field concerned and says what to do; ``api/errors.py`` maps these to HTTP codes.

Every error carries a stable ``code`` (the class's, or a finer one given where it is raised,
e.g. ``bank_not_found``) and its message as data: a
:class:`~analysis.messages.Message` (an English template and its parameters, the key into the
message catalog) or a final string, in ``text``; ``params`` are the message's parameters.
The problems an error lists (``errors``, and the same list under the names the subclasses
use: ``shortfalls``, ``missing``, ``reasons``) are messages too. ``message`` and ``str()``
render everything in the current locale (``itembank.i18n``), at the edge, when read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.messages import FieldMessage, Message, Text, render
from itembank.i18n import plain_params  # (importing it installs the catalog's renderer)

Listed = Text | FieldMessage
"""One listed problem: a message, a message about one field, or a final string."""


class _Listing:
    """A head message with a list under it; renders lazily like a message."""

    __slots__ = ("head", "items")

    def __init__(self, head: Text, items: tuple[Listed, ...]) -> None:
        self.head = head
        self.items = items

    def __str__(self) -> str:
        return render(self.head) + "\n" + "\n".join(f"  - {render(i)}" for i in self.items)


class ItemBankError(Exception):
    """Base class.

    ``code``: the stable code of the error (the API's ``error.code``); the class's unless a
    finer one is given. ``field`` names the offending input field where there is one.
    ``errors`` lists every problem found, not only the first (rendered under the message)."""

    code = "itembank_error"

    def __init__(self, message: Text, *, field: str | None = None, code: str | None = None,
                 errors: Sequence[Listed] = ()) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.field = field
        self.errors: list[Listed] = list(errors)
        self.head_text: Text = message
        self.text: Text | _Listing = _Listing(message, tuple(self.errors)) if self.errors else message

    @property
    def message(self) -> str:
        """The message in the current locale (with the listed problems, one per line)."""
        return render(self.text) if isinstance(self.text, (str, Message)) else str(self.text)

    @property
    def head(self) -> str:
        """The first line: the message without its list."""
        return render(self.head_text)

    @property
    def params(self) -> dict[str, Any]:
        """The message's parameters as plain JSON (nested messages rendered in the current
        locale, enums as their values, times in ISO 8601)."""
        return plain_params(self.head_text)

    def listed(self) -> list[str]:
        """Every listed problem in the current locale."""
        return [render(x) for x in self.errors]

    def __str__(self) -> str:
        return self.message


class NotFoundError(ItemBankError):
    code = "not_found"


class ConflictError(ItemBankError):
    """The request contradicts the current state (duplicate code, wrong workflow state ...)."""

    code = "conflict"


class ValidationError(ItemBankError):
    """Bad input. ``errors`` lists every problem found, not only the first (the message itself
    when there is no list)."""

    code = "validation_error"

    def __init__(self, message: Text, *, errors: Sequence[Listed] = (), field: str | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, errors=errors, field=field, code=code)
        if not self.errors:
            self.errors = [message]


class ConfigurationError(ValidationError, ValueError):
    """A setting of the centre (environment, ``.env``, key files, calendar) cannot be used;
    ``field`` names the setting. Also a ``ValueError``, as bad values are."""

    code = "configuration_invalid"


class OccupationNotFiledError(ConflictError):
    code = "occupation_not_filed"


class ElementTableError(ValidationError):
    code = "element_table_invalid"


class ItemValidationError(ValidationError):
    code = "item_invalid"


class BankNotReadyError(ConflictError):
    """A bank below its minimums may not issue an official paper (附件11 第7条)."""

    code = "bank_not_ready"

    def __init__(self, message: Text, *, shortfalls: Sequence[Listed] = (), code: str | None = None) -> None:
        super().__init__(message, errors=shortfalls, code=code)

    @property
    def shortfalls(self) -> list[Listed]:
        return self.errors


class PermissionDeniedError(ItemBankError):
    code = "permission_denied"


class AuthenticationError(ItemBankError):
    """Wrong credentials, or a missing, expired or revoked token."""

    code = "not_authenticated"


class TooManyAttemptsError(ItemBankError):
    code = "too_many_attempts"

    def __init__(self, message: Text, *, retry_after_s: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s


# --------------------------------------------------------------------------------------
# Authoring workflow, expert register, import / export (issue 3)


class WorkflowError(ConflictError):
    """A workflow act that the item's current state does not allow (wrong state, wrong
    batch, nothing to do). ``from_state``/``to_state`` name the refused move when there is one."""

    code = "workflow_conflict"

    def __init__(
        self, message: Text, *, from_state: str | None = None, to_state: str | None = None,
        field: str | None = None, code: str | None = None, errors: Sequence[Listed] = (),
    ) -> None:
        super().__init__(message, field=field, code=code, errors=errors)
        self.from_state = from_state
        self.to_state = to_state


class NotQualifiedError(PermissionDeniedError):
    """An expert lacks a qualification of 附件11 第10条; ``missing`` lists each one in words."""

    code = "not_qualified"

    def __init__(self, message: Text, *, missing: Sequence[Listed] = (), field: str | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, field=field, errors=missing, code=code)

    @property
    def missing(self) -> list[Listed]:
        return self.errors


class ImportFileError(ValidationError):
    """A file to import (xlsx, csv, QTI) has problems; nothing was written.

    ``problems`` holds every problem with its sheet, row and column (``ImportProblem``),
    sorted by sheet and row."""

    code = "import_invalid"

    def __init__(self, message: Text, *, problems: Sequence[Any] = (), code: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__(message, errors=[p.as_message() if hasattr(p, "as_message") else p
                                          for p in self.problems], code=code)
