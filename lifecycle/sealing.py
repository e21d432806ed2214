"""Sealed papers per exam session, the two-person opening, and incidents.

- Sealing (附件12 第1–2条, 附件1 第18条): for an exam session the service takes an assembled
  paper and its backup(s) of the session's bank and part (or assembles them), renders their
  documents through ``exports``, and stores them encrypted at rest (AES-256-GCM, one random
  key per sealed paper, itself wrapped with the centre's master key) with a manifest of the
  SHA-256 of every document. Documents, manifest, usage and ledger entry are written in one
  transaction: a sealed paper is stored whole or not at all. Usage of the main paper's items
  is recorded at sealing (the paper is issued to the session); a backup's when it is activated.
- Opening (附件7 第2条(3): two proctors fetch the papers together, 30 minutes before the exam;
  附件12 第4条 two people together): two different exam-office users must confirm within the
  session's window (from ``opening_lead_min`` before the start to the end); only then are the
  documents released, and every download is written to the ledger. The exam office never sees
  content before that.
- Incidents (附件16 三(三)1–2, (四)1): a leaked paper is void for every session it reached, its
  items are flagged compromised (never issued again), the session's backup is activated, and a
  replacement backup is assembled (leak re-assembly) and sealed for the session.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exports import export_paper
from itembank import assembly_service as asvc
from itembank import ledger
from itembank.domain import Actor, BankRef, PaperKind, Part, Role
from itembank.errors import (
    ConflictError,
    ItemBankError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from itembank.i18n import Message
from itembank.occupations import get_bank_by_id
from itembank.orm_assembly import PaperRecord, PaperStatus
from itembank.orm_lifecycle import ExamSessionRecord
from itembank.orm_sealing import (
    IncidentKind,
    IncidentRecord,
    OpeningConfirmationRecord,
    SealedDocumentRecord,
    SealedPaperRecord,
    SealRole,
    SealState,
)
from itembank.usage import mark_compromised, record_usage
from lifecycle.config import LifecycleSettings
from lifecycle.keys import master_key

log = logging.getLogger(__name__)

OPENERS_REQUIRED = 2


class OpeningRefusedError(ConflictError):
    """Opening or download refused: outside the window, one person only, not yet opened."""

    code = "opening_refused"


class TamperedError(ConflictError):
    """A sealed document fails its integrity check (changed or damaged at rest): 409, ledgered,
    nothing released."""

    code = "seal_tampered"


# --------------------------------------------------------------------------------------
# Keys


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"itembank-seal-key:" + key).hexdigest()[:16]


def _wrap(master: bytes, paper_key: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(master).encrypt(nonce, paper_key, aad)


def _unwrap(master: bytes, wrapped: bytes, aad: bytes) -> bytes:
    return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], aad)


# --------------------------------------------------------------------------------------
# Views


@dataclass(frozen=True, slots=True)
class SealedDocumentInfo:
    name: str
    kind: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class SealedPaperView:
    id: int
    paper_code: str
    exam_session_code: str
    role: SealRole
    state: SealState
    form_label: str
    sealed_by: str
    sealed_at: datetime
    opened_at: datetime | None
    activated_at: datetime | None
    confirmations: tuple[tuple[str, datetime], ...]  # exam-office users, in person
    window_opens_at: datetime
    window_closes_at: datetime
    documents: tuple[SealedDocumentInfo, ...]
    manifest_sha256: str
    state_reason: str
    override: tuple[str, datetime, str] | None = None  # administrator, when, reason


@dataclass(frozen=True, slots=True)
class SealingResult:
    exam_session_code: str
    main: SealedPaperView
    backups: tuple[SealedPaperView, ...]
    assembly_run_id: int | None


@dataclass(frozen=True, slots=True)
class IncidentView:
    code: str
    kind: IncidentKind
    paper_code: str
    exam_session_code: str
    description: str
    actions: dict
    reported_by: str
    reported_at: datetime


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def _window(srec: ExamSessionRecord, settings: LifecycleSettings) -> tuple[datetime, datetime]:
    return _aware(srec.starts_at) - timedelta(minutes=settings.opening_lead_min), _aware(srec.ends_at)


def _view(session: Session, rec: SealedPaperRecord, settings: LifecycleSettings) -> SealedPaperView:
    paper = session.get(PaperRecord, rec.paper_id)
    srec = session.get(ExamSessionRecord, rec.exam_session_id)
    assert paper is not None and srec is not None
    opens, closes = _window(srec, settings)
    return SealedPaperView(
        id=rec.id, paper_code=paper.code, exam_session_code=srec.code, role=SealRole(rec.role),
        state=SealState(rec.state), form_label=paper.form_label, sealed_by=rec.sealed_by, sealed_at=rec.sealed_at,
        opened_at=rec.opened_at, activated_at=rec.activated_at,
        confirmations=tuple((c.username, c.at) for c in rec.confirmations if not c.override_reason),
        override=next(((c.username, c.at, c.override_reason) for c in rec.confirmations if c.override_reason), None),
        window_opens_at=opens, window_closes_at=closes,
        documents=tuple(SealedDocumentInfo(d.name, d.kind, d.sha256, d.size) for d in rec.documents),
        manifest_sha256=rec.manifest_sha256, state_reason=rec.state_reason,
    )


def _exam_session(session: Session, code: str) -> ExamSessionRecord:
    rec = session.scalar(select(ExamSessionRecord).where(ExamSessionRecord.code == code))
    if rec is None:
        raise NotFoundError(Message("There is no exam session {session}.", session=code), field="exam_session_code",
                            code="session_not_found")
    return rec


def _require_office(actor: Actor, bank: BankRef) -> None:
    if not actor.has(Role.EXAM_OFFICE, occupation_code=bank.occupation.code):
        raise PermissionDeniedError(
            Message("{user} does not hold the role {role} for occupation {occupation}; only the exam office handles "
                    "sealed papers (附件12).", user=actor.username, role=Role.EXAM_OFFICE,
                    occupation=bank.occupation.code))


def _require_opener(actor: Actor, bank: BankRef) -> None:
    """An opener is a person holding the exam-office role for the paper's occupation: the
    administrator's general pass does not make anyone a second person (附件12 第4条)."""
    if not actor.holds(Role.EXAM_OFFICE, occupation_code=bank.occupation.code):
        raise PermissionDeniedError(Message(
            "{user} may not confirm the opening of a paper of occupation {occupation}: both openers must hold the "
            "exam office (考务) role for that occupation; an administrator may only stand in for the second "
            "person through an override with a reason (附件12 第4条)",
            user=actor.username, occupation=bank.occupation.code))


