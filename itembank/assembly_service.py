"""Assembly service: the bank side of paper assembly (issue 4).

Loads a bank's eligible items into the assembly package's pool, stores and versions
blueprints, runs assembly jobs (``assembly.assemble_forms``), and records the papers with
the item versions they hold, the pool snapshot, the blueprint version and the solver report,
so any paper can be re-checked later (``recheck_paper``). Papers are always assembled from
the bank (附件1 第14条, 附件11 第21条); a bank below its minimums only gives practice papers
(附件11 第7条). Usage is recorded when a paper is issued (sealing), not here.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import assembly as asm
from itembank import ledger, media
from itembank.domain import (
    BankRef,
    IrtModel,
    Item,
    ItemType,
    Level,
    Paper,
    PaperKind,
    Part,
)
from itembank.config import Settings
from itembank.elements import load_element_table
from itembank.db import run_transaction
from itembank.errors import ConflictError, ItemBankError, NotFoundError, ValidationError
from itembank.i18n import FieldMessage, Message, N_, Sentences, Text, _, for_storage, from_storable, to_storable
from itembank.items import item_from_records
from itembank.occupations import get_bank_by_id
from itembank.orm import ItemRecord, ItemVersionRecord
from itembank.orm_assembly import (
    AssemblyRunRecord,
    BlueprintRecord,
    PaperItemRecord,
    PaperRecord,
    PaperStatus,
    RunState,
)
from itembank.pool import load_pool
from itembank.readiness import require_ready
from itembank.similarity_service import cueing_refusal, kept_apart_pairs, match_to_data, paper_cueing
from itembank.solver_process import SolveJob, run_solver

log = logging.getLogger(__name__)

DICHOTOMOUS_MODELS = {IrtModel.RASCH, IrtModel.ONE_PL, IrtModel.TWO_PL, IrtModel.THREE_PL}
# printed order of sections: the national template's (一、单项选择题 二、多项选择题 三、判断题,
# objective first); a centre may set its own (``Settings.section_order``)
SECTION_ORDER = [
    ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.TRUE_FALSE, ItemType.FILL_IN,
    ItemType.SHORT_ANSWER, ItemType.CALCULATION, ItemType.ESSAY, ItemType.PRACTICAL_TASK,
    ItemType.DEFENCE_TOPIC,
]
DEFAULT_TIME_ALLOWED = {Part.THEORY: 90, Part.PRACTICAL: 120, Part.DEFENCE: 30}
PART_LETTER = {Part.THEORY: "T", Part.PRACTICAL: "P", Part.DEFENCE: "D"}


# --------------------------------------------------------------------------------------
# Pool


@dataclass(frozen=True, slots=True)
class BankPool:
    """A bank's items as the assembler sees them, with the domain items by code."""

    pool: asm.Pool
    items: dict[str, Item]
    session_dates: tuple[date, ...]  # distinct usage dates, oldest first: session indices
    # pairs the similarity check finds that are not enemies yet: kept apart as if they were
    kept_apart: tuple[tuple[str, str], ...] = ()


def item_time_s(item: Item) -> float:
    """The time an item takes on a paper (seconds): its own time allowed where it has one (a
    practical task's 考核时间, 附件2), else the writer's estimate. Assembly's time rows and the
    time a paper allows (:func:`time_allowed_min`) both count it so."""
    minutes = item.content.time_limit_min
    return float(minutes) * 60.0 if minutes else float(item.content.estimated_time_s)


def to_pool_item(item: Item, *, session_index: dict[date, int], retired: bool = False) -> asm.PoolItem:
    irt = item.irt
    calibrated = irt is not None and irt.model in DICHOTOMOUS_MODELS
    last = item.usage.last_used_on
    return asm.PoolItem(
        id=item.code,
        item_type=item.item_type.value,
        points=float(item.points),
        element_codes=tuple(item.content.element_codes),
        time_s=item_time_s(item),
        rating=int(item.content.difficulty_rating),
        p_value=item.classical.p_value if item.classical else None,
        a=float(irt.a) if calibrated else None,  # type: ignore[union-attr]
        b=float(irt.b) if calibrated else None,  # type: ignore[union-attr]
        c=float(irt.c) if calibrated else 0.0,  # type: ignore[union-attr]
        D=float(irt.D) if calibrated else 1.0,  # type: ignore[union-attr]
        usage_count=int(item.usage.count),
        last_used_session=session_index.get(last) if last is not None else None,
        compromised=bool(item.usage.compromised),
        set_id=item.set_code,
        version=int(item.version),
        retired=retired,
    )


def build_pool(items: Sequence[Item], *, retired: Sequence[Item] = (),
               kept_apart: Sequence[tuple[str, str]] = ()) -> BankPool:
    """Pure: domain items -> assembly pool. Past sessions are indexed by distinct usage date
    (oldest 0), and the paper being assembled is the next session. ``retired`` items are no
    longer accepted but sit in papers still in use: they are in the pool (their curves and
    overlaps count) and never eligible. ``kept_apart`` pairs never share a paper, as enemies
    (the pairs the similarity check found, not confirmed yet)."""
    items = list(items) + list(retired)
    retired_codes = {it.code for it in retired}
    dates = tuple(sorted({it.usage.last_used_on for it in items if it.usage.last_used_on is not None}))
    index = {d: i for i, d in enumerate(dates)}
    pool_items = [to_pool_item(it, session_index=index, retired=it.code in retired_codes) for it in items]
    codes = {it.code for it in items}
    enemies = {tuple(sorted((it.code, e))) for it in items for e in it.enemies if e in codes}
    apart = tuple(sorted({(min(a, b), max(a, b)) for a, b in kept_apart if a in codes and b in codes} - enemies))
    pool = asm.Pool.from_items(pool_items, enemies=sorted(enemies | set(apart)), current_session=len(dates))
    return BankPool(pool=pool, items={it.code: it for it in items}, session_dates=dates, kept_apart=apart)


def load_bank_pool(session: Session, *, bank: BankRef, part: Part) -> BankPool:
    """Accepted versions of the bank's items of ``part`` (compromised ones included, so the
    assembler can say why they are excluded); the pairs of them that give each other away
    or repeat each other (``similarity_service.kept_apart_pairs``) never share a paper."""
    items = load_pool(session, bank=bank, part=part)
    return build_pool(items, kept_apart=[m.pair for m in kept_apart_pairs(items)])


# --------------------------------------------------------------------------------------
# Blueprints


@dataclass(frozen=True, slots=True)
class StoredBlueprint:
    id: int
    bank_id: int
    part: Part
    name: str
    version: int
    blueprint: asm.Blueprint
    element_table_version: int | None
    note: str
    created_by: str
    created_at: datetime


def _stored(rec: BlueprintRecord) -> StoredBlueprint:
    return StoredBlueprint(
        id=rec.id, bank_id=rec.bank_id, part=Part(rec.part), name=rec.name, version=rec.version,
        blueprint=asm.blueprint_from_dict(rec.spec), element_table_version=rec.element_table_version,
        note=rec.note, created_by=rec.created_by, created_at=rec.created_at,
    )


def save_blueprint(
    session: Session, *, bank: BankRef, blueprint: asm.Blueprint | dict, actor: str, note: str = "",
    element_table_version: int | None = None,
) -> StoredBlueprint:
    """Store ``blueprint`` as the next version of its name for this bank and part.

    A dict is validated with ``assembly.blueprint_from_dict`` (errors name the field). The
    stored version number is the bank's own sequence, whatever the input said.
    """
    try:
        bp = asm.blueprint_from_dict(blueprint) if isinstance(blueprint, dict) else asm.validate_blueprint(blueprint)
    except asm.AssemblyError as e:
        raise ValidationError(Message("The blueprint was refused: {reason}", reason=_error_text(e)),
                              field=getattr(e, "field", None) or "blueprint") from e
    try:
        part = Part(bp.part)
    except ValueError as e:
        raise ValidationError(Message("The part of the blueprint, '{value}', is not theory, practical or defence.",
                                      value=bp.part), field="part") from e
    if bp.level is not None and int(bp.level) != int(bank.level):
        raise ValidationError(
            Message("Blueprint {name} is for level {level}, but the bank {bank} is level {bank_level}.", name=bp.name,
                    level=Level(int(bp.level)), bank=bank.label, bank_level=Level(bank.level)),
            field="level")
    latest = session.scalar(
        select(func.max(BlueprintRecord.version)).where(
            BlueprintRecord.bank_id == bank.id, BlueprintRecord.part == part, BlueprintRecord.name == bp.name)
    ) or 0
    bp = replace(bp, version=latest + 1)
    rec = BlueprintRecord(bank_id=bank.id, part=part, name=bp.name, version=bp.version,
                          spec=asm.blueprint_to_dict(bp), element_table_version=element_table_version,
                          note=note or bp.note, created_by=actor)
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="blueprint.save", object_type="blueprint", object_id=rec.id,
                  details={"bank": bank.label, "part": part.value, "name": bp.name, "version": bp.version})
    return _stored(rec)


