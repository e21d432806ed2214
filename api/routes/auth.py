from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel

from api.deps import CurrentUser, SessionDep, SettingsDep, TokenDep
from api.schemas.common import Text
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


@router.post("/token", response_model=TokenOut, summary="Log in: get a bearer token")
def login(request: Request, session: SessionDep, settings: SettingsDep,
          username: Annotated[Text, Form(min_length=1, max_length=64)],
          password: Annotated[Text, Form(min_length=1, max_length=200)]) -> TokenOut:
    """Exchange username and password (form fields, OAuth2 password flow) for a bearer token.
    Failed logins are rate limited per user and per address."""
    client = request.client.host if request.client else ""
    try:
        user = accounts.authenticate(session, username=username, password=password, client=client)
    except AuthenticationError:
        session.rollback()
        accounts.record_failure(session, username=username, client=client)
        session.commit()  # the failure must count although the login fails
        raise
    issued = accounts.issue_token(session, user=user,
                                  lifetime=timedelta(hours=settings.token_lifetime_hours))
    session.commit()
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


@router.post("/logout", status_code=204, summary="Log out: revoke this token")
def logout(session: SessionDep, user: CurrentUser, token: TokenDep) -> None:
    """Revoke the token used for this request."""
    accounts.revoke_token(session, token=token or "", actor=user.username)
    session.commit()


@router.get("/me", response_model=MeOut, summary="Who am I: username and roles")
def me(user: CurrentUser) -> MeOut:
    return MeOut(username=user.username, display_name=user.display_name,
                 roles=[(r.value, c) for r, c in user.roles])