# --------------------------------------------------------------------------------------
# Sealing


def _claim(session: Session, *, bank_id: int, part: Part, kind: PaperKind, run_id: int | None,
           limit: int, exclude: Sequence[int] = ()) -> list[PaperRecord]:
    """Assembled, unused papers. PostgreSQL: locked ``FOR UPDATE SKIP LOCKED`` (never waits; a
    paper another request holds is skipped). SQLite: read from the snapshot in a random order
    (so that concurrent requests seldom pick the same one) and claimed under the write lock by
    ``_take``."""
    q = (select(PaperRecord)
         .where(PaperRecord.bank_id == bank_id, PaperRecord.part == part, PaperRecord.kind == kind,
                PaperRecord.status == PaperStatus.ASSEMBLED, PaperRecord.practice.is_(False)))
    if run_id is not None:
        q = q.where(PaperRecord.run_id == run_id)
    if exclude:
        q = q.where(PaperRecord.id.not_in(list(exclude)))
    if session.get_bind().dialect.name == "postgresql":
        q = q.order_by(PaperRecord.id).limit(limit).with_for_update(skip_locked=True)
    else:
        q = q.order_by(func.random()).limit(limit)
    return list(session.scalars(q))


def _choose(session: Session, *, bank_id: int, part: Part, n_backups: int,
            exclude: Sequence[int] = ()) -> tuple[list[PaperRecord], list[PaperRecord]]:
    """A main paper and backups, a backup of the main paper's run first (parallel and disjoint
    by construction)."""
    mains = _claim(session, bank_id=bank_id, part=part, kind=PaperKind.FORM, run_id=None, limit=1, exclude=exclude)
    if not mains:
        return [], []
    backups = _claim(session, bank_id=bank_id, part=part, kind=PaperKind.BACKUP, run_id=mains[0].run_id,
                     limit=n_backups, exclude=exclude) if n_backups else []
    if len(backups) < n_backups:
        backups += _claim(session, bank_id=bank_id, part=part, kind=PaperKind.BACKUP, run_id=None,
                          limit=n_backups - len(backups), exclude=[*exclude, *(b.id for b in backups)])
    return mains, backups[:n_backups]


