from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import SessionDep, require
from itembank import accounts
from itembank.domain import Actor, Role

router = APIRouter(prefix="/users", tags=["users"])
AdminDep = Annotated[Actor, require(Role.ADMIN)]


class RoleIO(BaseModel):
    role: Role
    occupation_code: str | None = None


class UserIn(BaseModel):
    username: str
    password: str
    display_name: str = ""
    roles: list[RoleIO]


class UserOut(BaseModel):
    username: str
    display_name: str
    active: bool
    roles: list[RoleIO]

    @classmethod
    def of(cls, u: accounts.User) -> UserOut:
        return cls(username=u.username, display_name=u.display_name, active=u.active,
                   roles=[RoleIO(role=r, occupation_code=c) for r, c in u.roles])


class RolesIn(BaseModel):
    roles: list[RoleIO]


class ActiveIn(BaseModel):
    active: bool


@router.get("", response_model=list[UserOut])
def list_users(session: SessionDep, actor: AdminDep) -> list[UserOut]:
    return [UserOut.of(u) for u in accounts.list_users(session)]


@router.post("", response_model=UserOut, status_code=201)
def create_user(body: UserIn, session: SessionDep, actor: AdminDep) -> UserOut:
    user = accounts.create_user(session, username=body.username, password=body.password,
                                display_name=body.display_name,
                                roles=[(r.role, r.occupation_code) for r in body.roles], actor=actor.username)
    session.commit()
    return UserOut.of(user)


@router.put("/{username}/roles", response_model=UserOut)
def set_roles(username: str, body: RolesIn, session: SessionDep, actor: AdminDep) -> UserOut:
    user = accounts.set_roles(session, username=username, roles=[(r.role, r.occupation_code) for r in body.roles],
                              actor=actor.username)
    session.commit()
    return UserOut.of(user)


@router.put("/{username}/active", response_model=UserOut)
def set_active(username: str, body: ActiveIn, session: SessionDep, actor: AdminDep) -> UserOut:
    user = accounts.set_active(session, username=username, active=body.active, actor=actor.username)
    session.commit()
    return UserOut.of(user)
