"""Result objects: solver reports, row checks, assembly results, progress. Plain frozen
dataclasses. Every text a user reads is a :class:`~analysis.messages.Message` (rendered in the
reader's locale at the edge; stored with ``to_data()``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.messages import Message, N_

# Status of an assembly (STYLE.md "Errors"): proven optimal within the requested relative gap;
# feasible papers found but the solver stopped at its time limit; proven infeasible; or no
# papers found within the time limit (feasibility unknown).
STATUSES = ("optimal", "feasible", "infeasible", "time_limit")
STATUS_TEXT = {
    "optimal": N_("optimal"),
    "feasible": N_("feasible, not proven optimal"),
    "infeasible": N_("infeasible"),
    "time_limit": N_("no papers within the time limit"),
}


def status_text(status: str) -> Message:
    """The words for a result status ("optimal" -> 最优)."""
    return Message(STATUS_TEXT.get(status, STATUS_TEXT["time_limit"]))


@dataclass(frozen=True, slots=True)
class SolveProgress:
    """What a running assembly reports to its caller (``progress=`` of
    :func:`assembly.assemble_forms` and :func:`assembly.reassemble_after_leak`).

    ``stage`` is a stable code ("checks", "stage1_bound", "stage1", "split", "polish",
    "direct", "elastic", "done"); ``stage_text`` says it in words; ``fraction`` in [0, 1] grows
    monotonically over the run; ``elapsed_s`` counts from the start of the run.
    ``incumbent`` is the objective of the best complete set of papers found so far and
    ``bound`` the best valid bound of the problem (both in the objective's own sense, None
    until known); ``gap`` their relative distance; ``best_forms`` the item ids of those papers
    (new papers only) when known.
    """

    stage: str
    stage_text: Message
    fraction: float
    elapsed_s: float
    incumbent: float | None
    bound: float | None
    gap: float | None
    best_forms: tuple[tuple[str, ...], ...] | None


@dataclass(frozen=True, slots=True)
class SolveReport:
    """What one solver run did; the same fields whatever the solver.

    ``objective`` is the objective of the user's problem for the papers returned (the
    blueprint's objective and exposure penalty; never the seeded tie-break), ``best_bound`` a
    bound of that same problem that no valid set of papers can beat, both in the problem's own
    sense (``sense``: "max" for maximin information, "min" otherwise). ``bound_source`` says
    which relaxation the bound comes from. ``rel_gap`` = |objective - bound| /
    max(|objective|, 1e-9), None when there is no solution or no valid bound; "optimal" means
    the gap is within ``rel_gap_limit`` or, for a target objective (a deviation that may be
    near 0), that objective - bound is within ``rel_gap_limit`` times the mean target.
    ``formulation`` is a stable code of the method ("shadow", "direct", "plain", "counts");
    ``method`` says it in one sentence. ``restricted`` is set when the papers come from a
    restricted sub-problem (not the whole problem): its words say which. ``stages`` holds the
    reports of the sub-solves of a decomposition; a stage's ``best_bound`` is a bound of that
    stage's own model, and its ``bound_source`` says whether that is valid for the whole problem.
    """

    solver: str
    status: str
    objective: float | None
    best_bound: float | None
    rel_gap: float | None
    time_s: float
    n_variables: int
    n_binaries: int
    n_constraints: int
    sense: str
    formulation: str
    time_limit_s: float
    rel_gap_limit: float
    solver_status: Message | None = None
    stages: tuple["SolveReport", ...] = ()
    method: Message | None = None
    bound_source: Message | None = None
    restricted: Message | None = None

    @property
    def status_text(self) -> Message:
        return status_text(self.status)


@dataclass(frozen=True, slots=True)
class RowCheck:
    """One blueprint row for one paper (or one pair/group of papers): achieved vs target.

    ``ok`` is None for rows that are reported but are not hard rules (an IRT objective's
    achieved curve beside its target).
    """

    name: str
    family: str
    key: str
    label: Message
    achieved: float
    lo: float | None
    hi: float | None
    ok: bool | None


@dataclass(frozen=True, slots=True)
class PaperCheck:
    """Every row of one paper."""

    paper: int
    rows: tuple[RowCheck, ...]

    @property
    def ok(self) -> bool:
        return all(row.ok is not False for row in self.rows)

    def row(self, name: str) -> RowCheck:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Parallelism:
    """How far papers are from each other.

    ``information_spread``/``tcc_spread``: per theta, largest minus smallest over papers;
    ``max_information_spread``: the largest of these (the "largest difference between papers'
    information curves"); ``mean_rating_spread`` likewise; ``max_overlap``: largest number of
    items shared by two papers.
    """

    thetas: tuple[float, ...]
    information: tuple[tuple[float, ...], ...]  # (n_papers, n_thetas)
    information_spread: tuple[float, ...]
    max_information_spread: float
    tcc_spread: tuple[float, ...]
    mean_ratings: tuple[float, ...]
    mean_rating_spread: float
    max_overlap: int


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Independent check of a set of papers against a blueprint (no solver involved)."""

    papers: tuple[PaperCheck, ...]
    cross: tuple[RowCheck, ...]
    parallelism: Parallelism
    violations: tuple[Message, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True, slots=True)
class RowRelaxation:
    """A blueprint row the elastic re-solve had to relax, and by how much.

    ``target`` is the blueprint's bound, ``needed`` the bound that made papers possible;
    ``shortfall`` = |needed - target| (items, points, seconds, ... as the row counts them).
    ``proven`` is True when an elastic solve solved to optimality proved that no smaller set
    of rows would do (then the relaxations of a result are "the smallest fix"); False for a fix
    that works but was not proven smallest, or one read off the counts.
    """

    name: str
    family: str
    key: str
    bound: str  # "min" or "max"
    target: float
    needed: float
    shortfall: float
    message: Message
    proven: bool = False


@dataclass(frozen=True, slots=True)
class CurveComparison:
    """A new paper's curve against the papers in use at the blueprint's thetas.

    ``metric`` is "information" or "tcc"; ``new`` the new paper's values, ``in_use`` one row per
    paper in use, ``differences`` the new paper minus the mean of the papers in use, per theta;
    ``largest`` the largest |new - any paper in use| per theta; ``tolerance`` the blueprint's
    (or the default when it sets none), ``ok`` whether every ``largest`` is within it.
    """

    metric: str
    thetas: tuple[float, ...]
    new: tuple[float, ...]
    in_use: tuple[tuple[float, ...], ...]
    differences: tuple[float, ...]
    largest: tuple[float, ...]
    tolerance: float
    tolerance_from_blueprint: bool
    ok: bool


@dataclass(frozen=True, slots=True)
class ReplacementParallelism:
    """How parallel a replacement (or a later backup) is to the papers in use, and the
    warnings in plain words when it is not (with what the pool lacks)."""

    paper: int
    compared_with: tuple[int, ...]
    curves: tuple[CurveComparison, ...]
    warnings: tuple[Message, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.curves)


@dataclass(frozen=True)
class AssemblyResult:
    """Outcome of :func:`assembly.assemble_forms` (and of re-assembly after a leak).

    ``forms`` holds the item ids of each paper in pool order: main forms first, then
    backups (``n_forms`` main). Empty when no papers were found. ``checks`` is the independent
    check of those papers (and of ``in_use_forms``, the other papers in use the new ones were
    assembled against, which come after them in the check); ``diagnosis`` explains an
    infeasible or failed run in words; ``relaxations`` lists rows whose relaxation makes papers
    possible ("the smallest fix" when every one is ``proven``, else "a fix").
    ``leaked_forms`` are the papers that leaked so far in this chain of replacements: their
    items, and their enemies, never come back. ``parallelism`` compares each new paper with the
    papers in use after a leak or for later backups.
    """

    status: str
    forms: tuple[tuple[str, ...], ...]
    n_forms: int
    n_backups: int
    report: SolveReport
    checks: CheckReport | None
    diagnosis: tuple[Message, ...]
    relaxations: tuple[RowRelaxation, ...]
    seed: int
    blueprint_name: str
    blueprint_version: int
    pool_fingerprint: str
    pool_snapshot: tuple[tuple[str, int], ...]
    fixed_forms: tuple[tuple[str, ...], ...] = ()
    new_form_indices: tuple[int, ...] = ()
    notes: tuple[Message, ...] = field(default=())
    diagnosis_proven: bool = False
    leaked_forms: tuple[tuple[str, ...], ...] = ()
    in_use_forms: tuple[tuple[str, ...], ...] = ()
    parallelism: tuple[ReplacementParallelism, ...] = ()

    @property
    def ok(self) -> bool:
        """Papers were found (optimal or feasible)."""
        return self.status in ("optimal", "feasible")

    @property
    def status_text(self) -> Message:
        return status_text(self.status)

    @property
    def main_forms(self) -> tuple[tuple[str, ...], ...]:
        return self.forms[: self.n_forms]

    @property
    def backup_forms(self) -> tuple[tuple[str, ...], ...]:
        return self.forms[self.n_forms:]

    def paper_versions(self, paper: int) -> tuple[tuple[str, int], ...]:
        """(item id, version) of one paper, from the pool snapshot."""
        versions = dict(self.pool_snapshot)
        return tuple((item_id, versions[item_id]) for item_id in self.forms[paper])