class _InFlight:
    """SQLite only, and only a hint: the papers this process's requests are rendering right now,
    so that concurrent requests of the process choose different ones instead of colliding at the
    claim. Correctness never depends on it (``_take`` re-checks under the write lock; requests of
    other processes are caught there)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: set[int] = set()

    def busy(self) -> list[int]:
        with self._lock:
            return sorted(self._ids)

    def add(self, ids: Sequence[int]) -> bool:
        with self._lock:
            if self._ids & set(ids):
                return False
            self._ids |= set(ids)
            return True

    def discard(self, ids: Sequence[int]) -> None:
        with self._lock:
            self._ids -= set(ids)


_in_flight = _InFlight()


def _take(session: Session, papers: Sequence[PaperRecord]) -> bool:
    """Under the write lock: True when every chosen paper is still assembled (a concurrent
    request may have taken one since this one read them); ``_store`` then marks them sealed."""
    ids = [p.id for p in papers]
    free = session.scalar(select(func.count()).select_from(PaperRecord).where(
        PaperRecord.id.in_(ids), PaperRecord.status == PaperStatus.ASSEMBLED))
    if free != len(set(ids)):
        return False
    for p in papers:
        session.refresh(p)
    return True


def _refuse_if_live(session: Session, srec: ExamSessionRecord) -> None:
    live = session.scalar(select(func.count()).select_from(SealedPaperRecord).where(
        SealedPaperRecord.exam_session_id == srec.id, SealedPaperRecord.role == SealRole.MAIN,
        SealedPaperRecord.state.in_([SealState.SEALED, SealState.OPENED])))
    if live:
        raise ConflictError(Message("Exam session {session} already has a sealed paper; report an incident to replace it.",
                                    session=srec.code), field="exam_session_code", code="already_sealed")


def seal_papers(
    session: Session,
    *,
    exam_session_code: str,
    actor: Actor,
    settings: LifecycleSettings,
    n_backups: int = 1,
    assemble_if_needed: bool = True,
    solver: str = "cbc",
    time_limit_s: float = 60.0,
    answer_sheet: bool = False,
    centre_name: str | None = None,
) -> SealingResult:
    """Issue a paper and ``n_backups`` backups to an exam session, sealed.

    Uses already-assembled papers of the session's bank and part when there are enough
    (a backup of the same assembly run as the main paper first: parallel and disjoint by
    construction), else assembles them with the bank's latest blueprint (the official rules
    apply: a bank below its minimums is refused).

    Concurrency: the documents are rendered and encrypted before anything is written; then the
    ledger lock is taken first (``itembank.ledger.lock``), the session re-checked, the papers
    claimed, and the usage rows updated in id order. Twenty requests at once each get their own
    papers, none waits on another's rendering, and none can deadlock.
    """
    srec = _exam_session(session, exam_session_code)
    bank = get_bank_by_id(session, srec.bank_id)
    _require_office(actor, bank)
    part = Part(srec.part)
    if not 0 <= n_backups <= 5:
        raise ValidationError(Message("The number of backup papers must be between 0 and 5, not {n}.", n=n_backups),
                              field="n_backups")
    _refuse_if_live(session, srec)
    run_id = None
    sqlite = session.get_bind().dialect.name != "postgresql"
    for _ in range(5):
        mains, backups = _choose(session, bank_id=bank.id or 0, part=part, n_backups=n_backups,
                                 exclude=_in_flight.busy() if sqlite else ())
        if not sqlite or _in_flight.add([p.id for p in (*mains, *backups)]):
            break
    chosen_ids = [p.id for p in (*mains, *backups)]
    try:
        return _seal_chosen(session, srec=srec, bank=bank, part=part, mains=mains, backups=backups, actor=actor,
                            settings=settings, n_backups=n_backups, assemble_if_needed=assemble_if_needed,
                            solver=solver, time_limit_s=time_limit_s, answer_sheet=answer_sheet,
                            centre_name=centre_name)
    finally:
        if sqlite:
            _in_flight.discard(chosen_ids)


def _seal_chosen(session: Session, *, srec: ExamSessionRecord, bank: BankRef, part: Part, mains: list[PaperRecord],
                 backups: list[PaperRecord], actor: Actor, settings: LifecycleSettings, n_backups: int,
                 assemble_if_needed: bool, solver: str, time_limit_s: float, answer_sheet: bool,
                 centre_name: str | None) -> SealingResult:
    exam_session_code = srec.code
    run_id = None
    if not mains or len(backups) < n_backups:
        if not assemble_if_needed:
            raise _not_enough(bank, part, exam_session_code, n_backups)
        mains, backups, run_id = _assemble_for(session, bank=bank, part=part, n_backups=n_backups, actor=actor,
                                               solver=solver, time_limit_s=time_limit_s)
    master = master_key(settings, session=session)
    centre = centre_name or settings.institution
    chosen = [(mains[0], SealRole.MAIN), *((b, SealRole.BACKUP) for b in backups)]
    rendered = [_render(session, paper=p, srec=srec, role=r, actor=actor, master=master, centre=centre,
                        answer_sheet=answer_sheet) for p, r in chosen]
    ledger.lock(session)  # the lock order: ledger first, then papers, then usage rows in id order
    _refuse_if_live(session, srec)
    if session.get_bind().dialect.name != "postgresql" and not _take(session, [p for p, _ in chosen]):
        # another request took one of them after this one read them: choose again under the lock
        mains, backups = _choose(session, bank_id=bank.id or 0, part=part, n_backups=n_backups)
        if not mains or len(backups) < n_backups:
            raise _not_enough(bank, part, exam_session_code, n_backups)
        chosen = [(mains[0], SealRole.MAIN), *((b, SealRole.BACKUP) for b in backups)]
        rendered = [_render(session, paper=p, srec=srec, role=r, actor=actor, master=master, centre=centre,
                            answer_sheet=answer_sheet) for p, r in chosen]
        if not _take(session, [p for p, _ in chosen]):
            raise AssertionError("papers chosen under the write lock were taken")
    views = [_store(session, paper=p, srec=srec, role=r, actor=actor, settings=settings, sealed=rendered[k])
             for k, (p, r) in enumerate(chosen)]
    return SealingResult(exam_session_code=srec.code, main=views[0], backups=tuple(views[1:]), assembly_run_id=run_id)


def _not_enough(bank: BankRef, part: Part, exam_session_code: str, n_backups: int) -> ConflictError:
    return ConflictError(
        Message("{bank} {part}: not enough assembled papers for exam session {session} (1 paper and {n} "
                "backup(s) are needed); assemble papers first.", bank=bank.label, part=part,
                session=exam_session_code, n=n_backups), field="exam_session_code", code="no_papers")


def _assemble_for(session: Session, *, bank: BankRef, part: Part, n_backups: int, actor: Actor, solver: str,
                  time_limit_s: float) -> tuple[list[PaperRecord], list[PaperRecord], int]:
    try:
        stored = asvc.load_blueprint(session, bank=bank, part=part)
    except NotFoundError:
        stored = asvc.derive_standard_blueprint(session, bank=bank, part=part, actor=actor.username)  # type: ignore[assignment]
    run = asvc.run_assembly(session, bank=bank, blueprint=stored,  # type: ignore[arg-type]
                            params=asvc.RunParams(n_forms=1, n_backups=n_backups, solver=solver,
                                                  time_limit_s=time_limit_s), actor=actor.username)
    if not run.paper_codes:
        raise ConflictError(Message("{bank} {part}: no paper could be assembled for this exam session: {reason}",
                                    bank=bank.label, part=part, reason=run.message), code="no_papers")
    recs = {p.code: p for p in session.scalars(select(PaperRecord).where(PaperRecord.code.in_(run.paper_codes)))}
    mains = [recs[c] for c in run.paper_codes if recs[c].kind is PaperKind.FORM]
    backups = [recs[c] for c in run.paper_codes if recs[c].kind is PaperKind.BACKUP]
    return mains, backups, run.id


@dataclass(frozen=True, slots=True)
class _Sealed:
    """A paper's documents, rendered and encrypted, not yet stored."""

    wrapped_key: bytes
    key_id: str
    manifest: dict
    manifest_sha256: str
    documents: tuple[tuple[str, str, bytes, bytes, str, int], ...]  # name, kind, nonce, ciphertext, sha256, size