def element_rows(session: Session, *, bank: BankRef, part: Part) -> tuple[list[asm.ElementRow], int]:
    table = load_element_table(session, bank=bank, part=part)
    rows = [asm.ElementRow(code=n.code, parent_code=n.parent_code, weight=n.weight,
                           importance=n.importance.value if n.importance else None) for n in table.nodes]
    return rows, table.version


def derive_standard_blueprint(
    session: Session, *, bank: BankRef, part: Part, actor: str, name: str | None = None,
    max_overlap: int = 0, objective: str | None = None, save: bool = True,
) -> StoredBlueprint | asm.Blueprint:
    """The house standard blueprint of the bank's level, with element coverage derived from the
    current element table (one call); stored as a new version unless ``save`` is False. Its
    name (default :func:`standard_blueprint_name`) and note are in the centre's language:
    people look blueprints up by name."""
    part = Part(part)
    rows, table_version = element_rows(session, bank=bank, part=part)
    try:
        bp = asm.standard_blueprint(int(bank.level), rows, part=part.value,
                                    name=name or standard_blueprint_name(bank.level, part), max_overlap=max_overlap,
                                    objective=objective,
                                    note=for_storage(Message("standard blueprint (附件1 第16条, 第25条)")))
    except asm.AssemblyError as e:
        raise ValidationError(Message("No standard blueprint for {bank} {part}: {reason}", bank=bank.label, part=part,
                                      reason=_error_text(e)), field="part") from e
    if not save:
        return bp
    return save_blueprint(session, bank=bank, blueprint=bp, actor=actor, element_table_version=table_version,
                          note=for_storage(Message("derived from element table version {version}",
                                                   version=table_version)))


def standard_blueprint_name(level: Level | int, part: Part) -> str:
    """五级/初级工 理论知识 标准方案: the standard blueprint's name, in the centre's language."""
    return for_storage(Message("{level} {part} standard blueprint", level=Level(int(level)).title, part=Part(part)))


def load_blueprint(
    session: Session, *, bank: BankRef, part: Part, name: str | None = None, version: int | None = None
) -> StoredBlueprint:
    """A stored blueprint (default: the newest version of the most recently saved name)."""
    q = select(BlueprintRecord).where(BlueprintRecord.bank_id == bank.id, BlueprintRecord.part == Part(part))
    if name is not None:
        q = q.where(BlueprintRecord.name == name)
    if version is not None:
        q = q.where(BlueprintRecord.version == version)
    rec = session.scalar(q.order_by(BlueprintRecord.id.desc()).limit(1))
    if rec is None:
        if name and version:
            text = Message("{bank} {part} has no blueprint {name} version {version}.", bank=bank.label,
                           part=Part(part), name=name, version=version)
        elif name:
            text = Message("{bank} {part} has no blueprint {name}.", bank=bank.label, part=Part(part), name=name)
        else:
            text = Message("{bank} {part} has no blueprint yet; derive the standard blueprint first.",
                           bank=bank.label, part=Part(part))
        raise NotFoundError(text, field="blueprint", code="blueprint_not_found")
    return _stored(rec)


def get_blueprint(session: Session, blueprint_id: int) -> StoredBlueprint:
    rec = session.get(BlueprintRecord, blueprint_id)
    if rec is None:
        raise NotFoundError(Message("There is no blueprint number {id}.", id=blueprint_id), field="blueprint_id",
                            code="blueprint_not_found")
    return _stored(rec)


def list_blueprints(session: Session, *, bank: BankRef, part: Part | None = None) -> list[StoredBlueprint]:
    q = select(BlueprintRecord).where(BlueprintRecord.bank_id == bank.id)
    if part is not None:
        q = q.where(BlueprintRecord.part == Part(part))
    return [_stored(r) for r in session.scalars(q.order_by(BlueprintRecord.part, BlueprintRecord.name,
                                                           BlueprintRecord.version))]


# --------------------------------------------------------------------------------------
# Runs


@dataclass(frozen=True, slots=True)
class RunParams:
    n_forms: int = 2
    n_backups: int = 1
    solver: str = "cbc"
    time_limit_s: float = 60.0
    rel_gap: float = 0.01
    seed: int = 0
    practice: bool = False
    session_code: str = ""
    time_allowed_min: int | None = None
    formulation: str = "auto"

    def to_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class RunView:
    id: int
    bank_id: int
    part: Part
    blueprint_id: int
    state: RunState
    outcome: str
    progress: float
    message: Text
    params: dict[str, Any]
    report: dict[str, Any]  # messages in it are Message objects again (i18n.from_storable)
    paper_codes: tuple[str, ...]
    practice: bool
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    live: dict[str, Any] = dataclass_field(default_factory=dict)
    cancel_requested: bool = False
    queue_job_id: int | None = None

    @property
    def done(self) -> bool:
        return self.state in (RunState.FINISHED, RunState.FAILED, RunState.CANCELLED)


def _run_view(session: Session, rec: AssemblyRunRecord) -> RunView:
    codes = tuple(session.scalars(select(PaperRecord.code).where(PaperRecord.run_id == rec.id)
                                  .order_by(PaperRecord.id)))
    return RunView(id=rec.id, bank_id=rec.bank_id, part=Part(rec.part), blueprint_id=rec.blueprint_id,
                   state=RunState(rec.state), outcome=rec.outcome, progress=rec.progress,
                   message=message_from_column(rec.message), params=dict(rec.params or {}),
                   report=from_storable(dict(rec.report or {})), paper_codes=codes,
                   practice=rec.practice, requested_by=rec.requested_by, requested_at=rec.requested_at,
                   started_at=rec.started_at, finished_at=rec.finished_at, live=dict(rec.live or {}),
                   cancel_requested=bool(rec.cancel_requested), queue_job_id=rec.queue_job_id)


def _validate_params(params: RunParams) -> list[FieldMessage]:
    errors = []
    if not 1 <= params.n_forms <= 20:
        errors.append(FieldMessage("n_forms", Message("{value}: make between 1 and 20 main papers", value=params.n_forms)))
    if not 0 <= params.n_backups <= 10:
        errors.append(FieldMessage("n_backups", Message("{value}: make between 0 and 10 backup papers",
                                                        value=params.n_backups)))
    if params.solver not in asm.SOLVERS:
        errors.append(FieldMessage("solver", Message("'{value}' is not a solver; choose {solvers}", value=params.solver,
                                                     solvers=list(asm.SOLVERS))))
    if not 1 <= params.time_limit_s <= 3600:
        errors.append(FieldMessage("time_limit_s", Message("{value}: give between 1 and 3600 seconds",
                                                           value=params.time_limit_s)))
    if not 0 <= params.rel_gap < 1:
        errors.append(FieldMessage("rel_gap", Message("{value}: give a fraction such as 0.01", value=params.rel_gap)))
    if params.formulation not in asm.FORMULATIONS:
        errors.append(FieldMessage("formulation", Message("'{value}' is not a formulation; choose {formulations}",
                                                          value=params.formulation,
                                                          formulations=list(asm.FORMULATIONS))))
    if params.time_allowed_min is not None and not 10 <= params.time_allowed_min <= 600:
        errors.append(FieldMessage("time_allowed_min", Message("{value}: give between 10 and 600 minutes",
                                                               value=params.time_allowed_min)))
    return errors


def request_run(
    session: Session, *, bank: BankRef, blueprint: StoredBlueprint, params: RunParams, actor: str
) -> RunView:
    """Queue an assembly run. Refuses a bank below its minimums unless ``params.practice``
    (the override is ledgered)."""
    errors = _validate_params(params)
    if params.time_allowed_min is not None and (blueprint.part is Part.PRACTICAL
                                                or blueprint.blueprint.time_total_s is not None):
        # one rule for the time a paper allows (time_allowed_min): what the tasks take, or the
        # blueprint's fixed time that assembly holds every paper and backup to
        errors.append(FieldMessage("time_allowed_min", Message(
            "{value} min: the time allowed of these papers is set by blueprint {name}: its fixed time, else what "
            "a practical paper's tasks take together. Fix the time in the blueprint instead.",
            value=params.time_allowed_min, name=blueprint.name)))
    if errors:
        raise ValidationError(Message("The assembly run was not started."), errors=errors)
    if blueprint.bank_id != bank.id:
        raise ValidationError(Message("Blueprint {name} version {version} belongs to another bank.", name=blueprint.name,
                                      version=blueprint.version), field="blueprint")
    require_ready(session, bank=bank, parts=[blueprint.part], practice=params.practice, actor=actor,
                  purpose=Message("a practice paper") if params.practice else Message("an official paper"))
    rec = AssemblyRunRecord(bank_id=bank.id, part=blueprint.part, blueprint_id=blueprint.id,
                            state=RunState.QUEUED, params=params.to_dict(), practice=params.practice,
                            requested_by=actor, message=message_column(Message("queued")))
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="assembly.request", object_type="assembly_run", object_id=rec.id,
                  details={"bank": bank.label, "part": blueprint.part.value, "blueprint": blueprint.name,
                           "blueprint_version": blueprint.version, **params.to_dict()})
    return _run_view(session, rec)


