"""User accounts and their roles (administrators only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import PagingDep, SessionDep, require
from api.schemas.common import In, Page
from itembank import accounts
from itembank.domain import Actor, Role

router = APIRouter(prefix="/users", tags=["users"])
AdminDep = Annotated[Actor, require(Role.ADMIN)]
UsernamePath = Annotated[str, Path(min_length=1, max_length=64)]


class RoleIO(BaseModel):
    role: Role
    occupation_code: str | None = Field(None, max_length=32, description="None: every occupation.")


class RoleIn(In):
    role: Role
    occupation_code: str | None = Field(None, max_length=32, description="None: every occupation.")


class UserIn(In):
    username: str = Field(max_length=64)
    password: str = Field(max_length=200)
    display_name: str = Field("", max_length=100)
    roles: list[RoleIn] = Field(max_length=50)


class UserOut(BaseModel):
    username: str
    display_name: str
    active: bool
    roles: list[RoleIO]

    @classmethod
    def of(cls, u: accounts.User) -> UserOut:
        return cls(username=u.username, display_name=u.display_name, active=u.active,
                   roles=[RoleIO(role=r, occupation_code=c) for r, c in u.roles])


class RolesIn(In):
    roles: list[RoleIn] = Field(max_length=50)


class ActiveIn(In):
    active: bool


@router.get("", response_model=Page[UserOut], summary="List the user accounts")
def list_users(session: SessionDep, actor: AdminDep, paging: PagingDep, role: Role | None = None,
               active: bool | None = None) -> dict:
    found = [u for u in accounts.list_users(session)
             if (role is None or any(r is role for r, _ in u.roles)) and (active is None or u.active is active)]
    return paging.page([UserOut.of(u) for u in found])


@router.post("", response_model=UserOut, status_code=201, summary="Create a user account")
def create_user(body: UserIn, session: SessionDep, actor: AdminDep) -> UserOut:
    user = accounts.create_user(session, username=body.username, password=body.password,
                                display_name=body.display_name,
                                roles=[(r.role, r.occupation_code) for r in body.roles], actor=actor.username)
    session.commit()
    return UserOut.of(user)


@router.put("/{username}/roles", response_model=UserOut, summary="Replace a user's roles")
def set_roles(username: UsernamePath, body: RolesIn, session: SessionDep, actor: AdminDep) -> UserOut:
    user = accounts.set_roles(session, username=username, roles=[(r.role, r.occupation_code) for r in body.roles],
                              actor=actor.username)
    session.commit()
    return UserOut.of(user)


@router.put("/{username}/active", response_model=UserOut, summary="Enable or disable an account")
def set_active(username: UsernamePath, body: ActiveIn, session: SessionDep, actor: AdminDep) -> UserOut:
    """A disabled account is logged out at once (its tokens are revoked)."""
    user = accounts.set_active(session, username=username, active=body.active, actor=actor.username)
    session.commit()
    return UserOut.of(user)


class UnlockIn(In):
    client: str | None = Field(None, max_length=64, description="Only the failures from this address.")


class UnlockOut(BaseModel):
    username: str
    cleared: int


@router.post("/{username}/unlock", response_model=UnlockOut, summary="Clear an account's failed logins")
def unlock(username: UsernamePath, body: UnlockIn, session: SessionDep, actor: AdminDep) -> UnlockOut:
    """The account may log in at once again (from every address, or from ``client``); ledgered."""
    accounts.get_user(session, username=username)
    n = accounts.unlock(session, username=username, actor=actor.username, client=body.client)
    session.commit()
    return UnlockOut(username=username, cleared=n)
