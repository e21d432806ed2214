"""Users, roles, passwords and bearer tokens.

Passwords are stored only as Argon2id hashes (argon2-cffi); tokens are random 256-bit
values of which only the SHA-256 is stored; they expire and can be revoked. Failed logins
are rate limited per username and per client address. Confidentiality: 附件12, 附件11 第23条.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.domain import Actor, Role
from itembank.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    TooManyAttemptsError,
    ValidationError,
)
from itembank.i18n import FieldMessage, Message
from itembank.orm_accounts import (
    ApiTokenRecord,
    LoginFailureRecord,
    UserRecord,
    UserRoleRecord,
)

TOKEN_LIFETIME = timedelta(hours=8)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20
MIN_PASSWORD_LENGTH = 10
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    active: bool
    roles: tuple[tuple[Role, str | None], ...]  # (role, occupation code or None for all)

    def actor(self) -> Actor:
        return actor_from_roles(self.username, self.roles)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str  # shown once; only its hash is stored
    expires_at: datetime
    user: User


def actor_from_roles(username: str, roles: Iterable[tuple[Role, str | None]]) -> Actor:
    roles = list(roles)
    codes = {code for _, code in roles if code}
    unscoped = any(code is None for _, code in roles)
    return Actor(
        username=username,
        roles=frozenset(r for r, _ in roles),
        occupation_codes=None if unscoped or not roles else frozenset(codes),
    )


def _user(rec: UserRecord) -> User:
    return User(
        id=rec.id,
        username=rec.username,
        display_name=rec.display_name,
        active=rec.active,
        roles=tuple((r.role, r.occupation_code or None) for r in rec.roles),
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def password_problems(password: str, *, username: str = "") -> list[FieldMessage]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(FieldMessage("password", Message("needs at least {n} characters", n=MIN_PASSWORD_LENGTH)))
    classes = sum(bool(re.search(p, password)) for p in (r"[A-Za-z]", r"\d", r"[^A-Za-z0-9]"))
    if classes < 2:
        problems.append(FieldMessage("password", Message(
            "must mix at least two of: letters, digits, other characters")))
    if username and username.lower() in password.lower():
        problems.append(FieldMessage("password", Message("must not contain the user name")))
    return problems


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: Sequence[tuple[Role | str, str | None]],
    display_name: str = "",
    actor: str,
) -> User:
    """Create a user with roles, each for every occupation (None) or one occupation code."""
    errors = []
    if not USERNAME_RE.match(username or ""):
        errors.append(FieldMessage("username", Message(
            "'{username}' is not allowed; use 3-64 letters, digits, '.', '_' or '-'", username=username)))
    errors += password_problems(password, username=username)
    parsed: list[tuple[Role, str | None]] = []
    for role, code in roles:
        try:
            parsed.append((Role(role), code or None))
        except ValueError:
            errors.append(FieldMessage("roles", Message("'{role}' is not a role; use one of {roles}", role=str(role),
                                                        roles=[r.value for r in Role])))
    if not parsed and not errors:
        errors.append(FieldMessage("roles", Message("give the user at least one role")))
    if errors:
        raise ValidationError(Message("The user {username} was not created.", username=username), errors=errors)
    if session.scalar(select(UserRecord.id).where(UserRecord.username == username)) is not None:
        raise ConflictError(Message("The user {username} already exists; choose another user name.",
                                    username=username), field="username")
    rec = UserRecord(username=username, display_name=display_name, password_hash=_hasher.hash(password))
    rec.roles = [UserRoleRecord(role=r, occupation_code=c or "") for r, c in dict.fromkeys(parsed)]
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="user.create", object_type="user", object_id=username,
                  details={"roles": [[r.value, c] for r, c in parsed]})
    return _user(rec)


def get_user(session: Session, *, username: str) -> User:
    rec = session.scalar(select(UserRecord).where(UserRecord.username == username))
    if rec is None:
        raise NotFoundError(Message("There is no user {username}.", username=username), field="username")
    return _user(rec)


def list_users(session: Session) -> list[User]:
    return [_user(r) for r in session.scalars(select(UserRecord).order_by(UserRecord.username))]


def set_roles(session: Session, *, username: str, roles: Sequence[tuple[Role | str, str | None]], actor: str) -> User:
    rec = session.scalar(select(UserRecord).where(UserRecord.username == username))
    if rec is None:
        raise NotFoundError(Message("There is no user {username}.", username=username), field="username")
    try:
        parsed = [(Role(r), c or None) for r, c in roles]
    except ValueError as e:
        raise ValidationError(Message("{role_list} contains a role that does not exist; use one of {roles}",
                                      role_list=[str(r) for r, _c in roles], roles=[r.value for r in Role]),
                              field="roles") from e
    rec.roles.clear()
    session.flush()
    rec.roles.extend(UserRoleRecord(role=r, occupation_code=c or "") for r, c in dict.fromkeys(parsed))
    session.flush()
    ledger.append(session, actor=actor, action="user.roles", object_type="user", object_id=username,
                  details={"roles": [[r.value, c] for r, c in parsed]})
    return _user(rec)


def set_active(session: Session, *, username: str, active: bool, actor: str) -> User:
    rec = session.scalar(select(UserRecord).where(UserRecord.username == username))
    if rec is None:
        raise NotFoundError(Message("There is no user {username}.", username=username), field="username")
    rec.active = active
    if not active:
        _revoke_all(session, user_id=rec.id)
    session.flush()
    ledger.append(session, actor=actor, action="user.active", object_type="user", object_id=username,
                  details={"active": active})
    return _user(rec)


def change_password(session: Session, *, username: str, new_password: str, actor: str) -> None:
    """Set a new password; every token of the user is revoked."""
    rec = session.scalar(select(UserRecord).where(UserRecord.username == username))
    if rec is None:
        raise NotFoundError(Message("There is no user {username}.", username=username), field="username")
    problems = password_problems(new_password, username=username)
    if problems:
        raise ValidationError(Message("The password of {username} was not changed.", username=username),
                              errors=problems, field="password")
    rec.password_hash = _hasher.hash(new_password)
    rec.password_changed_at = _now()
    _revoke_all(session, user_id=rec.id)
    session.flush()
    ledger.append(session, actor=actor, action="user.password", object_type="user", object_id=username)


def _revoke_all(session: Session, *, user_id: int) -> None:
    now = _now()
    for tok in session.scalars(
        select(ApiTokenRecord).where(ApiTokenRecord.user_id == user_id, ApiTokenRecord.revoked_at.is_(None))
    ):
        tok.revoked_at = now


def check_rate_limit(session: Session, *, username: str, client: str, now: datetime | None = None) -> None:
    now = now or _now()
    since = now - FAILURE_WINDOW
    by_user = session.scalar(
        select(func.count()).select_from(LoginFailureRecord)
        .where(LoginFailureRecord.username == username, LoginFailureRecord.at >= since)
    ) or 0
    by_client = session.scalar(
        select(func.count()).select_from(LoginFailureRecord)
        .where(LoginFailureRecord.client == client, LoginFailureRecord.at >= since)
    ) or 0 if client else 0
    if by_user >= MAX_FAILURES_PER_USER or by_client >= MAX_FAILURES_PER_CLIENT:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        raise TooManyAttemptsError(
            Message("Too many failed logins for {username}; wait {minutes} minutes or ask an administrator.",
                    username=username, minutes=minutes) if by_user >= MAX_FAILURES_PER_USER else
            Message("Too many failed logins from this address; wait {minutes} minutes or ask an administrator.",
                    minutes=minutes),
            retry_after_s=int(FAILURE_WINDOW.total_seconds()),
        )


def record_failure(session: Session, *, username: str, client: str, now: datetime | None = None) -> None:
    """Written in its own transaction by the caller, so a failed login is counted even though
    the login request itself fails."""
    session.add(LoginFailureRecord(username=username[:64], client=client[:64], at=now or _now()))
    session.flush()


def authenticate(session: Session, *, username: str, password: str, client: str = "",
                 now: datetime | None = None) -> User:
    """Check the password. Raises ``AuthenticationError`` (the caller records the failure)
    or ``TooManyAttemptsError``. The same message for unknown users and wrong passwords."""
    check_rate_limit(session, username=username, client=client, now=now)
    rec = session.scalar(select(UserRecord).where(UserRecord.username == username))
    try:
        _hasher.verify(rec.password_hash if rec else _DUMMY_HASH, password)
        ok = rec is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or rec is None:
        raise AuthenticationError(Message("Wrong user name or password."), field="password")
    if not rec.active:
        raise AuthenticationError(Message("The account {username} is disabled; ask an administrator.",
                                          username=username), field="username")
    if _hasher.check_needs_rehash(rec.password_hash):
        rec.password_hash = _hasher.hash(password)
    session.execute(delete(LoginFailureRecord).where(LoginFailureRecord.username == username))
    return _user(rec)


def issue_token(session: Session, *, user: User, lifetime: timedelta = TOKEN_LIFETIME,
                now: datetime | None = None) -> IssuedToken:
    now = now or _now()
    token = secrets.token_urlsafe(32)
    session.add(ApiTokenRecord(token_hash=hash_token(token), user_id=user.id, created_at=now,
                               expires_at=now + lifetime))
    session.flush()
    ledger.append(session, actor=user.username, action="auth.login", object_type="user", object_id=user.username)
    return IssuedToken(token=token, expires_at=now + lifetime, user=user)


def user_for_token(session: Session, *, token: str, now: datetime | None = None) -> User:
    now = now or _now()
    rec = session.scalar(select(ApiTokenRecord).where(ApiTokenRecord.token_hash == hash_token(token)))
    if rec is None:
        raise AuthenticationError(Message("This login is not known; log in again."))
    if rec.revoked_at is not None:
        raise AuthenticationError(Message("You have logged out; log in again."))
    if _aware(rec.expires_at) <= now:
        raise AuthenticationError(Message("Your login has expired; log in again."))
    user = session.get(UserRecord, rec.user_id)
    if user is None or not user.active:
        raise AuthenticationError(Message("The account is disabled; ask an administrator."))
    return _user(user)


def revoke_token(session: Session, *, token: str, actor: str) -> bool:
    rec = session.scalar(select(ApiTokenRecord).where(ApiTokenRecord.token_hash == hash_token(token)))
    if rec is None or rec.revoked_at is not None:
        return False
    rec.revoked_at = _now()
    session.flush()
    ledger.append(session, actor=actor, action="auth.logout", object_type="user", object_id=actor)
    return True