def mark_running(session: Session, *, run_id: int) -> None:
    rec = _run_record(session, run_id)
    if rec.state is not RunState.QUEUED:
        raise ConflictError(Message("Assembly run {run} is {state}, not queued.", run=run_id, state=rec.state),
                            code="run_not_queued")
    rec.state = RunState.RUNNING
    rec.started_at = datetime.now(timezone.utc)
    rec.progress = 0.05
    rec.message = message_column(Message("loading the pool"))
    session.flush()


def mark_failed(session: Session, *, run_id: int, message: Text) -> None:
    rec = _run_record(session, run_id)
    rec.state = RunState.FAILED
    rec.finished_at = datetime.now(timezone.utc)
    rec.message = message_column(message)
    session.flush()


def message_column(text: Text) -> str:
    """A run's message as its text column stores it: a message as JSON (shown later in the
    reader's locale), a final string as it is."""
    if isinstance(text, Message):
        return json.dumps(text.to_data(), ensure_ascii=False, separators=(",", ":"))
    return str(text)


def message_from_column(value: str | None) -> Text:
    """The inverse of :func:`message_column` (older rows hold plain strings)."""
    if value and value.startswith('{"msgid"'):
        try:
            return Message.from_data(json.loads(value))
        except (ValueError, KeyError, TypeError):
            return value
    return value or ""


def _run_record(session: Session, run_id: int) -> AssemblyRunRecord:
    rec = session.get(AssemblyRunRecord, run_id)
    if rec is None:
        raise NotFoundError(Message("There is no assembly run number {run}.", run=run_id), field="run_id",
                            code="run_not_found")
    return rec


def get_run(session: Session, *, run_id: int) -> RunView:
    return _run_view(session, _run_record(session, run_id))


def list_runs(session: Session, *, bank: BankRef, offset: int = 0, limit: int = 50) -> tuple[list[RunView], int]:
    q = select(AssemblyRunRecord).where(AssemblyRunRecord.bank_id == bank.id)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    recs = session.scalars(q.order_by(AssemblyRunRecord.id.desc()).offset(offset).limit(limit)).all()
    return [_run_view(session, r) for r in recs], total


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """What a run needs to solve, loaded in one short transaction: the solve itself then runs
    outside any transaction (a long solve must not hold the database)."""

    run_id: int
    bank: BankRef
    blueprint: StoredBlueprint
    params: RunParams
    bank_pool: BankPool


def prepare_run(session: Session, *, run_id: int) -> PreparedRun:
    rec = _run_record(session, run_id)
    if rec.state is RunState.QUEUED:
        mark_running(session, run_id=run_id)
    elif rec.state is not RunState.RUNNING:
        raise ConflictError(Message("Assembly run {run} is {state}; it cannot run again.", run=run_id,
                                    state=RunState(rec.state)), code="run_not_queued")
    bank = get_bank_by_id(session, rec.bank_id)
    return PreparedRun(run_id=run_id, bank=bank, blueprint=get_blueprint(session, rec.blueprint_id),
                       params=RunParams(**rec.params), bank_pool=load_bank_pool(session, bank=bank, part=Part(rec.part)))


def solve_run(prepared: PreparedRun) -> asm.AssemblyResult:
    """Pure: no database."""
    p = prepared.params
    return asm.assemble_forms(
        prepared.bank_pool.pool, prepared.blueprint.blueprint, n_forms=p.n_forms, n_backups=p.n_backups,
        solver=p.solver, time_limit_s=p.time_limit_s, rel_gap=p.rel_gap, seed=p.seed, formulation=p.formulation,
    )


def record_run_result(session: Session, *, prepared: PreparedRun, result: asm.AssemblyResult) -> RunView:
    rec = _run_record(session, prepared.run_id)
    bp_pool = prepared.bank_pool
    rec.report = _with_kept_apart(result_to_dict(result), bp_pool)
    rec.outcome = result.status
    rec.pool_snapshot = [[code, bp_pool.items[code].version_id] for code in sorted(bp_pool.items)]
    rec.pool_fingerprint = result.pool_fingerprint
    papers: list[PaperRecord] = []
    refusal = None
    if result.forms:
        refusal = cueing_refusal([(label, [bp_pool.items[c] for c in codes]) for codes, (_kind, label)
                                  in zip(result.forms, form_labels(result.n_forms, result.n_backups))])
        if refusal is None:
            papers = _record_papers(session, rec=rec, bank=prepared.bank, stored=prepared.blueprint,
                                    params=prepared.params, result=result, bp_pool=bp_pool)
        else:
            rec.outcome = REFUSED
    rec.state = RunState.FINISHED
    rec.progress = 1.0
    rec.finished_at = datetime.now(timezone.utc)
    rec.message = message_column(refusal or outcome_message(result))
    rec.live = {**{k: v for k, v in dict(rec.live or {}).items() if k != "best_forms"}, "stage": "finished",
                "fraction": 1.0, "elapsed_s": round(result.report.time_s, 2),
                "incumbent": _plain_number(result.report.objective), "bound": _plain_number(result.report.best_bound),
                "gap": _plain_number(result.report.rel_gap),
                "stage_text": Message("Finished: {outcome}", outcome=status_words(result.status)).to_data()}
    session.flush()
    ledger.append(session, actor=rec.requested_by, action="assembly.finish", object_type="assembly_run",
                  object_id=rec.id, details={"outcome": rec.outcome, "papers": [p.code for p in papers],
                                             "gap": result.report.rel_gap, "time_s": result.report.time_s})
    return _run_view(session, rec)


def _with_kept_apart(report: dict[str, Any], bp_pool: BankPool) -> dict[str, Any]:
    """The run's report with the pairs the similarity check made it keep apart (and a note
    saying so, for the report's readers)."""
    pairs = bp_pool.kept_apart
    if not pairs:
        return report
    shown = [f"{a}/{b}" for a, b in pairs[:20]] + (["…"] if len(pairs) > 20 else [])
    note = Message("The similarity check found {n} pairs of items that give each other away or repeat each other "
                   "and are not enemies yet ({pairs}); no paper holds both items of a pair. Confirm them as enemies "
                   "in the bank's similarity report.", n=len(pairs), pairs=shown)
    return {**report, "notes": [*report.get("notes", []), _data(note)], "kept_apart": [list(p) for p in pairs]}


def set_progress(session: Session, *, run_id: int, progress: float, message: Text) -> None:
    rec = _run_record(session, run_id)
    rec.progress = max(0.0, min(1.0, progress))
    rec.message = message_column(message)
    session.flush()


def _plain_number(x: Any) -> float | None:
    return None if x is None or x != x else float(x)  # NaN is not JSON


def live_progress(progress: Any, *, time_limit_s: float) -> dict[str, Any]:
    """A solver progress report (``SolveProgress``) as stored with the run: stage, the stage in
    words (a Message, rendered in the reader's locale), incumbent, bound, gap, elapsed."""
    text = getattr(progress, "stage_text", None)
    return {
        "stage": str(getattr(progress, "stage", "solving")),
        "stage_text": (text if isinstance(text, Message) else Message("Solving")).to_data(),
        "fraction": max(0.0, min(1.0, float(getattr(progress, "fraction", 0.0) or 0.0))),
        "elapsed_s": round(float(getattr(progress, "elapsed_s", 0.0) or 0.0), 2),
        "incumbent": _plain_number(getattr(progress, "incumbent", None)),
        "bound": _plain_number(getattr(progress, "bound", None)),
        "gap": _plain_number(getattr(progress, "gap", None)),
        "time_limit_s": time_limit_s,
        "has_papers": getattr(progress, "best_forms", None) is not None,
    }


def record_progress(session: Session, *, run_id: int, progress: Any) -> None:
    """Store the solve's progress (short write; the run page polls it). Progress 0.1-0.95
    follows the solver's own fraction."""
    rec = _run_record(session, run_id)
    if rec.state is not RunState.RUNNING:
        return
    live = live_progress(progress, time_limit_s=float((rec.params or {}).get("time_limit_s", 0)))
    best = dict(rec.live or {}).get("best_forms")
    rec.live = {**live, **({"best_forms": best} if best else {})}
    if getattr(progress, "best_forms", None):
        rec.live = {**rec.live, "best_forms": [list(f) for f in progress.best_forms]}
    rec.progress = 0.1 + 0.85 * live["fraction"]
    session.flush()


