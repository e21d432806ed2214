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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import assembly as asm
from itembank import ledger
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
from itembank.elements import load_element_table
from itembank.errors import ConflictError, NotFoundError, ValidationError
from itembank.i18n import FieldMessage, Message, N_, Text, _, from_storable, to_storable
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

log = logging.getLogger(__name__)

DICHOTOMOUS_MODELS = {IrtModel.RASCH, IrtModel.ONE_PL, IrtModel.TWO_PL, IrtModel.THREE_PL}
# printed order of sections (theory: objective first, as Chinese theory papers are laid out)
SECTION_ORDER = [
    ItemType.TRUE_FALSE, ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.FILL_IN,
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


def to_pool_item(item: Item, *, session_index: dict[date, int]) -> asm.PoolItem:
    irt = item.irt
    calibrated = irt is not None and irt.model in DICHOTOMOUS_MODELS
    last = item.usage.last_used_on
    return asm.PoolItem(
        id=item.code,
        item_type=item.item_type.value,
        points=float(item.points),
        element_codes=tuple(item.content.element_codes),
        time_s=float(item.content.estimated_time_s),
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
    )


def build_pool(items: Sequence[Item]) -> BankPool:
    """Pure: domain items -> assembly pool. Past sessions are indexed by distinct usage date
    (oldest 0), and the paper being assembled is the next session."""
    dates = tuple(sorted({it.usage.last_used_on for it in items if it.usage.last_used_on is not None}))
    index = {d: i for i, d in enumerate(dates)}
    pool_items = [to_pool_item(it, session_index=index) for it in items]
    codes = {it.code for it in items}
    enemies = sorted({tuple(sorted((it.code, e))) for it in items for e in it.enemies if e in codes})
    pool = asm.Pool.from_items(pool_items, enemies=enemies, current_session=len(dates))
    return BankPool(pool=pool, items={it.code: it for it in items}, session_dates=dates)


def load_bank_pool(session: Session, *, bank: BankRef, part: Part) -> BankPool:
    """Accepted versions of the bank's items of ``part`` (compromised ones included, so the
    assembler can say why they are excluded)."""
    return build_pool(load_pool(session, bank=bank, part=part))


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
    current element table (one call); stored as a new version unless ``save`` is False."""
    part = Part(part)
    rows, table_version = element_rows(session, bank=bank, part=part)
    try:
        bp = asm.standard_blueprint(int(bank.level), rows, part=part.value, name=name, max_overlap=max_overlap,
                                    objective=objective)
    except asm.AssemblyError as e:
        raise ValidationError(Message("No standard blueprint for {bank} {part}: {reason}", bank=bank.label, part=part,
                                      reason=_error_text(e)), field="part") from e
    if not save:
        return bp
    return save_blueprint(session, bank=bank, blueprint=bp, actor=actor, element_table_version=table_version,
                          note=_(N_("derived from element table version {version}"), version=table_version))


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


def _run_view(session: Session, rec: AssemblyRunRecord) -> RunView:
    codes = tuple(session.scalars(select(PaperRecord.code).where(PaperRecord.run_id == rec.id)
                                  .order_by(PaperRecord.id)))
    return RunView(id=rec.id, bank_id=rec.bank_id, part=Part(rec.part), blueprint_id=rec.blueprint_id,
                   state=RunState(rec.state), outcome=rec.outcome, progress=rec.progress,
                   message=message_from_column(rec.message), params=dict(rec.params or {}),
                   report=from_storable(dict(rec.report or {})), paper_codes=codes,
                   practice=rec.practice, requested_by=rec.requested_by, requested_at=rec.requested_at,
                   started_at=rec.started_at, finished_at=rec.finished_at)


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
    rec.report = result_to_dict(result)
    rec.outcome = result.status
    rec.pool_snapshot = [[code, bp_pool.items[code].version_id] for code in sorted(bp_pool.items)]
    rec.pool_fingerprint = result.pool_fingerprint
    papers: list[PaperRecord] = []
    if result.forms:
        papers = _record_papers(session, rec=rec, bank=prepared.bank, stored=prepared.blueprint,
                                params=prepared.params, result=result, bp_pool=bp_pool)
    rec.state = RunState.FINISHED
    rec.progress = 1.0
    rec.finished_at = datetime.now(timezone.utc)
    rec.message = message_column(_outcome_words(result))
    session.flush()
    ledger.append(session, actor=rec.requested_by, action="assembly.finish", object_type="assembly_run",
                  object_id=rec.id, details={"outcome": result.status, "papers": [p.code for p in papers],
                                             "gap": result.report.rel_gap, "time_s": result.report.time_s})
    return _run_view(session, rec)


def set_progress(session: Session, *, run_id: int, progress: float, message: str) -> None:
    rec = _run_record(session, run_id)
    rec.progress = max(0.0, min(1.0, progress))
    rec.message = message
    session.flush()


def execute_run(session: Session, *, run_id: int) -> RunView:
    """Prepare, solve and record in the caller's transaction (CLI, demo, tests). The caller
    commits. Infeasibility and time limits are outcomes (the run finishes with its diagnosis,
    no papers); only errors in the input raise."""
    prepared = prepare_run(session, run_id=run_id)
    return record_run_result(session, prepared=prepared, result=solve_run(prepared))


STATUS_WORDS = {  # the solver's outcome as a bank manager says it
    "optimal": N_("optimal solution"),
    "feasible": N_("feasible solution (not proven optimal)"),
    "infeasible": N_("no solution: the blueprint cannot be met from this bank"),
    "time_limit": N_("stopped at the time limit"),
}


def status_words(status: str) -> Message:
    """The solver's outcome (``optimal`` ...) in words."""
    return Message(STATUS_WORDS.get(status, N_("unknown outcome")))


def _outcome_words(result: asm.AssemblyResult) -> Message:
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


def result_to_dict(result: asm.AssemblyResult) -> dict[str, Any]:
    """Plain data of an assembly result: kept with the run so it can be shown and re-checked."""
    def report(r: asm.SolveReport) -> dict[str, Any]:
        return {
            "solver": r.solver, "status": r.status, "objective": r.objective, "best_bound": r.best_bound,
            "rel_gap": r.rel_gap, "time_s": r.time_s, "n_variables": r.n_variables, "n_binaries": r.n_binaries,
            "n_constraints": r.n_constraints, "sense": r.sense, "formulation": r.formulation,
            "time_limit_s": r.time_limit_s, "rel_gap_limit": r.rel_gap_limit, "solver_status": r.solver_status,
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
            "violations": to_storable(list(c.violations)),
        }
    return {
        "status": result.status,
        "forms": [list(f) for f in result.forms],
        "n_forms": result.n_forms,
        "n_backups": result.n_backups,
        "report": report(result.report),
        "checks": checks,
        "diagnosis": to_storable(list(result.diagnosis)),
        "relaxations": [
            {"name": x.name, "family": x.family, "key": x.key, "bound": x.bound, "target": x.target,
             "needed": x.needed, "shortfall": x.shortfall, "message": to_storable(x.message)}
            for x in result.relaxations
        ],
        "seed": result.seed,
        "blueprint_name": result.blueprint_name,
        "blueprint_version": result.blueprint_version,
        "pool_fingerprint": result.pool_fingerprint,
        "notes": to_storable(list(result.notes)),
    }


def _row(r: asm.RowCheck) -> dict[str, Any]:
    return {"name": r.name, "family": r.family, "key": r.key, "label": to_storable(r.label), "achieved": r.achieved,
            "lo": r.lo, "hi": r.hi, "ok": r.ok}


def _printed_order(codes: Sequence[str], items: dict[str, Item]) -> list[str]:
    rank = {t: i for i, t in enumerate(SECTION_ORDER)}
    return sorted(codes, key=lambda c: (rank[items[c].item_type], codes.index(c)))


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
            practice=params.practice, time_allowed_min=params.time_allowed_min or DEFAULT_TIME_ALLOWED[part],
            checks={"rows": per_paper.get(index, [])}, created_by=rec.requested_by,
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
        created_at=rec.created_at,
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

    items = [item_from_records(i, v, bank=bank, enemies=enemy_codes(session, item_id=i.id)) for i, v in rows]
    return build_pool(sorted(items, key=lambda it: it.code))


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
# Backups and leaks


def _sibling_papers(session: Session, run_id: int) -> list[PaperRecord]:
    return list(session.scalars(select(PaperRecord).where(PaperRecord.run_id == run_id).order_by(PaperRecord.id)))


def replace_leaked_paper(
    session: Session, *, code: str, actor: str, solver: str = "cbc", time_limit_s: float = 60.0,
    seed: int = 0, exclude_enemies: bool = True,
) -> PaperView | None:
    """Assemble a replacement backup for a leaked paper (附件16): none of the leaked paper's
    items (nor their enemies), parallel to the run's other papers, which stay unchanged.

    The leaked paper must already be marked leaked (the incident service does that and flags
    its items compromised). Returns the new paper, or None when no replacement could be
    assembled (the run record says why).
    """
    leaked = _paper_record(session, code)
    if leaked.status is not PaperStatus.LEAKED:
        raise ConflictError(Message("Paper {code} is {status}; mark it leaked first.", code=code,
                                    status=PaperStatus(leaked.status)), code="paper_not_leaked")
    if leaked.run_id is None or leaked.blueprint_id is None:
        raise ConflictError(Message("Paper {code} was not assembled by a recorded run; assemble a new paper instead.",
                                    code=code), code="paper_without_run")
    bank = get_bank_by_id(session, leaked.bank_id)
    stored = get_blueprint(session, leaked.blueprint_id)
    siblings = [p for p in _sibling_papers(session, leaked.run_id)
                if p.id == leaked.id or p.status not in (PaperStatus.LEAKED, PaperStatus.VOID)]
    bp_pool = load_bank_pool(session, bank=bank, part=Part(leaked.part))
    code_of = {it.version_id: it.code for it in bp_pool.items.values()}
    # items of the other papers keep their codes even if since superseded: look them up by item id
    by_item = {it.id: it.code for it in bp_pool.items.values()}
    forms = []
    for p in siblings:
        forms.append([code_of.get(pi.version_id) or by_item.get(pi.item_id) or "" for pi in p.items])
    if any("" in f for f in forms):
        raise ConflictError(Message("An item of a paper of assembly run {run} is no longer in the bank; assemble a "
                                    "fresh set of papers instead.", run=leaked.run_id), code="run_items_gone")
    index = [p.id for p in siblings].index(leaked.id)
    params = RunParams(n_forms=len(siblings), n_backups=0, solver=solver, time_limit_s=time_limit_s, seed=seed,
                       practice=leaked.practice)
    run = AssemblyRunRecord(bank_id=bank.id, part=leaked.part, blueprint_id=stored.id, state=RunState.RUNNING,
                            params={**params.to_dict(), "replaces": code}, practice=leaked.practice,
                            requested_by=actor, started_at=datetime.now(timezone.utc), message=message_column(Message("re-assembly after a leak")))
    session.add(run)
    session.flush()
    result = asm.reassemble_after_leak(bp_pool.pool, stored.blueprint, forms, index,
                                       exclude_enemies=exclude_enemies, solver=solver, time_limit_s=time_limit_s,
                                       seed=seed)
    run.report = result_to_dict(result)
    run.outcome = result.status
    run.pool_snapshot = [[c, bp_pool.items[c].version_id] for c in sorted(bp_pool.items)]
    run.pool_fingerprint = result.pool_fingerprint
    run.state = RunState.FINISHED
    run.finished_at = datetime.now(timezone.utc)
    run.progress = 1.0
    run.message = message_column(_outcome_words(result))
    new_paper = None
    if result.forms:
        codes = result.forms[index]
        label = f"备用{_next_backup_number(session, bank.id, Part(leaked.part))}"
        new_paper = PaperRecord(
            code=_paper_code(bank, Part(leaked.part), run.id, label), bank_id=bank.id, part=leaked.part,
            run_id=run.id, blueprint_id=stored.id, kind=PaperKind.BACKUP, form_label=label,
            status=PaperStatus.ASSEMBLED, practice=leaked.practice, time_allowed_min=leaked.time_allowed_min,
            replaces_paper_id=leaked.id, created_by=actor,
            checks={"rows": (run.report.get("checks") or {}).get("papers", [{}] * (index + 1))[index].get("rows", [])},
        )
        ordered = _printed_order(list(codes), bp_pool.items)
        new_paper.items = [PaperItemRecord(position=i, item_id=bp_pool.items[c].id,
                                           version_id=bp_pool.items[c].version_id) for i, c in enumerate(ordered)]
        session.add(new_paper)
    session.flush()
    ledger.append(session, actor=actor, action="assembly.leak_replacement", object_type="paper", object_id=code,
                  details={"run": run.id, "outcome": result.status,
                           "replacement": new_paper.code if new_paper else None})
    return get_paper(session, code=new_paper.code) if new_paper else None


def _next_backup_number(session: Session, bank_id: int, part: Part) -> int:
    """Backup labels run on through the bank's part (theory 备用1, 备用2 ...; practical 备用1 ...)
    so a later backup never reuses the label of an earlier one of the same part."""
    return 1 + (session.scalar(select(func.count()).select_from(PaperRecord).where(
        PaperRecord.bank_id == bank_id, PaperRecord.part == part, PaperRecord.kind == PaperKind.BACKUP)) or 0)


def assemble_backups(
    session: Session, *, run_id: int, n_backups: int, actor: str, solver: str = "cbc",
    time_limit_s: float = 60.0, seed: int = 0,
) -> RunView:
    """Backup papers assembled later against the run's fixed papers (warm-started from them)."""
    base = _run_record(session, run_id)
    bank = get_bank_by_id(session, base.bank_id)
    stored = get_blueprint(session, base.blueprint_id)
    siblings = [p for p in _sibling_papers(session, run_id) if p.status not in (PaperStatus.LEAKED, PaperStatus.VOID)]
    if not siblings:
        raise ConflictError(Message("Assembly run {run} has no usable papers to add backups to.", run=run_id),
                            code="run_without_papers")
    bp_pool = load_bank_pool(session, bank=bank, part=Part(base.part))
    by_item = {it.id: it.code for it in bp_pool.items.values()}
    fixed = [[by_item[pi.item_id] for pi in p.items if pi.item_id in by_item] for p in siblings]
    params = RunParams(n_forms=len(fixed), n_backups=n_backups, solver=solver, time_limit_s=time_limit_s, seed=seed,
                       practice=base.practice)
    errors = _validate_params(params)
    if errors:
        raise ValidationError(Message("The backup papers were not assembled."), errors=errors)
    run = AssemblyRunRecord(bank_id=bank.id, part=base.part, blueprint_id=stored.id, state=RunState.RUNNING,
                            params={**params.to_dict(), "backups_for_run": run_id}, practice=base.practice,
                            requested_by=actor, started_at=datetime.now(timezone.utc), message=message_column(Message("backup papers")))
    session.add(run)
    session.flush()
    result = asm.assemble_forms(bp_pool.pool, stored.blueprint, n_forms=len(fixed), n_backups=n_backups,
                                solver=solver, time_limit_s=time_limit_s, seed=seed, fixed_forms=fixed)
    run.report = result_to_dict(result)
    run.outcome = result.status
    run.pool_snapshot = [[c, bp_pool.items[c].version_id] for c in sorted(bp_pool.items)]
    run.pool_fingerprint = result.pool_fingerprint
    if result.forms:
        labels_taken = _next_backup_number(session, bank.id, Part(base.part))
        checks = (run.report.get("checks") or {}).get("papers", [])
        for k, form_index in enumerate(result.new_form_indices):
            label = f"备用{labels_taken + k}"
            paper = PaperRecord(
                code=_paper_code(bank, Part(base.part), run.id, label), bank_id=bank.id, part=base.part,
                run_id=run.id, blueprint_id=stored.id, kind=PaperKind.BACKUP, form_label=label,
                status=PaperStatus.ASSEMBLED, practice=base.practice,
                time_allowed_min=siblings[0].time_allowed_min, created_by=actor,
                checks={"rows": checks[form_index]["rows"] if form_index < len(checks) else []},
            )
            ordered = _printed_order(list(result.forms[form_index]), bp_pool.items)
            paper.items = [PaperItemRecord(position=i, item_id=bp_pool.items[c].id,
                                           version_id=bp_pool.items[c].version_id) for i, c in enumerate(ordered)]
            session.add(paper)
    run.state = RunState.FINISHED
    run.finished_at = datetime.now(timezone.utc)
    run.progress = 1.0
    run.message = message_column(_outcome_words(result))
    session.flush()
    ledger.append(session, actor=actor, action="assembly.backups", object_type="assembly_run", object_id=run.id,
                  details={"for_run": run_id, "outcome": result.status})
    return _run_view(session, run)
