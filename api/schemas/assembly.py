"""Schemas of blueprints, assembly runs, papers, sealed papers, incidents and analyses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import Code, Id, In, Reason
from api.schemas.items import ItemOut
from itembank.assembly_service import PaperView, RunView, StoredBlueprint
from itembank.domain import Part
from itembank.i18n import render, render_tree

Solver = Literal["cbc", "highs"]


class BlueprintSummary(BaseModel):
    id: int
    part: Part
    name: str
    version: int
    n_items: int
    total_points: float | None
    element_table_version: int | None
    note: str
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, b: StoredBlueprint) -> BlueprintSummary:
        return cls(id=b.id, part=b.part, name=b.name, version=b.version, n_items=b.blueprint.n_items,
                   total_points=b.blueprint.total_points, element_table_version=b.element_table_version,
                   note=b.note, created_by=b.created_by, created_at=b.created_at)


class BlueprintOut(BlueprintSummary):
    spec: dict[str, Any] = Field(description="The blueprint in the form POST /banks/{id}/blueprints accepts.")

    @classmethod
    def of(cls, b: StoredBlueprint) -> BlueprintOut:  # type: ignore[override]
        import assembly as asm

        return cls(**BlueprintSummary.of(b).model_dump(), spec=asm.blueprint_to_dict(b.blueprint))


class BlueprintIn(In):
    spec: dict[str, Any] = Field(description="A blueprint (see GET of a stored one for the form); the stored "
                                              "version number is the bank's own sequence.")
    note: Reason = ""


class DeriveIn(In):
    part: Part = Part.THEORY
    name: Code | None = None
    max_overlap: int = Field(0, ge=0, le=500)
    objective: Literal["none", "maximin", "target_information", "target_tcc"] | None = None


class RunIn(In):
    blueprint_id: Id
    n_forms: int = Field(2, ge=1, le=20, description="Main parallel papers.")
    n_backups: int = Field(1, ge=0, le=10, description="Backup papers (备用试卷).")
    solver: Solver = "cbc"
    time_limit_s: float = Field(60.0, ge=1, le=3600)
    rel_gap: float = Field(0.01, ge=0, lt=1)
    seed: int = Field(0, ge=0, le=2_147_483_647)
    practice: bool = Field(False, description="Allow a bank below its minimums (practice papers; ledgered).")
    time_allowed_min: int | None = Field(
        None, ge=10, le=600, description="A theory paper's time allowed (default 90). Refused where the blueprint "
        "fixes the time or for practical papers: their time is the blueprint's fixed time, else their tasks' total.")


class BackupsIn(In):
    n_backups: int = Field(1, ge=1, le=10)
    solver: Solver = "cbc"
    time_limit_s: float = Field(60.0, ge=1, le=600)
    seed: int = Field(0, ge=0, le=2_147_483_647)


class LiveProgressOut(BaseModel):
    """Where the solve stands, updated while it runs (about twice a second)."""

    stage: str = Field(description="Stable code of the stage (e.g. solving, finished, cancelled).")
    stage_text: str = Field(description="The stage in words, in the reader's language.")
    fraction: float | None = Field(None, description="0-1, the solver's own estimate.")
    elapsed_s: float | None = None
    incumbent: float | None = Field(None, description="Objective of the best papers found so far.")
    bound: float | None = Field(None, description="The best proven bound.")
    gap: float | None = Field(None, description="Relative gap between incumbent and bound.")
    time_limit_s: float | None = None

    @classmethod
    def of(cls, live: dict[str, Any]) -> "LiveProgressOut | None":
        if not live:
            return None
        from itembank.i18n import Message

        return cls(stage=str(live.get("stage", "")), stage_text=str(Message.from_data(live.get("stage_text") or "")),
                   **{k: live.get(k) for k in ("fraction", "elapsed_s", "incumbent", "bound", "gap", "time_limit_s")})


class RunOut(BaseModel):
    id: int
    bank_id: int
    part: Part
    blueprint_id: int
    state: str = Field(description="queued | running | finished | failed | cancelled")
    outcome: str = Field(description="optimal | feasible | infeasible | time_limit, once finished; refused when "
                                     "two items of one paper give each other away (no papers; the message names them)")
    progress: float
    message: str
    params: dict[str, Any]
    paper_codes: list[str]
    practice: bool
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    report: dict[str, Any] | None = Field(None, description="Solver report, per-paper checks, diagnosis.")
    live: LiveProgressOut | None = Field(None, description="Progress of the solve while it runs (and its end).")
    cancel_requested: bool = False

    @classmethod
    def of(cls, r: RunView, *, with_report: bool = True) -> RunOut:
        return cls(id=r.id, bank_id=r.bank_id, part=r.part, blueprint_id=r.blueprint_id, state=r.state.value,
                   outcome=r.outcome, progress=r.progress, message=render(r.message), params=r.params,
                   paper_codes=list(r.paper_codes), practice=r.practice, requested_by=r.requested_by,
                   requested_at=r.requested_at, started_at=r.started_at, finished_at=r.finished_at,
                   report=render_tree(r.report) if with_report else None, live=LiveProgressOut.of(r.live),
                   cancel_requested=r.cancel_requested)


class PaperSummary(BaseModel):
    code: str
    kind: str
    form_label: str
    status: str
    part: str
    run_id: int | None
    practice: bool
    n_items: int
    time_allowed_min: int
    created_at: datetime


class PaperOut(BaseModel):
    code: str
    kind: str
    form_label: str
    status: str
    status_reason: str
    part: Part
    run_id: int | None
    blueprint_id: int | None
    blueprint_version: int | None
    replaces: str | None
    practice: bool
    time_allowed_min: int
    total_points: float
    checks: list[dict[str, Any]]
    items: list[ItemOut]

    @classmethod
    def of(cls, v: PaperView) -> PaperOut:
        p = v.paper
        return cls(code=p.code, kind=p.kind.value, form_label=p.form_label, status=v.status.value,
                   status_reason=v.status_reason, part=p.part, run_id=v.run_id, blueprint_id=v.blueprint_id,
                   blueprint_version=p.blueprint_version, replaces=v.replaces, practice=p.practice,
                   time_allowed_min=p.time_allowed_min, total_points=p.total_points,
                   checks=list(v.checks.get("rows", [])), items=[ItemOut.of(it) for it in p.items])


class RowCheckOut(BaseModel):
    name: str
    label: str
    achieved: float
    lo: float | None
    hi: float | None
    ok: bool | None


class RecheckOut(BaseModel):
    ok: bool
    rows: list[RowCheckOut]
    violations: list[str]


# --------------------------------------------------------------------------------------
# Sealed papers


class SealIn(In):
    n_backups: int = Field(1, ge=0, le=5)
    assemble_if_needed: bool = Field(True, description="Assemble papers when none are ready (official rules apply).")
    answer_sheet: bool = False
    solver: Solver = "cbc"
    time_limit_s: float = Field(60.0, ge=1, le=600)


class SealedDocumentOut(BaseModel):
    name: str
    kind: str
    sha256: str
    size: int


class OverrideOut(BaseModel):
    by: str
    at: datetime
    reason: str


class OverrideIn(In):
    reason: str = Field(min_length=1, max_length=2000, description="Why the second exam-office user cannot "
                                                                   "confirm; written to the ledger.")


class SealedPaperOut(BaseModel):
    paper_code: str
    exam_session_code: str
    role: str = Field(description="main | backup")
    state: str = Field(description="sealed | standby (backup not activated) | opened | void")
    form_label: str
    sealed_by: str
    sealed_at: datetime
    opened_at: datetime | None
    activated_at: datetime | None
    confirmations: list[tuple[str, datetime]]
    window_opens_at: datetime
    window_closes_at: datetime
    documents: list[SealedDocumentOut]
    manifest_sha256: str
    state_reason: str
    override: OverrideOut | None = Field(None, description="An administrator's override standing in for the "
                                                              "second opener, with its reason.")

    @classmethod
    def of(cls, v: Any) -> SealedPaperOut:
        return cls(paper_code=v.paper_code, exam_session_code=v.exam_session_code, role=v.role.value,
                   state=v.state.value, form_label=v.form_label, sealed_by=v.sealed_by, sealed_at=v.sealed_at,
                   opened_at=v.opened_at, activated_at=v.activated_at, confirmations=list(v.confirmations),
                   window_opens_at=v.window_opens_at, window_closes_at=v.window_closes_at,
                   documents=[SealedDocumentOut(name=d.name, kind=d.kind, sha256=d.sha256, size=d.size)
                              for d in v.documents],
                   manifest_sha256=v.manifest_sha256, state_reason=v.state_reason,
                   override=OverrideOut(by=v.override[0], at=v.override[1], reason=v.override[2])
                   if getattr(v, "override", None) else None)


class SealingOut(BaseModel):
    exam_session_code: str
    main: SealedPaperOut
    backups: list[SealedPaperOut]
    assembly_run_id: int | None


class IncidentIn(In):
    paper_code: Code
    kind: Literal["leak", "damaged", "missing", "other"]
    description: Reason = Field(min_length=1)
    replace: bool = Field(True, description="leak: assemble and seal a replacement backup")
    solver: Solver = "cbc"
    time_limit_s: float = Field(60.0, ge=1, le=600)


class IncidentOut(BaseModel):
    code: str
    kind: str
    paper_code: str
    exam_session_code: str
    description: str
    actions: dict[str, Any]
    reported_by: str
    reported_at: datetime

    @classmethod
    def of(cls, v: Any) -> IncidentOut:
        return cls(code=v.code, kind=v.kind.value, paper_code=v.paper_code, exam_session_code=v.exam_session_code,
                   description=v.description, actions=v.actions, reported_by=v.reported_by,
                   reported_at=v.reported_at)


# --------------------------------------------------------------------------------------
# Analyses


class AnalysisIn(In):
    session_code: Code | None = None
    paper_codes: list[Code] | None = Field(None, max_length=100)
    model: Literal["rasch", "1pl", "2pl", "3pl"] | None = Field(
        None, description="IRT model of 0/1 items; default rasch for a Rasch-scale bank, else 2pl.")
    polytomous_model: Literal["gpcm", "grm", "pcm"] | None = Field(
        None, description="Model of rubric-scored items; default pcm with a Rasch model, else gpcm.")
    method: Literal["mml", "cml"] | None = Field(
        None, description="cml: conditional ML (Rasch family; the default there); mml: marginal ML.")
    D: float = Field(1.0, description="Logistic scale constant: 1.0 (logistic) or 1.702 (normal ogive).")
    anchor: Literal["existing", "none"] = "existing"
    note: Reason = ""
