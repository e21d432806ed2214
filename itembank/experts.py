"""The expert register (专家信息库, 附件11 第19条): item writers and reviewers with their
qualifications and the occupations they may work for.

Rule (附件11 第10条(一)): a writer has worked in the occupation for at least 5 years and holds
the occupation's 技师 (level 2) certificate or higher, or an intermediate or higher
professional title (中级及以上专业技术职务). We hold reviewers to the same bar: they judge the
same content (第15条). 第10条(三): an expert with a past quality or confidentiality problem
is suspended and may do neither. The check runs when an occupation is granted and again at
every act (``require_expert``), so a later suspension takes effect at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from itembank import ledger
from itembank.domain import Actor, Level, Role
from itembank.errors import (
    ConflictError,
    NotFoundError,
    NotQualifiedError,
    PermissionDeniedError,
    ValidationError,
)
from itembank.i18n import FieldMessage, Message
from itembank.orm import OccupationRecord
from itembank.orm_workflow import ExpertRecord, ExpertRole, ExpertScopeRecord, TitleRank

__all__ = [
    "MIN_YEARS_IN_OCCUPATION",
    "Expert",
    "ExpertRole",
    "ExpertScope",
    "TitleRank",
    "get_expert",
    "grant_scope",
    "list_experts",
    "qualification_problems",
    "register_expert",
    "require_expert",
    "revoke_scope",
    "suspend_expert",
    "reinstate_expert",
]

MIN_YEARS_IN_OCCUPATION = 5  # 附件11 第10条(一)
MIN_CERTIFICATE_LEVEL = Level.L2  # 技师 or higher (level numbers fall as levels rise)
MIN_TITLE_RANK = TitleRank.INTERMEDIATE
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@\-]{1,100}$")


@dataclass(frozen=True, slots=True)
class ExpertScope:
    occupation_code: str
    role: ExpertRole
    years_in_occupation: int
    certificate_level: Level | None
    certificate_no: str = ""
    note: str = ""
    granted_by: str = ""
    granted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Expert:
    username: str
    name: str
    organisation: str
    title_rank: TitleRank
    title_name: str
    scopes: tuple[ExpertScope, ...]
    suspended_reason: str = ""

    @property
    def suspended(self) -> bool:
        return bool(self.suspended_reason)

    def scope(self, occupation_code: str, role: ExpertRole) -> ExpertScope | None:
        for s in self.scopes:
            if s.occupation_code == occupation_code and s.role is role:
                return s
        return None


def qualification_problems(
    *, years_in_occupation: int, certificate_level: Level | int | None, title_rank: TitleRank
) -> list[Message]:
    """What an expert lacks under 附件11 第10条(一), in words; empty when qualified."""
    problems: list[Message] = []
    if years_in_occupation < MIN_YEARS_IN_OCCUPATION:
        problems.append(Message(
            "{years} year(s) in the occupation; at least {minimum} are required (附件11 第10条(一))",
            years=years_in_occupation, minimum=MIN_YEARS_IN_OCCUPATION))
    cert_ok = certificate_level is not None and int(certificate_level) <= int(MIN_CERTIFICATE_LEVEL)
    title_ok = TitleRank(title_rank).rank >= MIN_TITLE_RANK.rank
    if not cert_ok and not title_ok:
        if certificate_level is not None:
            problems.append(Message(
                "holds a level {level} certificate and the professional title rank {title}; needs a level 2 "
                "(技师) certificate or higher, or an intermediate or higher professional title (附件11 第10条(一))",
                level=Level(certificate_level), title=TitleRank(title_rank)))
        else:
            problems.append(Message(
                "holds no certificate in the occupation and the professional title rank {title}; needs a level 2 "
                "(技师) certificate or higher, or an intermediate or higher professional title (附件11 第10条(一))",
                title=TitleRank(title_rank)))
    return problems


# --------------------------------------------------------------------------------------
# Record <-> domain


def _to_domain(rec: ExpertRecord) -> Expert:
    return Expert(
        username=rec.username,
        name=rec.name,
        organisation=rec.organisation,
        title_rank=rec.title_rank,
        title_name=rec.title_name,
        suspended_reason=rec.suspended_reason,
        scopes=tuple(
            ExpertScope(
                occupation_code=s.occupation_code,
                role=s.role,
                years_in_occupation=s.years_in_occupation,
                certificate_level=Level(s.certificate_level) if s.certificate_level is not None else None,
                certificate_no=s.certificate_no,
                note=s.note,
                granted_by=s.granted_by,
                granted_at=s.granted_at,
            )
            for s in rec.scopes
        ),
    )


def _record(session: Session, username: str) -> ExpertRecord:
    rec = session.scalar(
        select(ExpertRecord).where(ExpertRecord.username == username).options(selectinload(ExpertRecord.scopes))
    )
    if rec is None:
        raise NotFoundError(
            Message("{username} is not in the expert register; register them first.", username=username),
            field="username", code="expert_not_found",
        )
    return rec


def _require_manager(actor: Actor, *, occupation_code: str | None = None) -> None:
    """A bank manager for ``occupation_code``; without one (registering a person, who may
    work nowhere yet), a bank manager of some occupation."""
    ok = (actor.has_role(Role.BANK_MANAGER) if occupation_code is None
          else actor.has(Role.BANK_MANAGER, occupation_code=occupation_code))
    if not ok:
        raise PermissionDeniedError(
            Message("{user} may not change the expert register for occupation {occupation}: it needs the role "
                    "{role}.", user=actor.username, occupation=occupation_code, role=Role.BANK_MANAGER)
            if occupation_code else
            Message("{user} may not change the expert register: it needs the role {role}.", user=actor.username,
                    role=Role.BANK_MANAGER)
        )


def _require_manager_of(actor: Actor, rec: ExpertRecord, *, every: bool) -> None:
    """Suspending bars an expert everywhere: a bank manager of one occupation the expert
    works for may do it at once (附件11 第10条(三)). Lifting it (``every``) needs a bank
    manager of every occupation the expert works for."""
    occupations = sorted({s.occupation_code for s in rec.scopes})
    if not occupations:
        _require_manager(actor)
        return
    held = [actor.has(Role.BANK_MANAGER, occupation_code=o) for o in occupations]
    if all(held) if every else any(held):
        return
    if every:
        raise PermissionDeniedError(Message(
            "{user} may not reinstate expert {expert}: it needs the bank manager role for every occupation the "
            "expert works for ({occupations})", user=actor.username, expert=rec.username, occupations=occupations))
    raise PermissionDeniedError(Message(
        "{user} may not suspend expert {expert}: it needs the bank manager role for one of the occupations the "
        "expert works for ({occupations})", user=actor.username, expert=rec.username, occupations=occupations))


# --------------------------------------------------------------------------------------
# Services


def register_expert(
    session: Session,
    *,
    actor: Actor,
    username: str,
    name: str,
    organisation: str = "",
    title_rank: TitleRank | str = TitleRank.NONE,
    title_name: str = "",
) -> Expert:
    """Add a person to the register (no occupation yet: see ``grant_scope``)."""
    _require_manager(actor)
    errors: list[FieldMessage] = []
    if not USERNAME_RE.match(username or ""):
        errors.append(FieldMessage("username", Message(
            "'{username}': use 1-100 letters, digits, '.', '_', '-' or '@'", username=username)))
    if not (name or "").strip():
        errors.append(FieldMessage("name", Message("the expert's name is empty")))
    try:
        rank = TitleRank(title_rank)
    except ValueError:
        errors.append(FieldMessage("title_rank", Message("'{value}' is not a title rank; use one of {ranks}",
                                                         value=title_rank, ranks=[t.value for t in TitleRank])))
        rank = TitleRank.NONE
    if errors:
        raise ValidationError(Message("Expert {username} was not registered.", username=username), errors=errors)
    if session.scalar(select(ExpertRecord.id).where(ExpertRecord.username == username)) is not None:
        raise ConflictError(Message("{username} is already in the expert register.", username=username),
                            field="username", code="expert_exists")
    rec = ExpertRecord(username=username, name=name.strip(), organisation=organisation.strip(),
                       title_rank=rank, title_name=title_name.strip(), suspended_reason="",
                       created_by=actor.username)
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor.username, action="expert.register", object_type="expert",
                  object_id=username, details={"name": rec.name, "organisation": rec.organisation,
                                               "title_rank": rank.value, "title_name": rec.title_name})
    return _to_domain(_record(session, username))


def grant_scope(
    session: Session,
    *,
    actor: Actor,
    username: str,
    occupation_code: str,
    role: ExpertRole | str,
    years_in_occupation: int,
    certificate_level: Level | int | None = None,
    certificate_no: str = "",
    note: str = "",
) -> Expert:
    """Let an expert write or review for an occupation, after checking 附件11 第10条(一).

    Granting again updates the stored qualification (e.g. more years, a new certificate).
    Raises ``NotQualifiedError`` naming every missing qualification; nothing is stored then.
    """
    _require_manager(actor, occupation_code=occupation_code)
    role = ExpertRole(role)
    rec = _record(session, username)
    if session.scalar(select(OccupationRecord.id).where(OccupationRecord.code == occupation_code).limit(1)) is None:
        raise NotFoundError(Message("There is no occupation {code}; register it first.", code=occupation_code),
                            field="occupation_code", code="occupation_not_found")
    if not isinstance(years_in_occupation, int) or years_in_occupation < 0:
        raise ValidationError(Message("The years in the occupation must be a whole number of 0 or more, not "
                                      "{value}.", value=years_in_occupation), field="years_in_occupation")
    level = Level.parse(certificate_level) if certificate_level is not None else None
    missing = qualification_problems(years_in_occupation=years_in_occupation, certificate_level=level,
                                     title_rank=rec.title_rank)
    if rec.suspended_reason:
        missing.append(Message("suspended from expert work: {reason} (附件11 第10条(三))",
                               reason=rec.suspended_reason))
    if missing:
        raise NotQualifiedError(
            Message("{name} ({username}) cannot be registered as {role} for occupation {occupation}.",
                    name=rec.name, username=username, role=role, occupation=occupation_code),
            missing=missing,
        )
    scope = next((s for s in rec.scopes if s.occupation_code == occupation_code and s.role is role), None)
    if scope is None:
        scope = ExpertScopeRecord(occupation_code=occupation_code, role=role)
        rec.scopes.append(scope)
    scope.years_in_occupation = years_in_occupation
    scope.certificate_level = int(level) if level is not None else None
    scope.certificate_no = certificate_no
    scope.note = note
    scope.granted_by = actor.username
    session.flush()
    ledger.append(session, actor=actor.username, action="expert.grant", object_type="expert",
                  object_id=username, details={"occupation": occupation_code, "role": role.value,
                                               "years": years_in_occupation,
                                               "certificate_level": int(level) if level else None,
                                               "certificate_no": certificate_no})
    return _to_domain(rec)


def revoke_scope(session: Session, *, actor: Actor, username: str, occupation_code: str,
                 role: ExpertRole | str, reason: str) -> Expert:
    _require_manager(actor, occupation_code=occupation_code)
    role = ExpertRole(role)
    if not reason.strip():
        raise ValidationError(Message("Say why the occupation is withdrawn from the expert."), field="reason")
    rec = _record(session, username)
    scope = next((s for s in rec.scopes if s.occupation_code == occupation_code and s.role is role), None)
    if scope is None:
        raise NotFoundError(Message("{username} is not registered as {role} for occupation {occupation}.",
                                    username=username, role=role, occupation=occupation_code), field="role",
                            code="expert_scope_not_found")
    rec.scopes.remove(scope)
    session.flush()
    ledger.append(session, actor=actor.username, action="expert.revoke", object_type="expert",
                  object_id=username, details={"occupation": occupation_code, "role": role.value,
                                               "reason": reason})
    return _to_domain(rec)


def suspend_expert(session: Session, *, actor: Actor, username: str, reason: str) -> Expert:
    """Bar an expert from all work (附件11 第10条(三)): quality or confidentiality problem."""
    if not reason.strip():
        raise ValidationError(Message("Say why the expert is suspended."), field="reason")
    rec = _record(session, username)
    _require_manager_of(actor, rec, every=False)
    rec.suspended_reason = reason.strip()
    session.flush()
    ledger.append(session, actor=actor.username, action="expert.suspend", object_type="expert",
                  object_id=username, details={"reason": reason})
    return _to_domain(rec)


def reinstate_expert(session: Session, *, actor: Actor, username: str, reason: str) -> Expert:
    rec = _record(session, username)
    _require_manager_of(actor, rec, every=True)
    rec.suspended_reason = ""
    session.flush()
    ledger.append(session, actor=actor.username, action="expert.reinstate", object_type="expert",
                  object_id=username, details={"reason": reason})
    return _to_domain(rec)


def get_expert(session: Session, *, username: str) -> Expert:
    return _to_domain(_record(session, username))


def list_experts(
    session: Session, *, occupation_code: str | None = None, role: ExpertRole | str | None = None
) -> list[Expert]:
    q = select(ExpertRecord).options(selectinload(ExpertRecord.scopes)).order_by(ExpertRecord.username)
    if occupation_code is not None or role is not None:
        sub = select(ExpertScopeRecord.expert_id)
        if occupation_code is not None:
            sub = sub.where(ExpertScopeRecord.occupation_code == occupation_code)
        if role is not None:
            sub = sub.where(ExpertScopeRecord.role == ExpertRole(role))
        q = q.where(ExpertRecord.id.in_(sub))
    return [_to_domain(r) for r in session.scalars(q)]


def require_expert(
    session: Session, *, username: str, occupation_code: str, role: ExpertRole
) -> ExpertScope:
    """The expert's scope for ``occupation_code``/``role``, or ``NotQualifiedError`` saying
    what is missing: not registered, registered for other occupations only, suspended, or
    (after a rule change) no longer qualified."""
    rec = session.scalar(
        select(ExpertRecord).where(ExpertRecord.username == username).options(selectinload(ExpertRecord.scopes))
    )
    what = Message("{role} for occupation {occupation}", role=role, occupation=occupation_code)
    if rec is None:
        raise NotQualifiedError(
            Message("{username} may not act as {what}.", username=username, what=what),
            missing=[Message("{username} is not in the expert register (附件11 第19条); a bank manager registers "
                             "them with their qualifications", username=username)],
        )
    missing: list[Message] = []
    scope = next((s for s in rec.scopes if s.occupation_code == occupation_code and s.role is role), None)
    if scope is None:
        others = sorted({s.occupation_code for s in rec.scopes if s.role is role})
        missing.append(
            Message("registered as {role} for occupations {others} only, not for {occupation}", role=role,
                    others=others, occupation=occupation_code)
            if others else Message("not registered as {role} for any occupation", role=role)
        )
    else:
        missing += qualification_problems(
            years_in_occupation=scope.years_in_occupation,
            certificate_level=scope.certificate_level,
            title_rank=rec.title_rank,
        )
    if rec.suspended_reason:
        missing.append(Message("suspended from expert work: {reason} (附件11 第10条(三))",
                               reason=rec.suspended_reason))
    if missing:
        raise NotQualifiedError(Message("{name} ({username}) may not act as {what}.", name=rec.name,
                                        username=username, what=what), missing=missing)
    return _to_domain(rec).scope(occupation_code, role)  # type: ignore[return-value]
