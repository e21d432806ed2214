"""Dependencies as ``Annotated`` aliases: the database session, the current user, role checks,
settings and paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.schemas.common import Paging
from itembank.accounts import User, user_for_token
from itembank.config import Settings
from itembank.domain import Actor, Role
from itembank.errors import AuthenticationError, PermissionDeniedError
from lifecycle.config import LifecycleSettings

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


class RoleRequiredError(PermissionDeniedError):
    """The user holds none of the roles an operation needs (refused before anything is read).
    Other 403s (``permission_denied``) are need-to-know refusals about one object."""

    code = "role_required"


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_lifecycle_settings(request: Request) -> LifecycleSettings:
    return request.app.state.lifecycle_settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the route commits once, anything else is rolled back."""
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
LifecycleSettingsDep = Annotated[LifecycleSettings, Depends(get_lifecycle_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
TokenDep = Annotated[str | None, Depends(oauth2)]
PagingDep = Annotated[Paging, Depends()]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    if not token:
        raise AuthenticationError("log in first: send 'Authorization: Bearer <token>' (POST /auth/token)")
    return user_for_token(session, token=token)


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_actor(user: CurrentUser) -> Actor:
    return user.actor()


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """Dependency: the user holds one of ``roles`` (admin always passes). Occupation scope is
    checked by the route once it knows the occupation (``check_scope``)."""

    def _check(actor: CurrentActor) -> Actor:
        if Role.ADMIN in actor.roles or actor.roles & set(roles):
            return actor
        names = "、".join(r.zh for r in roles)
        raise RoleRequiredError(f"{actor.username} may not do this; it needs the role {names}")

    _check.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the permission test
    return Depends(_check)


def check_scope(actor: Actor, occupation_code: str, *roles: Role) -> None:
    """Refuse unless one of ``roles`` covers ``occupation_code`` (附件12 第9条 need-to-know)."""
    if any(actor.has(r, occupation_code=occupation_code) for r in roles):
        return
    raise PermissionDeniedError(
        f"{actor.username} has no role for occupation {occupation_code}; ask an administrator"
    )