def request_cancel(session: Session, *, run_id: int, actor: str) -> RunView:
    """Ask a queued or running run to stop: a queued run is cancelled at once (the caller also
    cancels its queue job), a running one when its job sees the request (within a second; the
    solver is killed). A finished run cannot be cancelled (409)."""
    rec = _run_record(session, run_id)
    state = RunState(rec.state)
    if state in (RunState.FINISHED, RunState.FAILED, RunState.CANCELLED):
        raise ConflictError(Message("Assembly run {run} has already ended ({state}); there is nothing to cancel.",
                                    run=run_id, state=state.value))
    rec.cancel_requested = True
    if state is RunState.QUEUED:
        _cancelled(rec, actor=actor)
    session.flush()
    ledger.append(session, actor=actor, action="assembly.cancel", object_type="assembly_run", object_id=run_id,
                  details={"state": state.value})
    return _run_view(session, rec)


def _cancelled(rec: AssemblyRunRecord, *, actor: str, elapsed_s: float | None = None) -> None:
    rec.state = RunState.CANCELLED
    rec.outcome = "cancelled"
    rec.finished_at = datetime.now(timezone.utc)
    rec.message = message_column(Message("cancelled by {user}", user=actor))
    rec.live = {**dict(rec.live or {}), "stage": "cancelled",
                "stage_text": Message("Cancelled by {user}", user=actor).to_data(),
                **({"elapsed_s": round(elapsed_s, 2)} if elapsed_s is not None else {})}


def mark_cancelled(session: Session, *, run_id: int, elapsed_s: float | None = None) -> None:
    rec = _run_record(session, run_id)
    if rec.state is RunState.RUNNING or rec.state is RunState.QUEUED:
        who = session.scalar(select(ledger.LedgerEntryRecord.actor).where(
            ledger.LedgerEntryRecord.action == "assembly.cancel",
            ledger.LedgerEntryRecord.object_id == str(run_id)).order_by(ledger.LedgerEntryRecord.id.desc()).limit(1))
        _cancelled(rec, actor=who or rec.requested_by, elapsed_s=elapsed_s)
        session.flush()


def requeue_run(session: Session, *, run_id: int, reason: Message) -> None:
    """The worker running it stops (shutdown): back to the queue; the queue runs it again."""
    rec = _run_record(session, run_id)
    if rec.state is RunState.RUNNING:
        rec.state = RunState.QUEUED
        rec.progress = 0.0
        rec.message = message_column(Message("queued again"))
        rec.live = {"stage": "queued", "stage_text": reason.to_data()}
        session.flush()


def cancel_wanted(session: Session, *, run_id: int) -> bool:
    return bool(session.scalar(select(AssemblyRunRecord.cancel_requested).where(AssemblyRunRecord.id == run_id)))


def solve_job(prepared: PreparedRun) -> SolveJob:
    """The child process's part of a run (``itembank.solver_process``)."""
    p = prepared.params
    return SolveJob(pool=prepared.bank_pool.pool, blueprint=prepared.blueprint.blueprint, time_limit_s=p.time_limit_s,
                    kwargs=dict(n_forms=p.n_forms, n_backups=p.n_backups, solver=p.solver,
                                time_limit_s=p.time_limit_s, rel_gap=p.rel_gap, seed=p.seed,
                                formulation=p.formulation))


def stopped_result(prepared: PreparedRun, progress: Any, *, elapsed_s: float) -> asm.AssemblyResult:
    """The result of a solve killed at its deadline: the best papers it had reported (if they
    pass the independent check) with the last bound and gap it reported, status time_limit."""
    p = prepared.params
    pool, bp = prepared.bank_pool.pool, prepared.blueprint.blueprint
    forms = tuple(tuple(f) for f in (getattr(progress, "best_forms", None) or ()))
    checks = asm.check_forms(pool, bp, [list(f) for f in forms]) if forms else None
    diagnosis: list[Message] = [
        Message("stopped at the time limit of {limit:g} s (the solver was ended after {seconds:.1f} s); the best "
                "papers found so far are kept", limit=p.time_limit_s, seconds=elapsed_s) if forms else
        Message("stopped at the time limit of {limit:g} s (the solver was ended after {seconds:.1f} s); no papers "
                "found", limit=p.time_limit_s, seconds=elapsed_s)]
    if checks is not None and not checks.ok:
        diagnosis.append(Message("the best papers reported fail the blueprint check and are not kept: {problems}",
                                 problems=Sentences(checks.violations[:5])))
        forms, checks = (), None
    incumbent, bound = getattr(progress, "incumbent", None), getattr(progress, "bound", None)
    report = asm.SolveReport(solver=p.solver, status="time_limit", objective=incumbent, best_bound=bound,
                             rel_gap=getattr(progress, "gap", None), time_s=elapsed_s, n_variables=0, n_binaries=0,
                             n_constraints=0, sense="max" if bp.irt.objective == "maximin" else "min",
                             formulation=p.formulation,
                             time_limit_s=p.time_limit_s, rel_gap_limit=p.rel_gap,
                             solver_status="killed at the deadline")
    return asm.AssemblyResult(
        status="time_limit", forms=forms, n_forms=p.n_forms, n_backups=p.n_backups, report=report, checks=checks,
        diagnosis=tuple(diagnosis), relaxations=(), seed=p.seed, blueprint_name=bp.name,
        blueprint_version=bp.version, pool_fingerprint=pool.fingerprint(), pool_snapshot=pool.snapshot())


class RunInterrupted(Exception):
    """The worker running the job is stopping: the run went back to the queue."""


def execute_run_job(maker: Callable[[], Session], *, run_id: int,
                    should_abort: Callable[[], str | None] = lambda: None,
                    progress_every_s: float = 0.5) -> RunView:
    """Run a queued assembly run as a job: load the pool (short transaction), solve in a child
    process outside any transaction with the run's deadline enforced by a kill
    (``itembank.solver_process``), storing progress as it comes (short writes, at most every
    ``progress_every_s``) and watching for a cancel, then record the outcome (one short
    transaction: papers, report and ledger entry, all or nothing).

    ``should_abort`` returns "shutdown" when the worker stops (the run goes back to the queue:
    ``RunInterrupted``) or "cancel" for the queue's own abort request."""
    current = run_transaction(maker, lambda s: get_run(s, run_id=run_id))
    if current.done:  # cancelled while queued, or already recorded by an earlier attempt
        return current
    try:
        prepared = run_transaction(maker, lambda s: prepare_run(s, run_id=run_id))
    except ItemBankError as exc:
        failure: Text = exc.text if isinstance(exc.text, (str, Message)) else exc.message  # a message, kept as data
        run_transaction(maker, lambda s: mark_failed(s, run_id=run_id, message=failure))
        return run_transaction(maker, lambda s: get_run(s, run_id=run_id))
    if run_transaction(maker, lambda s: cancel_wanted(s, run_id=run_id)):
        run_transaction(maker, lambda s: mark_cancelled(s, run_id=run_id))
        return run_transaction(maker, lambda s: get_run(s, run_id=run_id))
    last_write = [0.0]
    last_check = [0.0]
    stop_reason: list[str | None] = [None]

    def on_progress(progress: Any) -> None:
        now = time.monotonic()
        if now - last_write[0] >= progress_every_s or getattr(progress, "best_forms", None):
            last_write[0] = now
            run_transaction(maker, lambda s: record_progress(s, run_id=run_id, progress=progress))

    def should_stop() -> bool:
        reason = should_abort()
        now = time.monotonic()
        if reason is None and now - last_check[0] >= 0.25:
            last_check[0] = now
            if run_transaction(maker, lambda s: cancel_wanted(s, run_id=run_id)):
                reason = "cancel"
        stop_reason[0] = reason
        return reason is not None

    outcome = run_solver(solve_job(prepared), on_progress=on_progress, should_stop=should_stop)
    if outcome.status == "stopped" and stop_reason[0] == "shutdown":
        run_transaction(maker, lambda s: requeue_run(s, run_id=run_id, reason=Message(
            "Interrupted: the worker stopped; the run is queued again")))
        raise RunInterrupted(run_id)
    if outcome.status == "stopped":
        run_transaction(maker, lambda s: mark_cancelled(s, run_id=run_id, elapsed_s=outcome.elapsed_s))
    elif outcome.status == "error":
        message = (Message("The run was refused: {reason}", reason=outcome.error) if outcome.error_kind == "input"
                   else Message("The solver failed: {reason}", reason=outcome.error))
        run_transaction(maker, lambda s: mark_failed(s, run_id=run_id, message=message))
    else:
        result = outcome.result if outcome.status == "done" else stopped_result(
            prepared, outcome.last_progress, elapsed_s=outcome.elapsed_s)
        assert result is not None
        run_transaction(maker, lambda s: record_run_result(s, prepared=prepared, result=result))
    return run_transaction(maker, lambda s: get_run(s, run_id=run_id))


