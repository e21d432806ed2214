"""Dependencies as ``Annotated`` aliases: the database session, the current user, role checks,
settings and paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.schemas.common import MAX_OFFSET, Paging
from itembank.accounts import User, user_for_token
from itembank.config import Settings
from itembank.domain import Actor, Role
from itembank.errors import AuthenticationError, ItemBankError, PermissionDeniedError
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


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    if not token:
        raise AuthenticationError("log in first: send 'Authorization: Bearer <token>' (POST /auth/token)")
    return user_for_token(session, token=token)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_actor(user: CurrentUser) -> Actor:
    return user.actor()


CurrentActor = Annotated[Actor, Depends(get_actor)]


def check_roles(actor: Actor, *roles: Role) -> Actor:
    """Refuse (``RoleRequiredError``) unless ``actor`` holds one of ``roles``; admin passes.
    The one role check of the API and the web pages."""
    if Role.ADMIN in actor.roles or actor.roles & set(roles):
        return actor
    names = "、".join(r.zh for r in roles)
    raise RoleRequiredError(f"{actor.username} may not do this; it needs the role {names}")


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """Dependency: the user holds one of ``roles`` (admin always passes). Occupation scope is
    checked by the route once it knows the occupation (``check_scope``)."""

    async def _check(actor: CurrentActor) -> Actor:
        return check_roles(actor, *roles)

    _check.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the permission test
    return Depends(_check)


def check_scope(actor: Actor, occupation_code: str, *roles: Role) -> None:
    """Refuse unless one of ``roles`` covers ``occupation_code`` (附件12 第9条 need-to-know)."""
    if any(actor.has(r, occupation_code=occupation_code) for r in roles):
        return
    raise PermissionDeniedError(
        f"{actor.username} has no role for occupation {occupation_code}; ask an administrator"
    )
