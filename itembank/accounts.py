"""Users, roles, passwords and bearer tokens.

Passwords are stored only as Argon2id hashes (argon2-cffi) and must pass the password rule
(``itembank.passwords``: zxcvbn); tokens are random 256-bit values of which only the SHA-256 is
stored; they expire and can be revoked. Confidentiality: 附件12, 附件11 第23条.

Failed logins (the ``login_failures`` table, shared by every server process) are throttled:

- per (username, address): after ``FREE_FAILURES`` failures each further attempt must wait
  ``2**(n - FREE_FAILURES)`` seconds after the last failure, up to ``MAX_DELAY``; a success
  from that address clears them;
- per account: ``ACCOUNT_CAP`` failures within ``ACCOUNT_WINDOW`` from addresses the user never
  logged in from stop further attempts from *unknown* addresses only; an address the user logged
  in from successfully (``login_known_addresses``) keeps working, so a stranger cannot lock the
  owner out;
- per address: ``ADDRESS_CAP`` failures within ``ACCOUNT_WINDOW`` over any usernames (password
  spraying) stop that address.

A refused attempt is checked before the password, answers 429 with the seconds to wait, and
does not count. ``unlock`` (administrators: ``itembank users unlock``) clears the failures.
Unknown users, wrong passwords and disabled accounts get one and the same answer.
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
from itembank.domain import Actor, Grant, Role
from itembank.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    TooManyAttemptsError,
    ValidationError,
)
from itembank.i18n import FieldMessage, Message
from itembank.orm_accounts import ApiTokenRecord, KnownAddressRecord, LoginFailureRecord, UserRecord, UserRoleRecord
from itembank.passwords import password_problems

TOKEN_LIFETIME = timedelta(hours=8)
FREE_FAILURES = 3  # per (username, address) before the delays start
MAX_DELAY = timedelta(minutes=15)
PAIR_WINDOW = timedelta(hours=24)  # failures older than this are forgotten
ACCOUNT_WINDOW = timedelta(hours=1)
ACCOUNT_CAP = 30  # failures from unknown addresses per account per window
ADDRESS_CAP = 100  # failures per address over all usernames per window
KNOWN_FOR = timedelta(days=180)  # an address stays known this long after a success
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
    """The actor of a user's (role, occupation) pairs, kept pair by pair: a role's scope never
    spreads to the user's other roles (附件12 第9条)."""
    return Actor(username, grants=[Grant(Role(r), c or None) for r, c in roles])


def _parse_roles(roles: Sequence[tuple[Role | str, str | None]]) -> tuple[list[tuple[Role, str | None]], list]:
    """(role, occupation) pairs, and the problems: unknown roles; an administrator limited
    to one occupation (administrators act for the whole centre)."""
    parsed: list[tuple[Role, str | None]] = []
    errors: list = []
    for role, code in roles:
        try:
            r = Role(role)
        except ValueError:
            errors.append(FieldMessage("roles", Message("'{role}' is not a role; use one of {roles}", role=str(role),
                                                        roles=[x.value for x in Role])))
            continue
        if r is Role.ADMIN and code:
            errors.append(FieldMessage("roles", Message(
                "the administrator role is for every occupation; leave the occupation of admin empty (not "
                "{occupation})", occupation=code)))
            continue
        parsed.append((r, code or None))
    return parsed, errors


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
    errors += password_problems(password, username=username, display_name=display_name)
    parsed, role_errors = _parse_roles(roles)
    errors += role_errors
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


def _is_admin_row(r: UserRoleRecord) -> bool:
    return r.role is Role.ADMIN and not r.occupation_code


def _other_active_admins(session: Session, *, except_user_id: int) -> int:
    return session.scalar(
        select(func.count(func.distinct(UserRecord.id))).select_from(UserRecord)
        .join(UserRoleRecord, UserRoleRecord.user_id == UserRecord.id)
        .where(UserRecord.active.is_(True), UserRecord.id != except_user_id, UserRoleRecord.role == Role.ADMIN,
               UserRoleRecord.occupation_code == "")) or 0


def _keep_an_admin(session: Session, rec: UserRecord) -> None:
    """Refuse to leave the centre without an active administrator (nobody could manage the
    accounts any more)."""
    if _other_active_admins(session, except_user_id=rec.id) == 0:
        raise ConflictError(Message(
            "{user} is the last active administrator: make another account administrator first (itembank users "
            "add NAME --role admin), then try again", user=rec.username), field="username")


def set_roles(session: Session, *, username: str, roles: Sequence[tuple[Role | str, str | None]], actor: str) -> User:
    rec = session.scalar(select(UserRecord).where(UserRecord.username == username).with_for_update())
    if rec is None:
        raise NotFoundError(Message("There is no user {username}.", username=username), field="username")
    parsed, errors = _parse_roles(roles)
    if errors:
        raise ValidationError(Message("the roles of {user} were not changed", user=username), errors=errors,
                              field="roles")
    if rec.active and any(_is_admin_row(r) for r in rec.roles) and (Role.ADMIN, None) not in parsed:
        _keep_an_admin(session, rec)
    rec.roles.clear()
    session.flush()
    rec.roles.extend(UserRoleRecord(role=r, occupation_code=c or "") for r, c in dict.fromkeys(parsed))
    session.flush()
    ledger.append(session, actor=actor, action="user.roles", object_type="user", object_id=username,
                  details={"roles": [[r.value, c] for r, c in parsed]})
    return _user(rec)