def execute_run(session: Session, *, run_id: int) -> RunView:
    """Prepare, solve and record in the caller's transaction (CLI, demo, tests). The caller
    commits. Infeasibility and time limits are outcomes (the run finishes with its diagnosis,
    no papers); only errors in the input raise."""
    prepared = prepare_run(session, run_id=run_id)
    return record_run_result(session, prepared=prepared, result=solve_run(prepared))


REFUSED = "refused"  # a run's outcome when its papers failed the cueing check (no papers recorded)
STATUS_WORDS = {  # the solver's outcome as a bank manager says it
    "optimal": N_("optimal solution"),
    "feasible": N_("feasible solution (not proven optimal)"),
    "infeasible": N_("no solution: the blueprint cannot be met from this bank"),
    "time_limit": N_("stopped at the time limit"),
    REFUSED: N_("papers refused: items on one paper give each other away"),
}


def status_words(status: str) -> Message:
    """The solver's outcome (``optimal`` ...) in words."""
    return Message(STATUS_WORDS.get(status, N_("unknown outcome")))


def outcome_message(result: asm.AssemblyResult) -> Message:
    """One line on a run's outcome: "最优解：4 份试卷，用时 3.2 秒，差距 0.40%" / the first reasons."""
    r = result.report
    if result.forms:
        if r.rel_gap is not None:
            return Message("{status}: {n} papers in {seconds:.1f} s, gap {gap:.2%}", status=status_words(result.status),
                           n=len(result.forms), seconds=r.time_s, gap=r.rel_gap)
        return Message("{status}: {n} papers in {seconds:.1f} s", status=status_words(result.status),
                       n=len(result.forms), seconds=r.time_s)
    if result.diagnosis:
        return Message("{status}: no papers. {reasons}", status=status_words(result.status),
                       reasons=list(result.diagnosis[:3]))
    return Message("{status}: no papers.", status=status_words(result.status))


def _error_text(exc: Exception) -> Text:
    """The message an error of the assembly core carries (a message, rendered when read)."""
    arg = exc.args[0] if exc.args else ""
    return arg if isinstance(arg, (Message, str)) else str(exc)


def run_assembly(
    session: Session, *, bank: BankRef, blueprint: StoredBlueprint, params: RunParams, actor: str,
) -> RunView:
    """Request and execute in one transaction (CLI, demo, tests)."""
    view = request_run(session, bank=bank, blueprint=blueprint, params=params, actor=actor)
    return execute_run(session, run_id=view.id)


def _data(message: Any) -> Any:
    """A message (or a list of them) in its stored form (``i18n.to_storable``: rendered in the
    reader's locale when shown; ``RunView.report`` holds it as a message again)."""
    return to_storable(message)


def result_to_dict(result: asm.AssemblyResult) -> dict[str, Any]:
    """Plain data of an assembly result: kept with the run so it can be shown and re-checked.

    Every text is stored as message data (``i18n.to_storable``), so that it is shown in the
    reader's locale (``RunView.report`` holds the messages again: ``i18n.from_storable``)."""
    def report(r: asm.SolveReport) -> dict[str, Any]:
        return {
            "solver": r.solver, "status": r.status, "status_text": _data(r.status_text),
            "objective": r.objective, "best_bound": r.best_bound, "rel_gap": r.rel_gap,
            "time_s": r.time_s, "n_variables": r.n_variables, "n_binaries": r.n_binaries,
            "n_constraints": r.n_constraints, "sense": r.sense, "formulation": r.formulation,
            "method": _data(r.method), "bound_source": _data(r.bound_source),
            "restricted": _data(r.restricted), "time_limit_s": r.time_limit_s,
            "rel_gap_limit": r.rel_gap_limit, "solver_status": _data(r.solver_status),
            "stages": [report(s) for s in r.stages],
        }

    checks = None
    if result.checks is not None:
        c = result.checks
        checks = {
            "papers": [{"paper": p.paper, "rows": [_row(r) for r in p.rows]} for p in c.papers],
            "cross": [_row(r) for r in c.cross],
            "parallelism": {
                "thetas": list(c.parallelism.thetas),
                "information": [list(x) for x in c.parallelism.information],
                "max_information_spread": c.parallelism.max_information_spread,
                "tcc_spread": list(c.parallelism.tcc_spread),
                "mean_ratings": list(c.parallelism.mean_ratings),
                "mean_rating_spread": c.parallelism.mean_rating_spread,
                "max_overlap": c.parallelism.max_overlap,
            },
            "violations": [_data(v) for v in c.violations],
        }
    return {
        "status": result.status,
        "status_text": _data(result.status_text),
        "forms": [list(f) for f in result.forms],
        "n_forms": result.n_forms,
        "n_backups": result.n_backups,
        "report": report(result.report),
        "checks": checks,
        "diagnosis": [_data(d) for d in result.diagnosis],
        "diagnosis_proven": result.diagnosis_proven,
        "relaxations": [
            {"name": x.name, "family": x.family, "key": x.key, "bound": x.bound, "target": x.target,
             "needed": x.needed, "shortfall": x.shortfall, "message": _data(x.message),
             "proven": x.proven}
            for x in result.relaxations
        ],
        "seed": result.seed,
        "blueprint_name": result.blueprint_name,
        "blueprint_version": result.blueprint_version,
        "pool_fingerprint": result.pool_fingerprint,
        "notes": [_data(n) for n in result.notes],
        "leaked_forms": [list(f) for f in result.leaked_forms],
        "in_use_forms": [list(f) for f in result.in_use_forms],
        "parallelism": [
            {"paper": par.paper, "ok": par.ok, "compared_with": list(par.compared_with),
             "warnings": [_data(w) for w in par.warnings],
             "curves": [{"metric": c.metric, "thetas": list(c.thetas), "new": list(c.new),
                         "in_use": [list(row) for row in c.in_use],
                         "differences": list(c.differences), "largest": list(c.largest),
                         "tolerance": c.tolerance,
                         "tolerance_from_blueprint": c.tolerance_from_blueprint, "ok": c.ok}
                        for c in par.curves]}
            for par in result.parallelism
        ],
    }


def _row(r: asm.RowCheck) -> dict[str, Any]:
    return {"name": r.name, "family": r.family, "key": r.key, "label": _data(r.label),
            "achieved": r.achieved, "lo": r.lo, "hi": r.hi, "ok": r.ok}


def section_order(setting: str | None = None) -> list[ItemType]:
    """The centre's order of sections: the item types ``setting`` names (default: the
    ``section_order`` setting), then the others in the national template's order."""
    text = Settings().section_order if setting is None else setting
    named: list[ItemType] = []
    for raw in (s.strip() for s in text.split(",")):
        if not raw:
            continue
        try:
            t = ItemType(raw)
        except ValueError:
            raise ValidationError(Message("section order: {value} is not an item type; use {types}", value=raw,
                                          types=[x.value for x in SECTION_ORDER]), field="section_order") from None
        if t not in named:
            named.append(t)
    return named + [t for t in SECTION_ORDER if t not in named]


def _printed_order(codes: Sequence[str], items: dict[str, Item]) -> list[str]:
    rank = {t: i for i, t in enumerate(section_order())}
    position = {c: i for i, c in enumerate(codes)}
    return sorted(codes, key=lambda c: (rank[items[c].item_type], position[c]))


def _checks(rows: list[dict[str, Any]], items: Sequence[Item]) -> dict[str, Any]:
    """A paper's stored checks: the blueprint rows, and the pairs of its items that give each
    other away or repeat each other (``itembank.similarity_service.paper_cueing``: none when
    the bank's confirmed pairs are enemies)."""
    return {"rows": rows, "cueing": [match_to_data(m) for m in paper_cueing(items)]}


def form_labels(n_forms: int, n_backups: int) -> list[tuple[PaperKind, str]]:
    labels = [(PaperKind.FORM, chr(ord("A") + i)) for i in range(n_forms)]
    return labels + [(PaperKind.BACKUP, f"备用{i + 1}") for i in range(n_backups)]


def _paper_code(bank: BankRef, part: Part, run_id: int, label: str) -> str:
    suffix = label if label.isascii() else f"X{label.removeprefix('备用')}"
    return f"{bank.occupation.code}-L{int(bank.level)}-{PART_LETTER[part]}-R{run_id:04d}-{suffix}"