def _render(session: Session, *, paper: PaperRecord, srec: ExamSessionRecord, role: SealRole, actor: Actor,
            master: bytes, centre: str, answer_sheet: bool) -> _Sealed:
    """Render and encrypt a paper's documents (reads only; the slow part of sealing)."""
    view = asvc.get_paper(session, code=paper.code, centre_name=centre)
    domain_paper = dataclasses.replace(view.paper, session_code=srec.code)
    docs = export_paper(domain_paper, answer_sheet=answer_sheet and Part(paper.part) is Part.THEORY)
    paper_key = secrets.token_bytes(32)
    aead = AESGCM(paper_key)
    manifest = {
        "paper_code": paper.code,
        "exam_session_code": srec.code,
        "role": role.value,
        "form_label": paper.form_label,
        "sealed_by": actor.username,
        "key_id": key_id(master),
        "documents": [
            {"name": d.filename, "kind": d.kind.value, "bytes": len(d.content), "sha256": d.sha256,
             "text_sha256": d.text_sha256}
            for d in docs
        ],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    documents = []
    for d in docs:
        nonce = secrets.token_bytes(12)
        documents.append((d.filename, d.kind.value, nonce,
                          aead.encrypt(nonce, d.content, f"{paper.code}:{srec.code}:{d.filename}".encode()),
                          d.sha256, len(d.content)))
    return _Sealed(wrapped_key=_wrap(master, paper_key, f"seal:{paper.code}:{srec.code}".encode()),
                   key_id=key_id(master), manifest=manifest,
                   manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(), documents=tuple(documents))


def _store(session: Session, *, paper: PaperRecord, srec: ExamSessionRecord, role: SealRole, actor: Actor,
           settings: LifecycleSettings, sealed: _Sealed) -> SealedPaperView:
    """Write a rendered sealed paper (the caller holds the ledger lock and the paper)."""
    rec = SealedPaperRecord(
        paper_id=paper.id, exam_session_id=srec.id, role=role,
        state=SealState.SEALED if role is SealRole.MAIN else SealState.STANDBY,
        wrapped_key=sealed.wrapped_key, key_id=sealed.key_id, manifest=sealed.manifest,
        manifest_sha256=sealed.manifest_sha256, sealed_by=actor.username,
    )
    for i, (name, kind, nonce, ciphertext, sha256, size) in enumerate(sealed.documents):
        rec.documents.append(SealedDocumentRecord(position=i, name=name, kind=kind, nonce=nonce,
                                                  ciphertext=ciphertext, sha256=sha256, size=size))
    session.add(rec)
    paper.status = PaperStatus.SEALED
    session.flush()
    if role is SealRole.MAIN:
        _record_issue(session, paper=paper, srec=srec, actor=actor)
    ledger.append(session, actor=actor.username, action="paper.seal", object_type="paper", object_id=paper.code,
                  details={"exam_session": srec.code, "role": role.value, "manifest_sha256": rec.manifest_sha256,
                           "documents": [[d["name"], d["sha256"]] for d in sealed.manifest["documents"]]})
    return _view(session, rec, settings)


def _seal_one(session: Session, *, paper: PaperRecord, srec: ExamSessionRecord, role: SealRole, actor: Actor,
              master: bytes, settings: LifecycleSettings, centre: str, answer_sheet: bool) -> SealedPaperView:
    sealed = _render(session, paper=paper, srec=srec, role=role, actor=actor, master=master, centre=centre,
                     answer_sheet=answer_sheet)
    ledger.lock(session)
    return _store(session, paper=paper, srec=srec, role=role, actor=actor, settings=settings, sealed=sealed)


def _record_issue(session: Session, *, paper: PaperRecord, srec: ExamSessionRecord, actor: Actor) -> None:
    record_usage(session, version_ids=[pi.version_id for pi in paper.items], paper_code=paper.code,
                 session_code=srec.code, used_on=_aware(srec.starts_at).date(), actor=actor.username)


# --------------------------------------------------------------------------------------
# Reading, opening, downloading


def sealed_papers_of(session: Session, *, exam_session_code: str, settings: LifecycleSettings) -> list[SealedPaperView]:
    srec = _exam_session(session, exam_session_code)
    recs = session.scalars(select(SealedPaperRecord).where(SealedPaperRecord.exam_session_id == srec.id)
                           .order_by(SealedPaperRecord.id))
    return [_view(session, r, settings) for r in recs]


def _sealed(session: Session, *, exam_session_code: str, paper_code: str) -> tuple[SealedPaperRecord, ExamSessionRecord]:
    srec = _exam_session(session, exam_session_code)
    rec = session.scalar(
        select(SealedPaperRecord).join(PaperRecord, PaperRecord.id == SealedPaperRecord.paper_id)
        .where(SealedPaperRecord.exam_session_id == srec.id, PaperRecord.code == paper_code))
    if rec is None:
        raise NotFoundError(Message("Paper {paper_code} is not sealed for exam session {session}.", paper_code=paper_code,
                                    session=exam_session_code),
                            field="paper_code")
    return rec, srec


def _check_openable(rec: SealedPaperRecord, srec: ExamSessionRecord, settings: LifecycleSettings, *,
                    paper_code: str, now: datetime) -> None:
    opens, closes = _window(srec, settings)
    state = SealState(rec.state)
    if state is SealState.VOID:
        raise OpeningRefusedError(Message("Paper {paper_code} is void ({reason}); it can never be opened.",
                                          paper_code=paper_code, reason=rec.state_reason), code="paper_void")
    if state is SealState.STANDBY:
        raise OpeningRefusedError(Message("Backup paper {paper_code} is not activated; a backup paper is opened only "
                                          "after an incident report activates it (附件16).", paper_code=paper_code),
                                  code="backup_not_activated")
    if now < opens:
        raise OpeningRefusedError(
            Message("Too early: paper {paper_code} of exam session {session} may be opened from {opens} ({minutes} "
                    "minutes before the start, 附件7).", paper_code=paper_code, session=srec.code, opens=opens,
                    minutes=settings.opening_lead_min), code="too_early")
    if now > closes:
        raise OpeningRefusedError(Message("The opening window of exam session {session} closed at {closes}; the paper "
                                          "stays sealed.", session=srec.code, closes=closes), code="too_late")


def _open(session: Session, rec: SealedPaperRecord, now: datetime) -> None:
    rec.state = SealState.OPENED
    rec.opened_at = now
    paper = session.get(PaperRecord, rec.paper_id)
    assert paper is not None
    paper.status = PaperStatus.ISSUED


def confirm_opening(
    session: Session, *, exam_session_code: str, paper_code: str, actor: Actor, settings: LifecycleSettings,
    now: datetime | None = None,
) -> SealedPaperView:
    """One exam-office user's confirmation; the second different user's opens the paper.
    Both must hold the exam-office role for the paper's occupation themselves (an
    administrator's pass does not count: :func:`override_opening` is the administrator's act)."""
    now = now or datetime.now(timezone.utc)
    rec, srec = _sealed(session, exam_session_code=exam_session_code, paper_code=paper_code)
    bank = get_bank_by_id(session, srec.bank_id)
    _require_opener(actor, bank)
    if SealState(rec.state) is SealState.OPENED:
        return _view(session, rec, settings)
    _check_openable(rec, srec, settings, paper_code=paper_code, now=now)
    if any(c.username == actor.username for c in rec.confirmations):
        raise OpeningRefusedError(
            Message("{user} has already confirmed; a second, different user of the exam office must confirm "
                    "(two people together, 附件12 第4条).", user=actor.username), code="same_person")
    rec.confirmations.append(OpeningConfirmationRecord(username=actor.username, at=now))
    session.flush()
    openers = {c.username for c in rec.confirmations if not c.override_reason}
    opened = len(openers) >= OPENERS_REQUIRED
    if opened:
        _open(session, rec, now)
    session.flush()
    ledger.append(session, actor=actor.username, action="paper.open" if opened else "paper.open_confirm",
                  object_type="paper", object_id=paper_code,
                  details={"exam_session": exam_session_code, "confirmed_by": sorted(openers)})
    return _view(session, rec, settings)


MIN_OVERRIDE_REASON = 10  # characters: a reason an auditor can follow, not "ok"


def override_opening(
    session: Session, *, exam_session_code: str, paper_code: str, actor: Actor, reason: str,
    settings: LifecycleSettings, now: datetime | None = None,
) -> SealedPaperView:
    """An administrator stands in for the missing second opener: a separate act with its own
    reason, written to the ledger as ``paper.open_override`` (附件12 第4条, 附件16).

    Refused unless the actor is an administrator, the paper is sealed and in its window, one
    exam-office user of the paper's occupation has already confirmed in person, and that user
    is not the administrator. The opening is never a silent pass: the override, its reason and
    the confirming user are shown on the paper and in the ledger."""
    now = now or datetime.now(timezone.utc)
    if not actor.is_admin:
        raise PermissionDeniedError(Message(
            "{user} may not override an opening: only an administrator may, with a reason", user=actor.username))
    reason = (reason or "").strip()
    if len(reason) < MIN_OVERRIDE_REASON:
        raise ValidationError(Message(
            "say why the second exam-office user cannot confirm (at least {n} characters); the reason goes in the "
            "ledger", n=MIN_OVERRIDE_REASON), field="reason")
    rec, srec = _sealed(session, exam_session_code=exam_session_code, paper_code=paper_code)
    bank = get_bank_by_id(session, srec.bank_id)
    if SealState(rec.state) is SealState.OPENED:
        raise OpeningRefusedError(Message("paper {paper} is already open", paper=paper_code))
    _check_openable(rec, srec, settings, paper_code=paper_code, now=now)
    if any(c.override_reason for c in rec.confirmations):
        raise OpeningRefusedError(Message("paper {paper} already has an override", paper=paper_code))
    openers = [c.username for c in rec.confirmations if not c.override_reason]
    if not openers:
        raise OpeningRefusedError(Message(
            "an override stands in for the second opener only: an exam-office user of occupation {occupation} "
            "must confirm paper {paper} in person first", occupation=bank.occupation.code, paper=paper_code))
    if actor.username in openers:
        raise OpeningRefusedError(Message(
            "{user} has already confirmed the opening in person and cannot also be the second person",
            user=actor.username))
    rec.confirmations.append(OpeningConfirmationRecord(username=actor.username, at=now, override_reason=reason))
    session.flush()
    _open(session, rec, now)
    session.flush()
    ledger.append(session, actor=actor.username, action="paper.open_override", object_type="paper",
                  object_id=paper_code, details={"exam_session": exam_session_code, "confirmed_by": openers,
                                                 "reason": reason})
    return _view(session, rec, settings)


def open_document(
    session: Session, *, exam_session_code: str, paper_code: str, name: str, actor: Actor,
    settings: LifecycleSettings,
) -> tuple[bytes, SealedDocumentInfo]:
    """Decrypt one document of an opened paper (integrity checked against the manifest);
    every download is written to the ledger."""
    rec, srec = _sealed(session, exam_session_code=exam_session_code, paper_code=paper_code)
    bank = get_bank_by_id(session, srec.bank_id)
    _require_office(actor, bank)
    if SealState(rec.state) is not SealState.OPENED:
        raise OpeningRefusedError(
            Message("Paper {paper_code} is {state}: its documents are released only after two users of the exam office "
                    "have confirmed the opening within the opening window.", paper_code=paper_code,
                    state=SealState(rec.state)), code="not_opened")
    doc = next((d for d in rec.documents if d.name == name), None)
    if doc is None:
        raise NotFoundError(Message("Paper {paper_code} has no document '{name}' (its documents: {names}).",
                                    paper_code=paper_code, name=name, names=[d.name for d in rec.documents]),
                            field="name", code="document_not_found")
    try:
        content = _decrypt(rec, doc, paper_code=paper_code, session_code=srec.code,
                           master=master_key(settings, session=session))
    except TamperedError:
        # written although the download fails: the route commits this entry, then answers 409
        ledger.append(session, actor=actor.username, action="paper.tamper_detected", object_type="paper",
                      object_id=paper_code, details={"exam_session": exam_session_code, "document": name,
                                                     "sha256": doc.sha256})
        raise
    ledger.append(session, actor=actor.username, action="paper.download", object_type="paper", object_id=paper_code,
                  details={"exam_session": exam_session_code, "document": name, "sha256": doc.sha256})
    return content, SealedDocumentInfo(doc.name, doc.kind, doc.sha256, doc.size)


def _decrypt(rec: SealedPaperRecord, doc: SealedDocumentRecord, *, paper_code: str, session_code: str,
             master: bytes) -> bytes:
    """The document's bytes, or ``TamperedError`` when the ciphertext, the wrapped key or the
    plaintext's hash does not check out: nothing is released then."""
    if rec.key_id != key_id(master):
        raise ConflictError(Message("Paper {paper_code} was sealed with master key {sealed_with}, but the configured key is "
                                    "{configured}; configure the key it was sealed with.", paper_code=paper_code,
                                    sealed_with=rec.key_id, configured=key_id(master)), code="wrong_master_key")
    try:
        paper_key = _unwrap(master, rec.wrapped_key, f"seal:{paper_code}:{session_code}".encode())
        content = AESGCM(paper_key).decrypt(doc.nonce, doc.ciphertext,
                                            f"{paper_code}:{session_code}:{doc.name}".encode())
    except (InvalidTag, ValueError) as exc:
        raise TamperedError(Message(
            "document {document} of sealed paper {paper} fails its integrity check: its stored ciphertext or key was "
            "changed or damaged after sealing. Nothing was released; the attempt is in the ledger. Report an "
            "incident and use the backup paper (附件16)", document=doc.name, paper=paper_code)) from exc
    if hashlib.sha256(content).hexdigest() != doc.sha256:
        raise TamperedError(Message(
            "document {document} of sealed paper {paper} does not match its manifest hash: it was changed after "
            "sealing. Nothing was released; the attempt is in the ledger. Report an incident and use the backup "
            "paper (附件16)", document=doc.name, paper=paper_code))
    return content


def verify_sealed(session: Session, *, exam_session_code: str, paper_code: str,
                  settings: LifecycleSettings) -> list[Message]:
    """Integrity check without releasing anything: every document decrypts and matches the
    manifest; the manifest matches its hash, and that hash and the documents' hashes are the
    ones written to the ledger when the paper was sealed (``paper.seal``; the ledger itself is
    checked by ``itembank.ledger.verify_ledger``). Returns the problems (empty when intact)."""
    rec, srec = _sealed(session, exam_session_code=exam_session_code, paper_code=paper_code)
    problems = []
    manifest_bytes = json.dumps(rec.manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    if hashlib.sha256(manifest_bytes).hexdigest() != rec.manifest_sha256:
        problems.append(Message("the manifest was changed after sealing"))
    sealed = [e for e in ledger.query_ledger(session, action="paper.seal", object_type="paper", object_id=paper_code,
                                             limit=1000)
              if e.details.get("exam_session") == srec.code]
    if not sealed:
        problems.append(Message("the ledger has no sealing entry for paper {paper} in session {session}: the "
                                "sealed paper cannot be traced to its sealing", paper=paper_code, session=srec.code))
    else:
        entry = sealed[-1]
        if entry.details.get("manifest_sha256") != rec.manifest_sha256:
            problems.append(Message(
                "the manifest hash stored with the paper ({stored}) is not the one the ledger recorded at sealing "
                "({recorded}): the manifest was replaced", stored=rec.manifest_sha256[:16],
                recorded=str(entry.details.get("manifest_sha256", ""))[:16]))
        recorded = {n: h for n, h in entry.details.get("documents", [])}
        for doc in rec.documents:
            if recorded.get(doc.name) != doc.sha256:
                problems.append(Message(
                    "document {document}: its hash is not the one the ledger recorded at sealing", document=doc.name))
    listed = {d["name"]: d["sha256"] for d in rec.manifest.get("documents", [])}
    master = master_key(settings, session=session)
    for doc in rec.documents:
        if listed.get(doc.name) != doc.sha256:
            problems.append(Message("document {name} is not in the manifest as it was stored", name=doc.name))
        try:
            _decrypt(rec, doc, paper_code=paper_code, session_code=srec.code, master=master)
        except Exception as e:  # noqa: BLE001 - any failure is a finding, reported in words
            reason = e.head_text if isinstance(e, ItemBankError) else " ".join((e.__class__.__name__, str(e))).strip()
            problems.append(Message("document {name}: {reason}", name=doc.name, reason=reason))
    return problems


# --------------------------------------------------------------------------------------
# Incidents


def report_incident(
    session: Session,
    *,
    exam_session_code: str,
    paper_code: str,
    kind: IncidentKind | str,
    description: str,
    actor: Actor,
    settings: LifecycleSettings,
    replace: bool = True,
    solver: str = "cbc",
    time_limit_s: float = 60.0,
) -> IncidentView:
    """Record an incident and act on it (附件16).

    leak: the paper is void for every session it reached, its items are compromised, the
    session's backup is activated and, with ``replace``, a replacement backup is assembled
    without any of the leaked items and sealed for the session. damaged / missing / other:
    this session's copy is void and the backup activated.
    """
    kind = IncidentKind(kind)
    if not (description or "").strip():
        raise ValidationError(Message("Describe what happened (附件16: the first report within 10 minutes)."),
                              field="description")
    rec, srec = _sealed(session, exam_session_code=exam_session_code, paper_code=paper_code)
    bank = get_bank_by_id(session, srec.bank_id)
    _require_office(actor, bank)
    if rec.role is SealRole.BACKUP and SealState(rec.state) is SealState.STANDBY and kind is not IncidentKind.LEAK:
        raise ConflictError(Message("{paper_code} is a backup paper on standby; report the incident on the paper in use.",
                                    paper_code=paper_code))
    paper = session.get(PaperRecord, rec.paper_id)
    assert paper is not None
    n = session.scalar(select(func.count()).select_from(IncidentRecord)) or 0
    code = f"INC-{datetime.now(timezone.utc):%Y%m%d}-{n + 1:04d}"
    actions: dict = {"voided": [], "compromised_items": 0, "activated_backup": None, "replacement": None}
    reason = f"{code} {kind.zh}：{description.strip()[:200]}"
    if kind is IncidentKind.LEAK:
        for other in session.scalars(select(SealedPaperRecord).where(SealedPaperRecord.paper_id == paper.id)):
            other.state = SealState.VOID
            other.state_reason = reason
            osrec = session.get(ExamSessionRecord, other.exam_session_id)
            actions["voided"].append(osrec.code if osrec else other.exam_session_id)
        paper.status = PaperStatus.LEAKED
        paper.status_reason = reason
        item_codes = _paper_item_codes(session, paper)
        actions["compromised_items"] = mark_compromised(session, bank=bank, codes=item_codes, reason=reason,
                                                        actor=actor.username)
    else:
        rec.state = SealState.VOID
        rec.state_reason = reason
        paper.status = PaperStatus.VOID
        paper.status_reason = reason
        actions["voided"].append(srec.code)
    session.flush()
    if rec.role is SealRole.MAIN or kind is IncidentKind.LEAK:
        backup = _activate_backup(session, srec=srec, exclude_paper_id=paper.id, actor=actor, reason=reason)
        actions["activated_backup"] = backup
    if kind is IncidentKind.LEAK and replace:
        actions["replacement"] = _replacement(session, srec=srec, paper=paper, actor=actor, settings=settings,
                                              solver=solver, time_limit_s=time_limit_s)
    inc = IncidentRecord(code=code, kind=kind, paper_id=paper.id, exam_session_id=srec.id,
                         description=description.strip(), actions=actions, reported_by=actor.username)
    session.add(inc)
    session.flush()
    ledger.append(session, actor=actor.username, action="incident.report", object_type="paper", object_id=paper_code,
                  details={"incident": code, "kind": kind.value, "exam_session": exam_session_code, **actions})
    return _incident_view(session, inc)


def _paper_item_codes(session: Session, paper: PaperRecord) -> list[str]:
    from itembank.orm import ItemRecord

    ids = [pi.item_id for pi in paper.items]
    return sorted(session.scalars(select(ItemRecord.code).where(ItemRecord.id.in_(ids))))


def _activate_backup(session: Session, *, srec: ExamSessionRecord, exclude_paper_id: int, actor: Actor,
                     reason: str) -> str | None:
    standby = session.scalars(
        select(SealedPaperRecord).where(SealedPaperRecord.exam_session_id == srec.id,
                                        SealedPaperRecord.role == SealRole.BACKUP,
                                        SealedPaperRecord.state == SealState.STANDBY,
                                        SealedPaperRecord.paper_id != exclude_paper_id)
        .order_by(SealedPaperRecord.id)).first()
    if standby is None:
        return None
    standby.state = SealState.SEALED
    standby.activated_at = datetime.now(timezone.utc)
    standby.state_reason = f"已启用（{reason}）"
    backup_paper = session.get(PaperRecord, standby.paper_id)
    assert backup_paper is not None
    session.flush()
    _record_issue(session, paper=backup_paper, srec=srec, actor=actor)
    ledger.append(session, actor=actor.username, action="paper.backup_activated", object_type="paper",
                  object_id=backup_paper.code, details={"exam_session": srec.code, "reason": reason})
    return backup_paper.code


def _replacement(session: Session, *, srec: ExamSessionRecord, paper: PaperRecord, actor: Actor,
                 settings: LifecycleSettings, solver: str, time_limit_s: float) -> str | None:
    new = asvc.replace_leaked_paper(session, code=paper.code, actor=actor.username, solver=solver,
                                    time_limit_s=time_limit_s)
    if new is None:
        return None
    rec = session.scalar(select(PaperRecord).where(PaperRecord.code == new.paper.code))
    assert rec is not None
    _seal_one(session, paper=rec, srec=srec, role=SealRole.BACKUP, actor=actor, master=master_key(settings, session=session),
              settings=settings, centre=settings.institution, answer_sheet=False)
    return rec.code


def _incident_view(session: Session, inc: IncidentRecord) -> IncidentView:
    paper = session.get(PaperRecord, inc.paper_id)
    srec = session.get(ExamSessionRecord, inc.exam_session_id)
    return IncidentView(code=inc.code, kind=IncidentKind(inc.kind), paper_code=paper.code if paper else "",
                        exam_session_code=srec.code if srec else "", description=inc.description,
                        actions=dict(inc.actions or {}), reported_by=inc.reported_by, reported_at=inc.reported_at)


def list_incidents(session: Session, *, exam_session_code: str | None = None) -> list[IncidentView]:
    q = select(IncidentRecord).order_by(IncidentRecord.id)
    if exam_session_code is not None:
        q = q.where(IncidentRecord.exam_session_id == _exam_session(session, exam_session_code).id)
    return [_incident_view(session, r) for r in session.scalars(q)]


__all__: Sequence[str] = (
    "IncidentView", "OpeningRefusedError", "TamperedError", "SealedDocumentInfo", "SealedPaperView", "SealingResult",
    "confirm_opening", "list_incidents", "master_key", "open_document", "override_opening", "report_incident",
    "seal_papers",
    "sealed_papers_of", "verify_sealed",
)
