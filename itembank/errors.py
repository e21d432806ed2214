"""Errors of the item bank. Every message names the occupation, level, element, item, row or
field concerned and says what to do; ``api/errors.py`` maps these to HTTP codes.

Messages are :class:`~analysis.messages.Message` objects (an English template and its
parameters, the key into the message catalog) or final strings. An error keeps them as data
(``text``, and the listed problems in ``errors`` / ``shortfalls`` / ``missing`` ...);
``message`` and ``str()`` render them in the current locale (``itembank.i18n``).
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.messages import Message, Text, render


def _listing(head: Text, items: Sequence[Text]) -> Text:
    """``head`` followed by one indented line per item (rendered when read)."""
    if not items:
        return head
    return _Listing(head, tuple(items))


class _Listing:
    """A head message with a list under it; renders lazily like a message."""

    __slots__ = ("head", "items")

    def __init__(self, head: Text, items: tuple[Text, ...]) -> None:
        self.head = head
        self.items = items

    def __str__(self) -> str:
        return render(self.head) + "\n" + "\n".join(f"  - {render(i)}" for i in self.items)


class ItemBankError(Exception):
    """Base class. ``field`` names the offending input field where there is one; ``code`` is
    the stable code of the error family (the API's ``error.code``)."""

    code = "itembank_error"

    def __init__(self, message: Text, *, field: str | None = None) -> None:
        super().__init__(message)
        self.text: Text | _Listing = message
        self.field = field

    @property
    def message(self) -> str:
        """The message in the current locale (with the listed problems, one per line)."""
        return render(self.text) if isinstance(self.text, (str, Message)) else str(self.text)

    @property
    def head(self) -> str:
        """The first line: the message without its list."""
        text = self.text.head if isinstance(self.text, _Listing) else self.text
        return render(text)

    @property
    def params(self) -> dict[str, object]:
        text = self.text.head if isinstance(self.text, _Listing) else self.text
        return dict(text.params) if isinstance(text, Message) else {}

    def __str__(self) -> str:
        return self.message


class NotFoundError(ItemBankError):
    code = "not_found"


class ConflictError(ItemBankError):
    """The request contradicts the current state (duplicate code, wrong workflow state ...)."""

    code = "conflict"


class ValidationError(ItemBankError):
    """Bad input. ``errors`` lists every problem found, not only the first."""

    code = "validation_error"

    def __init__(
        self, message: Text, *, errors: Sequence[Text] = (), field: str | None = None
    ) -> None:
        self.errors = list(errors) or [message]
        super().__init__(message, field=field)
        self.text = _listing(message, list(errors))


class OccupationNotFiledError(ConflictError):
    code = "occupation_not_filed"


class ElementTableError(ValidationError):
    code = "element_table_invalid"


class ItemValidationError(ValidationError):
    code = "item_invalid"


class BankNotReadyError(ConflictError):
    """A bank below its minimums may not issue an official paper (附件11 第7条)."""

    code = "bank_not_ready"

    def __init__(self, message: Text, *, shortfalls: Sequence[Text] = ()) -> None:
        self.shortfalls = list(shortfalls)
        super().__init__(message)
        self.text = _listing(message, self.shortfalls)


class PermissionDeniedError(ItemBankError):
    code = "permission_denied"


class AuthenticationError(ItemBankError):
    """Wrong credentials, or a missing, expired or revoked token."""

    code = "not_authenticated"


class TooManyAttemptsError(ItemBankError):
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


# --------------------------------------------------------------------------------------
# Authoring workflow, expert register, import / export (issue 3)


class WorkflowError(ConflictError):
    """A workflow act that the item's current state does not allow (wrong state, wrong
    batch, nothing to do). ``from_state``/``to_state`` name the refused move when there is one."""

    code = "workflow_conflict"

    def __init__(
        self, message: str, *, from_state: str | None = None, to_state: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.from_state = from_state
        self.to_state = to_state


class NotQualifiedError(PermissionDeniedError):
    """An expert lacks a qualification of 附件11 第10条; ``missing`` lists each one in words."""

    code = "not_qualified"

    def __init__(self, message: Text, *, missing: Sequence[Text] = (), field: str | None = None) -> None:
        self.missing = list(missing)
        super().__init__(message, field=field)
        self.text = _listing(message, self.missing)


class ImportFileError(ValidationError):
    """A file to import (xlsx, csv, QTI) has problems; nothing was written.

    ``problems`` holds every problem with its sheet, row and column (``ImportProblem``)."""

    code = "import_invalid"

    def __init__(self, message: str, *, problems: Sequence[object] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message, errors=[str(p) for p in problems])