def _record_papers(
    session: Session, *, rec: AssemblyRunRecord, bank: BankRef, stored: StoredBlueprint, params: RunParams,
    result: asm.AssemblyResult, bp_pool: BankPool,
) -> list[PaperRecord]:
    part = Part(rec.part)
    first_backup = _next_backup_number(session, bank.id, part)
    labels = [(k, lab if k is PaperKind.FORM else f"备用{first_backup + int(lab.removeprefix('备用')) - 1}")
              for k, lab in form_labels(result.n_forms, result.n_backups)]
    checks = result_to_dict(result)["checks"] or {}
    per_paper = {p["paper"]: p["rows"] for p in checks.get("papers", [])}
    out = []
    for index, (codes, (kind, label)) in enumerate(zip(result.forms, labels)):
        paper = PaperRecord(
            code=_paper_code(bank, part, rec.id, label), bank_id=bank.id, part=part, run_id=rec.id,
            blueprint_id=stored.id, kind=kind, form_label=label, status=PaperStatus.ASSEMBLED,
            practice=params.practice,
            time_allowed_min=time_allowed_min(stored.blueprint, codes, bp_pool.items,
                                              default=params.time_allowed_min or DEFAULT_TIME_ALLOWED[part]),
            checks=_checks(per_paper.get(index, []), [bp_pool.items[c] for c in codes]), created_by=rec.requested_by,
        )
        ordered = _printed_order(list(codes), bp_pool.items)
        paper.items = [
            PaperItemRecord(position=i, item_id=bp_pool.items[c].id, version_id=bp_pool.items[c].version_id)
            for i, c in enumerate(ordered)
        ]
        session.add(paper)
        out.append(paper)
    session.flush()
    return out


# --------------------------------------------------------------------------------------
# Papers


@dataclass(frozen=True, slots=True)
class PaperView:
    """A stored paper with its record-level facts (status, run) and the domain ``Paper``."""

    paper: Paper
    id: int
    status: PaperStatus
    run_id: int | None
    blueprint_id: int | None
    checks: dict[str, Any]
    replaces: str | None
    status_reason: str


def _paper_record(session: Session, code: str) -> PaperRecord:
    rec = session.scalar(select(PaperRecord).where(PaperRecord.code == code))
    if rec is None:
        raise NotFoundError(Message("There is no paper {code}.", code=code), field="paper_code",
                            code="paper_not_found")
    return rec


def _paper_view(session: Session, rec: PaperRecord, *, centre_name: str) -> PaperView:
    bank = get_bank_by_id(session, rec.bank_id)
    version_ids = [pi.version_id for pi in rec.items]
    rows = session.execute(
        select(ItemRecord, ItemVersionRecord).join(ItemVersionRecord, ItemVersionRecord.item_id == ItemRecord.id)
        .where(ItemVersionRecord.id.in_(version_ids))
    ).all()
    by_vid = {v.id: item_from_records(i, v, bank=bank) for i, v in rows}
    items = tuple(by_vid[vid] for vid in version_ids)
    paper = Paper(
        code=rec.code, occupation=bank.occupation, level=Level(bank.level), part=Part(rec.part),
        form_label=rec.form_label, kind=PaperKind(rec.kind), items=items, time_allowed_min=rec.time_allowed_min,
        centre_name=centre_name, practice=rec.practice,
        blueprint_version=get_blueprint(session, rec.blueprint_id).version if rec.blueprint_id else None,
        created_at=rec.created_at, pictures=media.pictures_for_items(session, items),
    )
    replaces = session.scalar(select(PaperRecord.code).where(PaperRecord.id == rec.replaces_paper_id)) \
        if rec.replaces_paper_id else None
    return PaperView(paper=paper, id=rec.id, status=PaperStatus(rec.status), run_id=rec.run_id,
                     blueprint_id=rec.blueprint_id, checks=dict(rec.checks or {}), replaces=replaces,
                     status_reason=rec.status_reason)


def get_paper(session: Session, *, code: str, centre_name: str = "职业技能等级认定中心") -> PaperView:
    """A paper with the exact item versions it was assembled with."""
    return _paper_view(session, _paper_record(session, code), centre_name=centre_name)