def set_active(session: Session, *, username: str, active: bool, actor: str) -> User:
    """Enable or disable an account; disabling logs it out at once. The last active
    administrator cannot be disabled."""
    rec = session.scalar(select(UserRecord).where(UserRecord.username == username).with_for_update())
    if rec is None:
        raise NotFoundError(Message("There is no user {username}.", username=username), field="username")
    if not active and rec.active and any(_is_admin_row(r) for r in rec.roles):
        _keep_an_admin(session, rec)
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
    problems = password_problems(new_password, username=username, display_name=rec.display_name)
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


# --------------------------------------------------------------------------------------
# Login throttling (see the module docstring)


def pair_delay(n_failures: int) -> timedelta:
    """How long after the last failure of a (username, address) the next attempt must wait."""
    if n_failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (n_failures - FREE_FAILURES)), MAX_DELAY)


def _known(session: Session, *, username: str, client: str, now: datetime) -> bool:
    return session.scalar(select(KnownAddressRecord.id).where(
        KnownAddressRecord.username == username[:64], KnownAddressRecord.client == client[:64],
        KnownAddressRecord.last_success_at >= now - KNOWN_FOR)) is not None


def _wait(seconds: float) -> int:
    return max(1, int(seconds + 0.999))


def check_rate_limit(session: Session, *, username: str, client: str, now: datetime | None = None) -> None:
    """Refuse (``TooManyAttemptsError``, with the seconds to wait) an attempt the throttle does
    not allow now (see the module docstring)."""
    now = now or _now()
    user, addr = username[:64], client[:64]
    F = LoginFailureRecord
    n_pair, last = session.execute(
        select(func.count(), func.max(F.at)).where(F.username == user, F.client == addr, F.at >= now - PAIR_WINDOW)
    ).one()
    if last is not None:
        ready = _aware(last) + pair_delay(int(n_pair))
        if ready > now:
            raise TooManyAttemptsError(Message(
                "too many failed logins for {user} from this address; try again in {seconds} s, or ask an "
                "administrator to unlock the account", user=user, seconds=_wait((ready - now).total_seconds())),
                retry_after_s=_wait((ready - now).total_seconds()))
    since = now - ACCOUNT_WINDOW
    if addr:
        by_address = session.scalar(select(func.count()).select_from(F).where(F.client == addr, F.at >= since)) or 0
        if by_address >= ADDRESS_CAP:
            raise TooManyAttemptsError(Message(
                "too many failed logins from this address; try again in {minutes} minutes",
                minutes=int(ACCOUNT_WINDOW.total_seconds() // 60)), retry_after_s=int(ACCOUNT_WINDOW.total_seconds()))
    if not _known(session, username=user, client=addr, now=now):
        known = select(KnownAddressRecord.client).where(KnownAddressRecord.username == user,
                                                        KnownAddressRecord.last_success_at >= now - KNOWN_FOR)
        foreign = session.scalar(select(func.count()).select_from(F).where(
            F.username == user, F.at >= since, F.client.not_in(known))) or 0
        if foreign >= ACCOUNT_CAP:
            raise TooManyAttemptsError(Message(
                "too many failed logins for {user} from unknown addresses; the account accepts logins only from "
                "addresses it used before for the next {minutes} minutes, or ask an administrator to unlock it",
                user=user, minutes=int(ACCOUNT_WINDOW.total_seconds() // 60)),
                retry_after_s=int(ACCOUNT_WINDOW.total_seconds()))


def record_failure(session: Session, *, username: str, client: str, now: datetime | None = None) -> None:
    """Written in its own transaction by the caller, so a failed login is counted even though
    the login request itself fails."""
    session.add(LoginFailureRecord(username=username[:64], client=client[:64], at=now or _now()))
    session.flush()


def _record_success(session: Session, *, username: str, client: str, now: datetime) -> None:
    session.execute(delete(LoginFailureRecord).where(LoginFailureRecord.username == username,
                                                     LoginFailureRecord.client == client[:64]))
    rec = session.scalar(select(KnownAddressRecord).where(KnownAddressRecord.username == username,
                                                          KnownAddressRecord.client == client[:64]))
    if rec is None:
        session.add(KnownAddressRecord(username=username, client=client[:64], last_success_at=now))
    else:
        rec.last_success_at = now
    session.flush()


def unlock(session: Session, *, username: str, actor: str, client: str | None = None) -> int:
    """Clear the failed logins of ``username`` (from ``client`` only, when given); ledgered.
    Returns how many were cleared."""
    q = delete(LoginFailureRecord).where(LoginFailureRecord.username == username[:64])
    if client:
        q = q.where(LoginFailureRecord.client == client[:64])
    n = session.execute(q).rowcount or 0
    ledger.append(session, actor=actor, action="user.unlock", object_type="user", object_id=username,
                  details={"client": client, "cleared": n})
    return n


def authenticate(session: Session, *, username: str, password: str, client: str = "",
                 now: datetime | None = None) -> User:
    """Check the password. Raises ``AuthenticationError`` (the caller records the failure)
    or ``TooManyAttemptsError``. One answer for unknown users, wrong passwords and disabled
    accounts: a disabled account's owner learns nothing by trying."""
    now = now or _now()
    check_rate_limit(session, username=username, client=client, now=now)
    rec = session.scalar(select(UserRecord).where(UserRecord.username == username))
    try:
        _hasher.verify(rec.password_hash if rec else _DUMMY_HASH, password)
        ok = rec is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or rec is None or not rec.active:
        raise AuthenticationError(Message("Wrong user name or password."), field="password")
    if _hasher.check_needs_rehash(rec.password_hash):
        rec.password_hash = _hasher.hash(password)
    _record_success(session, username=username, client=client, now=now)
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
