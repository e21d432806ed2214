from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import CurrentUser, SessionDep, SettingsDep, TokenDep
from itembank import accounts
from itembank.errors import AuthenticationError

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class MeOut(BaseModel):
    username: str
    display_name: str
    roles: list[tuple[str, str | None]]


@router.post("/token", response_model=TokenOut)
def login(request: Request, session: SessionDep, settings: SettingsDep,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """Exchange username and password for a bearer token (rate limited per user and address)."""
    client = request.client.host if request.client else ""
    try:
        user = accounts.authenticate(session, username=form.username, password=form.password, client=client)
    except AuthenticationError:
        session.rollback()
        accounts.record_failure(session, username=form.username, client=client)
        session.commit()  # the failure must count although the login fails
        raise
    issued = accounts.issue_token(session, user=user,
                                  lifetime=timedelta(hours=settings.token_lifetime_hours))
    session.commit()
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


@router.post("/logout", status_code=204)
def logout(session: SessionDep, user: CurrentUser, token: TokenDep) -> None:
    """Revoke the token used for this request."""
    accounts.revoke_token(session, token=token or "", actor=user.username)
    session.commit()


@router.get("/me", response_model=MeOut)
def me(user: CurrentUser) -> MeOut:
    return MeOut(username=user.username, display_name=user.display_name,
                 roles=[(r.value, c) for r, c in user.roles])