def list_papers(
    session: Session, *, bank: BankRef, part: Part | None = None, status: PaperStatus | None = None,
    run_id: int | None = None, offset: int = 0, limit: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    """Paper summaries (no content): code, kind, label, status, run, item count, created."""
    q = select(PaperRecord).where(PaperRecord.bank_id == bank.id)
    if part is not None:
        q = q.where(PaperRecord.part == Part(part))
    if status is not None:
        q = q.where(PaperRecord.status == PaperStatus(status))
    if run_id is not None:
        q = q.where(PaperRecord.run_id == run_id)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    recs = session.scalars(q.order_by(PaperRecord.id.desc()).offset(offset).limit(limit)).all()
    counts = dict(session.execute(
        select(PaperItemRecord.paper_id, func.count()).where(PaperItemRecord.paper_id.in_([r.id for r in recs]))
        .group_by(PaperItemRecord.paper_id)).all()) if recs else {}
    return [
        {"code": r.code, "kind": PaperKind(r.kind).value, "form_label": r.form_label,
         "status": PaperStatus(r.status).value, "part": Part(r.part).value, "run_id": r.run_id,
         "practice": r.practice, "n_items": counts.get(r.id, 0), "time_allowed_min": r.time_allowed_min,
         "created_at": r.created_at}
        for r in recs
    ], total


def set_paper_status(
    session: Session, *, code: str, status: PaperStatus, reason: str, actor: str
) -> None:
    rec = _paper_record(session, code)
    old = rec.status
    rec.status = status
    rec.status_reason = reason
    session.flush()
    ledger.append(session, actor=actor, action="paper.status", object_type="paper", object_id=code,
                  details={"from": PaperStatus(old).value, "to": status.value, "reason": reason})


def _run_pool_snapshot(session: Session, run: AssemblyRunRecord, bank: BankRef) -> BankPool:
    """The pool exactly as the run saw it (its item versions), with usage as it is now."""
    version_ids = [vid for _, vid in run.pool_snapshot]
    rows = session.execute(
        select(ItemRecord, ItemVersionRecord).join(ItemVersionRecord, ItemVersionRecord.item_id == ItemRecord.id)
        .where(ItemVersionRecord.id.in_(version_ids))
    ).all()
    from itembank.items import enemy_codes  # local: only needed here

    items = sorted((item_from_records(i, v, bank=bank, enemies=enemy_codes(session, item_id=i.id)) for i, v in rows),
                   key=lambda it: it.code)
    return build_pool(items, kept_apart=[m.pair for m in kept_apart_pairs(items)])


def recheck_paper(session: Session, *, code: str) -> asm.CheckReport:
    """Re-check a stored paper against its blueprint version on the pool snapshot it was
    assembled from, independently of the solver."""
    rec = _paper_record(session, code)
    if rec.run_id is None or rec.blueprint_id is None:
        raise ConflictError(Message("Paper {code} was not assembled by a recorded run; there is nothing to re-check it "
                                    "against.", code=code), code="paper_without_run")
    run = _run_record(session, rec.run_id)
    bank = get_bank_by_id(session, rec.bank_id)
    bp_pool = _run_pool_snapshot(session, run, bank)
    codes_by_vid = {it.version_id: it.code for it in bp_pool.items.values()}
    form = [codes_by_vid[pi.version_id] for pi in rec.items]
    return asm.check_forms(bp_pool.pool, get_blueprint(session, rec.blueprint_id).blueprint, [form], sealed=[0])


# --------------------------------------------------------------------------------------
# Backups and leaks: every paper still in use constrains a new one (附件16)


@dataclass(frozen=True, slots=True)
class PapersInUse:
    """The papers a new backup or replacement of one bank and part must respect.

    ``family``: the papers of the leaked (or extended) paper's run and of the runs that added
    backups or replacements to it, in use (not leaked, not void), oldest first; ``others``:
    papers of other runs of the bank and part sealed (seal not void) for exam sessions that
    have not ended and are not cancelled;
    ``leaked``: every leaked paper of the bank and part (their items and their enemies never
    come back).
    """

    family: tuple[PaperRecord, ...]
    others: tuple[PaperRecord, ...]
    leaked: tuple[PaperRecord, ...]


def _run_root(runs: dict[int, AssemblyRunRecord], papers_by_code: dict[str, PaperRecord], run_id: int) -> int:
    """The run a chain of later backups and replacements started from."""
    seen: set[int] = set()
    while run_id not in seen:
        seen.add(run_id)
        params = runs[run_id].params or {}
        parent: int | None = None
        if params.get("backups_for_run") is not None:
            parent = int(params["backups_for_run"])
        elif params.get("replaces"):
            replaced = papers_by_code.get(str(params["replaces"]))
            parent = replaced.run_id if replaced is not None else None
        if parent is None or parent not in runs:
            return run_id
        run_id = parent
    return run_id


def papers_in_use(session: Session, *, bank_id: int, part: Part, run_id: int,
                  now: datetime | None = None) -> PapersInUse:
    """The papers in use around run ``run_id`` (see :class:`PapersInUse`)."""
    from itembank.orm_lifecycle import ExamSessionRecord  # local: lifecycle tables
    from itembank.orm_sealing import SealedPaperRecord, SealState

    now = now or datetime.now(timezone.utc)
    runs = {r.id: r for r in session.scalars(select(AssemblyRunRecord).where(
        AssemblyRunRecord.bank_id == bank_id, AssemblyRunRecord.part == Part(part)))}
    papers = list(session.scalars(select(PaperRecord).where(
        PaperRecord.bank_id == bank_id, PaperRecord.part == Part(part)).order_by(PaperRecord.id)))
    by_code = {p.code: p for p in papers}
    root = _run_root(runs, by_code, run_id) if run_id in runs else run_id
    family_runs = {rid for rid in runs if _run_root(runs, by_code, rid) == root}
    void = (PaperStatus.LEAKED, PaperStatus.VOID)
    family = tuple(p for p in papers if p.run_id in family_runs and PaperStatus(p.status) not in void)
    family_ids = {p.id for p in family}
    live = session.execute(
        select(SealedPaperRecord.paper_id, ExamSessionRecord.ends_at)
        .join(ExamSessionRecord, ExamSessionRecord.id == SealedPaperRecord.exam_session_id)
        .where(SealedPaperRecord.state != SealState.VOID, ExamSessionRecord.status != "cancelled")).all()
    ongoing = {pid for pid, ends in live if (ends if ends.tzinfo else ends.replace(tzinfo=timezone.utc)) > now}
    others = tuple(p for p in papers if p.id in ongoing and p.id not in family_ids
                   and PaperStatus(p.status) not in void)
    leaked = tuple(p for p in papers if PaperStatus(p.status) is PaperStatus.LEAKED)
    return PapersInUse(family=family, others=others, leaked=leaked)


def _pool_for_papers(session: Session, *, bank: BankRef, part: Part, papers: Sequence[PaperRecord]
                     ) -> tuple[BankPool, dict[int, str]]:
    """The bank's pool plus the items of ``papers`` that are no longer accepted (kept as
    retired, never eligible), and item id -> code for every item of those papers."""
    bp_pool = load_bank_pool(session, bank=bank, part=part)
    by_item = {it.id: it.code for it in bp_pool.items.values()}
    missing = {pi.version_id for p in papers for pi in p.items if pi.item_id not in by_item}
    if missing:
        from itembank.items import enemy_codes  # local: only needed here

        rows = session.execute(
            select(ItemRecord, ItemVersionRecord).join(ItemVersionRecord, ItemVersionRecord.item_id == ItemRecord.id)
            .where(ItemVersionRecord.id.in_(missing))).all()
        latest: dict[int, Item] = {}
        for i, v in rows:
            item = item_from_records(i, v, bank=bank, enemies=enemy_codes(session, item_id=i.id))
            if i.id not in latest or item.version > latest[i.id].version:
                latest[i.id] = item
        bp_pool = build_pool(list(bp_pool.items.values()), retired=list(latest.values()),
                             kept_apart=bp_pool.kept_apart)
        by_item = {it.id: it.code for it in bp_pool.items.values()}
    return bp_pool, by_item


def _codes(paper: PaperRecord, by_item: dict[int, str]) -> list[str]:
    return [by_item[pi.item_id] for pi in paper.items]


def _new_paper_record(session: Session, *, bank: BankRef, part: Part, run: AssemblyRunRecord,
                      stored: StoredBlueprint, codes: Sequence[str], bp_pool: BankPool, label: str,
                      practice: bool, time_allowed_min: int, actor: str, checks: dict[str, Any],
                      replaces: PaperRecord | None = None) -> PaperRecord:
    paper = PaperRecord(
        code=_paper_code(bank, part, run.id, label), bank_id=bank.id, part=part, run_id=run.id,
        blueprint_id=stored.id, kind=PaperKind.BACKUP, form_label=label, status=PaperStatus.ASSEMBLED,
        practice=practice, time_allowed_min=time_allowed_min, replaces_paper_id=replaces.id if replaces else None,
        created_by=actor, checks=checks)
    ordered = _printed_order(list(codes), bp_pool.items)
    paper.items = [PaperItemRecord(position=i, item_id=bp_pool.items[c].id, version_id=bp_pool.items[c].version_id)
                   for i, c in enumerate(ordered)]
    session.add(paper)
    return paper


def time_allowed_min(blueprint: asm.Blueprint, codes: Sequence[str], items: dict[str, Item], *,
                     default: int) -> int:
    """考核时间 of a paper, the one rule: the blueprint's fixed total when it sets one (assembly
    holds every paper and backup to it); for practical papers otherwise what its tasks take
    together (:func:`item_time_s`), rounded up to whole minutes; else ``default`` (a theory
    paper's time allowed: the run's, or the part's default)."""
    if blueprint.time_total_s is not None:
        return max(1, int(-(-blueprint.time_total_s // 60)))
    if blueprint.part == Part.PRACTICAL.value and codes:
        return max(1, int(math.ceil(sum(item_time_s(items[c]) for c in codes) / 60 - 1e-9)))
    return default


def adhoc_time_allowed(session: Session, *, bank: BankRef, part: Part, items: Sequence[Item],
                       minutes: int | None = None) -> int:
    """The time allowed of a paper made by hand from ``items`` (``itembank export paper``, for
    trials), after checking it against the bank's blueprint of ``part`` (the newest stored,
    else the level's standard): the paper's points must be the blueprint's, and its time the
    one :func:`time_allowed_min` gives (``minutes``, asked for, must agree where the blueprint
    or the tasks set it). A part without a blueprint (defence topics) is not checked.

    Raises
    ------
    ValidationError
        Listing every difference, in words that say what to do.
    """
    part = Part(part)
    try:
        bp: asm.Blueprint | None = load_blueprint(session, bank=bank, part=part).blueprint
    except NotFoundError:
        try:
            bp = derive_standard_blueprint(session, bank=bank, part=part, actor="", save=False)  # type: ignore[assignment]
        except (ValidationError, NotFoundError):
            bp = None
    default = minutes or DEFAULT_TIME_ALLOWED[part]
    if bp is None:
        return default
    by_code = {it.code: it for it in items}
    codes = list(by_code)
    allowed = time_allowed_min(bp, codes, by_code, default=default)
    problems: list[Message] = []
    points = float(sum(it.points for it in items))
    if bp.total_points is not None and abs(points - bp.total_points) > 1e-6:
        problems.append(Message("the paper is worth {points:g} points; blueprint {name} makes papers of {total:g} "
                                "points: choose items that add up to it", points=points, name=bp.name,
                                total=bp.total_points))
    if bp.time_total_s is not None:
        taken = sum(item_time_s(it) for it in items) / 60
        if abs(taken - allowed) > 1e-6:
            problems.append(Message("its items take {taken:g} min together; blueprint {name} fixes the time allowed "
                                    "at {allowed} min: choose items that add up to it", taken=taken, name=bp.name,
                                    allowed=allowed))
    if minutes is not None and minutes != allowed:
        problems.append(Message("--time {minutes}: the time allowed of this paper is {allowed} min (blueprint {name}: "
                                "its fixed time, else what a practical paper's tasks take); leave --time out",
                                minutes=minutes, allowed=allowed, name=bp.name))
    if problems:
        raise ValidationError(Message("The paper does not meet the blueprint of {bank} {part}; it was not exported.",
                                      bank=bank.label, part=part), errors=problems)
    return allowed


def _paper_checks(report: dict[str, Any], index: int, compared: Sequence[str],
                  items: Sequence[Item]) -> dict[str, Any]:
    """A new paper's stored checks: its blueprint rows, the pairs of its items that give each
    other away (:func:`_checks`) and its parallelism to the papers in use (``compared``: their
    codes, in the order the engine was given them)."""
    papers = (report.get("checks") or {}).get("papers", [])
    rows = papers[index]["rows"] if index < len(papers) else []
    parallel = [p for p in report.get("parallelism", []) if p.get("paper") == index]
    out: dict[str, Any] = _checks(rows, items)
    if parallel:
        out["parallelism"] = {**parallel[0], "compared_with": [compared[k] for k in parallel[0]["compared_with"]]}
    return out


def replace_leaked_paper(
    session: Session, *, code: str, actor: str, solver: str = "cbc", time_limit_s: float = 60.0,
    seed: int = 0, progress: Any = None,
) -> PaperView | None:
    """Assemble a replacement backup for a leaked paper (附件16).

    The replacement respects every paper still in use for the bank and part, exactly as the
    blueprint says (overlap and parallelism): the papers of the leaked paper's run, the backups
    added to it later, earlier replacements, and papers of other runs sealed for exam
    sessions that have not ended (:func:`papers_in_use`); no item of any leaked paper of the
    bank and part comes back, nor any enemy of one. The leaked paper must already be marked
    leaked (the incident service does that and flags its items compromised). Returns the new
    paper, or None when no replacement could be assembled (the run record says why).
    ``progress`` is handed to :func:`assembly.reassemble_after_leak`.
    """
    leaked = _paper_record(session, code)
    if leaked.status is not PaperStatus.LEAKED:
        raise ConflictError(Message("Paper {code} is {status}; mark it leaked first.", code=code,
                                    status=PaperStatus(leaked.status)), code="paper_not_leaked")
    if leaked.run_id is None or leaked.blueprint_id is None:
        raise ConflictError(Message("Paper {code} was not assembled by a recorded run; assemble a new paper instead.",
                                    code=code), code="paper_without_run")
    bank = get_bank_by_id(session, leaked.bank_id)
    part = Part(leaked.part)
    stored = get_blueprint(session, leaked.blueprint_id)
    in_use = papers_in_use(session, bank_id=bank.id, part=part, run_id=leaked.run_id)
    forms_papers = sorted(list(in_use.family) + [leaked], key=lambda p: p.id)
    history = [p for p in in_use.leaked if p.id != leaked.id]
    bp_pool, by_item = _pool_for_papers(session, bank=bank, part=part,
                                        papers=forms_papers + list(in_use.others) + history)
    index = [p.id for p in forms_papers].index(leaked.id)
    n_main = sum(1 for p in forms_papers if PaperKind(p.kind) is PaperKind.FORM)
    params = RunParams(n_forms=max(1, n_main), n_backups=0, solver=solver, time_limit_s=time_limit_s, seed=seed,
                       practice=leaked.practice)
    run = AssemblyRunRecord(bank_id=bank.id, part=leaked.part, blueprint_id=stored.id, state=RunState.RUNNING,
                            params={**params.to_dict(), "replaces": code,
                                    "papers_in_use": [p.code for p in forms_papers if p.id != leaked.id]
                                    + [p.code for p in in_use.others],
                                    "leaked_before": [p.code for p in history]},
                            practice=leaked.practice, requested_by=actor, started_at=datetime.now(timezone.utc),
                            message=message_column(Message("re-assembly after a leak")))
    session.add(run)
    session.flush()
    result = asm.reassemble_after_leak(
        bp_pool.pool, stored.blueprint, [_codes(p, by_item) for p in forms_papers], index,
        leaked_before=[_codes(p, by_item) for p in history], in_use=[_codes(p, by_item) for p in in_use.others],
        n_forms=min(n_main, len(forms_papers)), solver=solver, time_limit_s=time_limit_s, seed=seed,
        progress=progress)
    run.report = result_to_dict(result)
    run.outcome = result.status
    run.pool_snapshot = [[c, bp_pool.items[c].version_id] for c in sorted(bp_pool.items)]
    run.pool_fingerprint = result.pool_fingerprint
    run.state = RunState.FINISHED
    run.finished_at = datetime.now(timezone.utc)
    run.progress = 1.0
    run.message = message_column(outcome_message(result))
    new_paper = None
    label = f"备用{_next_backup_number(session, bank.id, part)}"
    refusal = cueing_refusal([(label, [bp_pool.items[c] for c in result.forms[index]])]) if result.forms else None
    if refusal is not None:
        run.outcome = REFUSED
        run.message = message_column(refusal)
    elif result.forms:
        codes = result.forms[index]
        minutes = time_allowed_min(stored.blueprint, codes, bp_pool.items, default=leaked.time_allowed_min)
        new_paper = _new_paper_record(session, bank=bank, part=part, run=run, stored=stored, codes=codes,
                                      bp_pool=bp_pool, label=label, practice=leaked.practice,
                                      time_allowed_min=minutes, actor=actor,
                                      checks=_paper_checks(run.report, index, run.params["papers_in_use"],
                                                           [bp_pool.items[c] for c in codes]),
                                      replaces=leaked)
    session.flush()
    ledger.append(session, actor=actor, action="assembly.leak_replacement", object_type="paper", object_id=code,
                  details={"run": run.id, "outcome": run.outcome,
                           "replacement": new_paper.code if new_paper else None,
                           "papers_in_use": run.params["papers_in_use"],
                           "parallel": all(p.ok for p in result.parallelism)})
    return get_paper(session, code=new_paper.code) if new_paper else None


def _next_backup_number(session: Session, bank_id: int, part: Part) -> int:
    """Backup labels run on through the bank's part (theory 备用1, 备用2 ...; practical 备用1 ...)
    so a later backup never reuses the label of an earlier one of the same part."""
    return 1 + (session.scalar(select(func.count()).select_from(PaperRecord).where(
        PaperRecord.bank_id == bank_id, PaperRecord.part == part, PaperRecord.kind == PaperKind.BACKUP)) or 0)


def assemble_backups(
    session: Session, *, run_id: int, n_backups: int, actor: str, solver: str = "cbc",
    time_limit_s: float = 60.0, seed: int = 0, progress: Any = None,
) -> RunView:
    """Backup papers assembled later for a run: against the run's papers in use (and the
    backups and replacements added to it since) and against papers of other runs sealed for
    sessions that have not ended, without any item of a leaked paper or an enemy of one."""
    base = _run_record(session, run_id)
    bank = get_bank_by_id(session, base.bank_id)
    part = Part(base.part)
    stored = get_blueprint(session, base.blueprint_id)
    in_use = papers_in_use(session, bank_id=bank.id, part=part, run_id=run_id)
    if not in_use.family:
        raise ConflictError(Message("Assembly run {run} has no usable papers to add backups to.", run=run_id),
                            code="run_without_papers")
    bp_pool, by_item = _pool_for_papers(session, bank=bank, part=part,
                                        papers=list(in_use.family) + list(in_use.others) + list(in_use.leaked))
    fixed = [_codes(p, by_item) for p in in_use.family]
    n_main = sum(1 for p in in_use.family if PaperKind(p.kind) is PaperKind.FORM)
    params = RunParams(n_forms=max(1, len(fixed)), n_backups=n_backups, solver=solver, time_limit_s=time_limit_s,
                       seed=seed, practice=base.practice)
    errors = _validate_params(replace(params, n_forms=max(1, min(20, len(fixed)))))
    if errors:
        raise ValidationError(Message("The backup papers were not assembled."), errors=errors)
    run = AssemblyRunRecord(bank_id=bank.id, part=base.part, blueprint_id=stored.id, state=RunState.RUNNING,
                            params={**params.to_dict(), "backups_for_run": run_id,
                                    "papers_in_use": [p.code for p in in_use.family + in_use.others]},
                            practice=base.practice, requested_by=actor, started_at=datetime.now(timezone.utc),
                            message=message_column(Message("backup papers")))
    session.add(run)
    session.flush()
    result = asm.assemble_forms(
        bp_pool.pool, stored.blueprint, n_forms=n_main, n_backups=n_backups, solver=solver, time_limit_s=time_limit_s,
        seed=seed, fixed_forms=fixed, in_use_forms=[_codes(p, by_item) for p in in_use.others],
        leaked_forms=[_codes(p, by_item) for p in in_use.leaked], progress=progress)
    run.report = result_to_dict(result)
    run.outcome = result.status
    run.pool_snapshot = [[c, bp_pool.items[c].version_id] for c in sorted(bp_pool.items)]
    run.pool_fingerprint = result.pool_fingerprint
    labels_taken = _next_backup_number(session, bank.id, part)
    refusal = cueing_refusal([(f"备用{labels_taken + k}", [bp_pool.items[c] for c in result.forms[form_index]])
                              for k, form_index in enumerate(result.new_form_indices)]) if result.forms else None
    if refusal is not None:
        run.outcome = REFUSED
    elif result.forms:
        for k, form_index in enumerate(result.new_form_indices):
            codes = result.forms[form_index]
            minutes = time_allowed_min(stored.blueprint, codes, bp_pool.items,
                                       default=in_use.family[0].time_allowed_min)
            _new_paper_record(session, bank=bank, part=part, run=run, stored=stored, codes=codes, bp_pool=bp_pool,
                              label=f"备用{labels_taken + k}", practice=base.practice, time_allowed_min=minutes,
                              actor=actor, checks=_paper_checks(run.report, form_index, run.params["papers_in_use"],
                                                                [bp_pool.items[c] for c in codes]))
    run.state = RunState.FINISHED
    run.finished_at = datetime.now(timezone.utc)
    run.progress = 1.0
    run.message = message_column(refusal or outcome_message(result))
    session.flush()
    ledger.append(session, actor=actor, action="assembly.backups", object_type="assembly_run", object_id=run.id,
                  details={"for_run": run_id, "outcome": run.outcome,
                           "papers_in_use": run.params["papers_in_use"]})
    return _run_view(session, run)
