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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exports import export_paper
from itembank import assembly_service as asvc
from itembank import ledger
from itembank.domain import Actor, BankRef, PaperKind, Part, Role
from itembank.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
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
from itembank.i18n import FieldMessage, Message, Text, from_storable, to_storable

log = logging.getLogger(__name__)

OPENERS_REQUIRED = 2


class OpeningRefusedError(ConflictError):
    """Opening or download refused: outside the window, one person only, not yet opened."""

    code = "opening_refused"


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
    confirmations: tuple[tuple[str, datetime], ...]
    window_opens_at: datetime
    window_closes_at: datetime
    documents: tuple[SealedDocumentInfo, ...]
    manifest_sha256: str
    state_reason: str


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
        confirmations=tuple((c.username, c.at) for c in rec.confirmations),
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


# --------------------------------------------------------------------------------------
# Sealing


def _claim(session: Session, *, bank_id: int, part: Part, kind: PaperKind, run_id: int | None,
           limit: int) -> list[PaperRecord]:
    """Assembled, unused papers, locked so two concurrent requests never take the same one
    (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the write lock of BEGIN IMMEDIATE)."""
    q = (select(PaperRecord)
         .where(PaperRecord.bank_id == bank_id, PaperRecord.part == part, PaperRecord.kind == kind,
                PaperRecord.status == PaperStatus.ASSEMBLED, PaperRecord.practice.is_(False)))
    if run_id is not None:
        q = q.where(PaperRecord.run_id == run_id)
    q = q.order_by(PaperRecord.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(session.scalars(q))


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
    """
    srec = _exam_session(session, exam_session_code)
    bank = get_bank_by_id(session, srec.bank_id)
    _require_office(actor, bank)
    part = Part(srec.part)
    if not 0 <= n_backups <= 5:
        raise ValidationError(Message("The number of backup papers must be between 0 and 5, not {n}.", n=n_backups), field="n_backups")
    live = session.scalar(select(func.count()).select_from(SealedPaperRecord).where(
        SealedPaperRecord.exam_session_id == srec.id, SealedPaperRecord.role == SealRole.MAIN,
        SealedPaperRecord.state.in_([SealState.SEALED, SealState.OPENED])))
    if live:
        raise ConflictError(Message("Exam session {session} already has a sealed paper; report an incident to replace it.",
                                    session=exam_session_code), field="exam_session_code", code="already_sealed")
    run_id = None
    mains = _claim(session, bank_id=bank.id or 0, part=part, kind=PaperKind.FORM, run_id=None, limit=1)
    backups = _claim(session, bank_id=bank.id or 0, part=part, kind=PaperKind.BACKUP,
                     run_id=mains[0].run_id if mains else None, limit=n_backups) if mains else []
    if len(backups) < n_backups and mains:
        backups += _claim(session, bank_id=bank.id or 0, part=part, kind=PaperKind.BACKUP, run_id=None,
                          limit=n_backups - len(backups))
        backups = [b for b in dict.fromkeys(backups)][:n_backups]
    if not mains or len(backups) < n_backups:
        if not assemble_if_needed:
            raise ConflictError(
                Message("{bank} {part}: not enough assembled papers for exam session {session} (1 paper and {n} "
                        "backup(s) are needed); assemble papers first.", bank=bank.label, part=part,
                        session=exam_session_code, n=n_backups), field="exam_session_code", code="no_papers")
        mains, backups, run_id = _assemble_for(session, bank=bank, part=part, n_backups=n_backups, actor=actor,
                                               solver=solver, time_limit_s=time_limit_s)
    master = master_key(settings)
    centre = centre_name or settings.institution
    main_view = _seal_one(session, paper=mains[0], srec=srec, role=SealRole.MAIN, actor=actor, master=master,
                          settings=settings, centre=centre, answer_sheet=answer_sheet)
    backup_views = tuple(
        _seal_one(session, paper=b, srec=srec, role=SealRole.BACKUP, actor=actor, master=master, settings=settings,
                  centre=centre, answer_sheet=answer_sheet)
        for b in backups)
    return SealingResult(exam_session_code=srec.code, main=main_view, backups=backup_views, assembly_run_id=run_id)


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


def _seal_one(session: Session, *, paper: PaperRecord, srec: ExamSessionRecord, role: SealRole, actor: Actor,
              master: bytes, settings: LifecycleSettings, centre: str, answer_sheet: bool) -> SealedPaperView:
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
    rec = SealedPaperRecord(
        paper_id=paper.id, exam_session_id=srec.id, role=role,
        state=SealState.SEALED if role is SealRole.MAIN else SealState.STANDBY,
        wrapped_key=_wrap(master, paper_key, f"seal:{paper.code}:{srec.code}".encode()), key_id=key_id(master),
        manifest=manifest, manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(), sealed_by=actor.username,
    )
    for i, d in enumerate(docs):
        nonce = secrets.token_bytes(12)
        rec.documents.append(SealedDocumentRecord(
            position=i, name=d.filename, kind=d.kind.value, nonce=nonce,
            ciphertext=aead.encrypt(nonce, d.content, f"{paper.code}:{srec.code}:{d.filename}".encode()),
            sha256=d.sha256, size=len(d.content)))
    session.add(rec)
    paper.status = PaperStatus.SEALED
    session.flush()
    if role is SealRole.MAIN:
        _record_issue(session, paper=paper, srec=srec, actor=actor)
    ledger.append(session, actor=actor.username, action="paper.seal", object_type="paper", object_id=paper.code,
                  details={"exam_session": srec.code, "role": role.value, "manifest_sha256": rec.manifest_sha256,
                           "documents": [[d["name"], d["sha256"]] for d in manifest["documents"]]})
    return _view(session, rec, settings)


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


def confirm_opening(
    session: Session, *, exam_session_code: str, paper_code: str, actor: Actor, settings: LifecycleSettings,
    now: datetime | None = None,
) -> SealedPaperView:
    """One exam-office user's confirmation; the second different user's opens the paper."""
    now = now or datetime.now(timezone.utc)
    rec, srec = _sealed(session, exam_session_code=exam_session_code, paper_code=paper_code)
    bank = get_bank_by_id(session, srec.bank_id)
    _require_office(actor, bank)
    opens, closes = _window(srec, settings)
    state = SealState(rec.state)
    if state is SealState.OPENED:
        return _view(session, rec, settings)
    if state is SealState.VOID:
        raise OpeningRefusedError(Message("Paper {paper_code} is void ({reason}); it can never be opened.", paper_code=paper_code,
                                          reason=rec.state_reason), code="paper_void")
    if state is SealState.STANDBY:
        raise OpeningRefusedError(Message("Backup paper {paper_code} is not activated; a backup paper is opened only after an "
                                          "incident report activates it (附件16).", paper_code=paper_code),
                                  code="backup_not_activated")
    if now < opens:
        raise OpeningRefusedError(
            Message("Too early: paper {paper_code} of exam session {session} may be opened from {opens} ({minutes} "
                    "minutes before the start, 附件7).", paper_code=paper_code, session=exam_session_code, opens=opens,
                    minutes=settings.opening_lead_min), code="too_early")
    if now > closes:
        raise OpeningRefusedError(Message("The opening window of exam session {session} closed at {closes}; the paper stays sealed.",
                                          session=exam_session_code, closes=closes), code="too_late")
    if any(c.username == actor.username for c in rec.confirmations):
        raise OpeningRefusedError(
            Message("{user} has already confirmed; a second, different user of the exam office must confirm "
                    "(two people together, 附件12 第4条).", user=actor.username), code="same_person")
    rec.confirmations.append(OpeningConfirmationRecord(username=actor.username, at=now))
    session.flush()
    opened = len({c.username for c in rec.confirmations}) >= OPENERS_REQUIRED
    if opened:
        rec.state = SealState.OPENED
        rec.opened_at = now
        paper = session.get(PaperRecord, rec.paper_id)
        assert paper is not None
        paper.status = PaperStatus.ISSUED
    session.flush()
    ledger.append(session, actor=actor.username, action="paper.open" if opened else "paper.open_confirm",
                  object_type="paper", object_id=paper_code,
                  details={"exam_session": exam_session_code, "confirmed_by": [c.username for c in rec.confirmations]})
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
    content = _decrypt(rec, doc, paper_code=paper_code, session_code=srec.code, master=master_key(settings))
    ledger.append(session, actor=actor.username, action="paper.download", object_type="paper", object_id=paper_code,
                  details={"exam_session": exam_session_code, "document": name, "sha256": doc.sha256})
    return content, SealedDocumentInfo(doc.name, doc.kind, doc.sha256, doc.size)


def _decrypt(rec: SealedPaperRecord, doc: SealedDocumentRecord, *, paper_code: str, session_code: str,
             master: bytes) -> bytes:
    if rec.key_id != key_id(master):
        raise ConflictError(Message("Paper {paper_code} was sealed with master key {sealed_with}, but the configured key is "
                                    "{configured}; configure the key it was sealed with.", paper_code=paper_code,
                                    sealed_with=rec.key_id, configured=key_id(master)), code="wrong_master_key")
    paper_key = _unwrap(master, rec.wrapped_key, f"seal:{paper_code}:{session_code}".encode())
    content = AESGCM(paper_key).decrypt(doc.nonce, doc.ciphertext, f"{paper_code}:{session_code}:{doc.name}".encode())
    if hashlib.sha256(content).hexdigest() != doc.sha256:
        raise ConflictError(Message("Document {name} of paper {paper_code} does not match the hash in its manifest.",
                                    name=doc.name, paper_code=paper_code), code="manifest_mismatch")
    return content


def verify_sealed(session: Session, *, exam_session_code: str, paper_code: str,
                  settings: LifecycleSettings) -> list[Message]:
    """Integrity check without releasing anything: every document decrypts and matches the
    manifest; the manifest matches its hash. Returns the problems (empty when intact)."""
    rec, srec = _sealed(session, exam_session_code=exam_session_code, paper_code=paper_code)
    problems = []
    manifest_bytes = json.dumps(rec.manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    if hashlib.sha256(manifest_bytes).hexdigest() != rec.manifest_sha256:
        problems.append(Message("the manifest was changed after sealing"))
    listed = {d["name"]: d["sha256"] for d in rec.manifest.get("documents", [])}
    master = master_key(settings)
    for doc in rec.documents:
        if listed.get(doc.name) != doc.sha256:
            problems.append(Message("document {name} is not in the manifest as it was stored", name=doc.name))
        try:
            _decrypt(rec, doc, paper_code=paper_code, session_code=srec.code, master=master)
        except Exception as e:  # noqa: BLE001 - any failure is a finding, reported in words
            problems.append(Message("document {name}: {reason}", name=doc.name,
                                    reason=" ".join((e.__class__.__name__, str(e))).strip()))
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
    _seal_one(session, paper=rec, srec=srec, role=SealRole.BACKUP, actor=actor, master=master_key(settings),
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
    "IncidentView", "OpeningRefusedError", "SealedDocumentInfo", "SealedPaperView", "SealingResult",
    "confirm_opening", "list_incidents", "master_key", "open_document", "report_incident", "seal_papers",
    "sealed_papers_of", "verify_sealed",
)
