"""Result objects: solver reports, row checks, assembly results. Plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field

# Status of an assembly (STYLE.md "Errors"): proven optimal within the requested relative gap;
# feasible papers found but the solver stopped at its time limit; proven infeasible; or no
# papers found within the time limit (feasibility unknown).
STATUSES = ("optimal", "feasible", "infeasible", "time_limit")


@dataclass(frozen=True, slots=True)
class SolveReport:
    """What one solver run did; the same fields whatever the solver.

    ``objective`` and ``best_bound`` are in the problem's own sense (``sense``: "max" for
    maximin information, "min" otherwise); ``rel_gap`` = |objective - bound| / max(|objective|,
    1e-9), None when there is no solution or no bound; "optimal" means the gap is within
    ``rel_gap_limit`` or, for a target objective (a deviation that may be near 0), that
    objective - bound is within ``rel_gap_limit`` times the mean target. ``formulation`` says
    which model was solved and where the bound comes from; ``stages`` holds the reports of the
    sub-solves of a decomposition.
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
    solver_status: str = ""
    stages: tuple["SolveReport", ...] = ()


@dataclass(frozen=True, slots=True)
class RowCheck:
    """One blueprint row for one paper (or one pair/group of papers): achieved vs target.

    ``ok`` is None for rows that are reported but are not hard rules (an IRT objective's
    achieved curve beside its target).
    """

    name: str
    family: str
    key: str
    label: str
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
    violations: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True, slots=True)
class RowRelaxation:
    """A blueprint row the elastic re-solve had to relax, and by how much.

    ``target`` is the blueprint's bound, ``needed`` the bound that made papers possible;
    ``shortfall`` = |needed - target| (items, points, seconds, ... as the row counts them).
    """

    name: str
    family: str
    key: str
    bound: str  # "min" or "max"
    target: float
    needed: float
    shortfall: float
    message: str


@dataclass(frozen=True)
class AssemblyResult:
    """Outcome of :func:`assembly.assemble_forms` (and of re-assembly after a leak).

    ``forms`` holds the item ids of each paper in pool order: main forms first, then
    backups (``n_forms`` main). Empty when no papers were found. ``checks`` is the independent
    check of those papers; ``diagnosis`` explains an infeasible or failed run in words;
    ``relaxations`` lists the smallest set of rows whose relaxation makes papers possible.
    """

    status: str
    forms: tuple[tuple[str, ...], ...]
    n_forms: int
    n_backups: int
    report: SolveReport
    checks: CheckReport | None
    diagnosis: tuple[str, ...]
    relaxations: tuple[RowRelaxation, ...]
    seed: int
    blueprint_name: str
    blueprint_version: int
    pool_fingerprint: str
    pool_snapshot: tuple[tuple[str, int], ...]
    fixed_forms: tuple[tuple[str, ...], ...] = ()
    new_form_indices: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Papers were found (optimal or feasible)."""
        return self.status in ("optimal", "feasible")

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
