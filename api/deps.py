"""Dependencies as ``Annotated`` aliases: the database session, the current user, role checks,
settings and paging."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.schemas.common import MAX_OFFSET, Paging
from itembank.accounts import User, hash_token, user_for_token
from itembank.orm_accounts import ApiTokenRecord, UserRecord, UserRoleRecord
from itembank.config import Settings
from itembank.domain import Actor, Role
from itembank.errors import AuthenticationError, ItemBankError, PermissionDeniedError
from itembank.i18n import Message
from lifecycle.config import LifecycleSettings

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


class BusyError(ItemBankError):
    """The database stayed busy (locked by other writers, or a conflict that retries did not
    resolve): 503 with Retry-After; nothing was written."""

    code = "busy"
    retry_after_s = 2


class RoleRequiredError(PermissionDeniedError):
    """The user holds none of the roles an operation needs (refused before anything is read).
    Other 403s (``permission_denied``) are need-to-know refusals about one object."""

    code = "role_required"


# Dependencies that do no I/O are ``async``: FastAPI runs them on the event loop instead of
# handing each to a worker thread (a thread hop per dependency per request adds up).


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_lifecycle_settings(request: Request) -> LifecycleSettings:
    return request.app.state.lifecycle_settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the route commits once, anything else is rolled back.

    No lock of this process is held: on SQLite the transaction reads from its snapshot without
    waiting and takes the database's write lock only for its writes (``itembank.db``); on
    PostgreSQL writers follow the one lock order (``itembank.ledger``). Conflicts the database
    reports are retried whole (``api.retry``) or answered 503 with Retry-After (``api.errors``)."""
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
LifecycleSettingsDep = Annotated[LifecycleSettings, Depends(get_lifecycle_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]  # closed before the response is sent
TokenDep = Annotated[str | None, Depends(oauth2)]
async def get_paging(
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="How many entries to skip."),
    limit: int = Query(50, ge=1, le=500, description="At most this many entries (1–500)."),
) -> Paging:
    return Paging(offset, limit)


PagingDep = Annotated[Paging, Depends(get_paging)]


TOKEN_CACHE_S = 5.0
"""How long a checked token is trusted without asking the database again. In this process any
change to accounts, roles or tokens (a logout, a disabled account, a role taken away) empties
the cache at its commit; a change made by another process takes effect there within this
many seconds."""


class TokenCache:
    """Token hash -> (user, until). Brief and bounded; never the only record of anything."""

    MAX = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, tuple[User, float, datetime]] = {}

    def get(self, key: str) -> User | None:
        with self._lock:
            hit = self._users.get(key)
        if hit is None:
            return None
        user, until, expires_at = hit
        if time.monotonic() >= until or datetime.now(timezone.utc) >= expires_at:
            with self._lock:
                self._users.pop(key, None)
            return None
        return user

    def put(self, key: str, user: User, expires_at: datetime) -> None:
        with self._lock:
            if len(self._users) >= self.MAX:
                self._users.clear()
            self._users[key] = (user, time.monotonic() + TOKEN_CACHE_S, expires_at)

    def clear(self) -> None:
        with self._lock:
            self._users.clear()


tokens = TokenCache()
_ACCOUNT_RECORDS = (UserRecord, UserRoleRecord, ApiTokenRecord)


@event.listens_for(Session, "after_flush")
def _accounts_changed(session: Session, _context: object) -> None:
    if any(isinstance(obj, _ACCOUNT_RECORDS) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["accounts_changed"] = True


@event.listens_for(Session, "after_commit")
def _forget_tokens(session: Session) -> None:
    if session.info.pop("accounts_changed", False):
        tokens.clear()


def _check_token(maker: Callable[[], Session], token: str) -> tuple[User, datetime]:
    with maker() as session:
        user = user_for_token(session, token=token)
        expires_at = session.scalar(select(ApiTokenRecord.expires_at).where(
            ApiTokenRecord.token_hash == hash_token(token)))
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=timezone.utc)
    return user, expires_at or datetime.now(timezone.utc)


async def get_current_user(request: Request, token: TokenDep) -> User:
    """The user of the bearer token: from the brief cache (``TOKEN_CACHE_S``, no database, no
    thread hop), else checked in a short session of its own."""
    if not token:
        raise AuthenticationError(Message("Log in first: send 'Authorization: Bearer <token>' (POST /auth/token)."))
    key = hash_token(token)
    user = tokens.get(key)
    if user is None:
        user, expires_at = await run_in_threadpool(_check_token, request.app.state.sessionmaker, token)
        tokens.put(key, user, expires_at)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_actor(user: CurrentUser) -> Actor:
    return user.actor()


CurrentActor = Annotated[Actor, Depends(get_actor)]


def check_roles(actor: Actor, *roles: Role) -> Actor:
    """Refuse (``RoleRequiredError``) unless ``actor`` holds one of ``roles`` for at least one
    occupation; admin passes. The first, coarse check of the API and the web pages: the
    occupation of the object is checked next (``check_scope``), pair by pair."""
    if actor.has_role(*roles):
        return actor
    raise RoleRequiredError(Message("{user} may not do this: it needs one of the roles {roles}.", user=actor.username,
                                    roles=list(roles)))


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """Dependency: the user holds one of ``roles`` (admin always passes). Occupation scope is
    checked by the route once it knows the occupation (``check_scope``)."""

    async def _check(actor: CurrentActor) -> Actor:
        return check_roles(actor, *roles)

    _check.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the permission test
    return Depends(_check)


def require_everywhere(*roles: Role):  # type: ignore[no-untyped-def]
    """Dependency: the user holds one of ``roles`` for every occupation (centre-wide
    registers; ``check_centre_wide``). Without the role at all: ``role_required``; with it for
    some occupations only: ``permission_denied``."""

    async def _check(actor: CurrentActor) -> Actor:
        check_roles(actor, *roles)
        check_centre_wide(actor, *roles)
        return actor

    _check.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the permission test
    return Depends(_check)


def check_scope(actor: Actor, occupation_code: str, *roles: Role) -> None:
    """Refuse unless the actor holds one of ``roles`` *for* ``occupation_code`` (a grant of
    that role for that occupation or for every one; 附件12 第9条 need-to-know)."""
    if any(actor.has(r, occupation_code=occupation_code) for r in roles):
        return
    raise PermissionDeniedError(Message(
        "{user} holds no role {roles} for occupation {occupation}; ask an administrator",
        user=actor.username, roles=list(roles), occupation=occupation_code))


def check_centre_wide(actor: Actor, *roles: Role) -> None:
    """Refuse unless the actor holds one of ``roles`` for every occupation: registers that
    belong to the whole centre (the staff register with ID numbers, the ledger, retention)."""
    if any(actor.has_everywhere(r) for r in roles):
        return
    raise PermissionDeniedError(Message(
        "{user} may not read or change this centre-wide register: it needs the role {roles} for every "
        "occupation, not for some", user=actor.username, roles=list(roles)))
