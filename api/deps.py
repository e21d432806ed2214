"""Dependencies as ``Annotated`` aliases: the database session, the current user, role checks,
settings and paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.schemas.common import MAX_OFFSET, Paging
from itembank.accounts import User, user_for_token
from itembank.config import Settings
from itembank.domain import Actor, Role
from itembank.errors import AuthenticationError, ItemBankError, PermissionDeniedError
from itembank.i18n import Message
from lifecycle.config import LifecycleSettings

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


TURN_TIMEOUT_S = 30.0  # as SQLite's own busy timeout (itembank.db)


class BusyError(ItemBankError):
    """The database was busy with other requests for longer than ``TURN_TIMEOUT_S``."""

    code = "busy"


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

    On SQLite the requests of the process take turns for their transaction
    (``app.state.transaction_lock``): taken before the first statement, given back at the
    commit or rollback, so that building and sending the response overlaps the next request's
    transaction. A transaction a route opens after its commit goes without the turn (SQLite's
    own lock still keeps it correct)."""
    lock = getattr(request.app.state, "transaction_lock", None)
    session = request.app.state.sessionmaker()
    if lock is None:
        try:
            yield session
        finally:
            session.close()
        return
    held = [True]

    def give_back(*_: object) -> None:
        if held[0]:
            held[0] = False
            lock.release()

    if not lock.acquire(timeout=TURN_TIMEOUT_S):
        session.close()
        raise BusyError(Message("The database was busy for {seconds:g} seconds (a long import or export?); try again "
                                "in a moment.", seconds=TURN_TIMEOUT_S))
    event.listen(session, "after_commit", give_back)
    event.listen(session, "after_rollback", give_back)
    try:
        yield session
    finally:
        session.close()
        give_back()


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
        raise AuthenticationError(Message("Log in first: send 'Authorization: Bearer <token>' (POST /auth/token)."))
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
    raise RoleRequiredError(Message("{user} may not do this: it needs one of the roles {roles}.", user=actor.username,
                                    roles=list(roles)))


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
        Message("{user} has no role for occupation {occupation}; ask an administrator.", user=actor.username,
                occupation=occupation_code)
    )
