"""Pure paper assembly: blueprint -> integer program -> forms (numpy, PuLP; no DB, no web).

Public API (see each function's docstring):

- inputs: :class:`PoolItem`, :class:`Pool`, :class:`Blueprint` and its rule classes,
  :func:`blueprint_to_dict` / :func:`blueprint_from_dict`;
- blueprints from the element table: :func:`derive_blueprint`, :func:`standard_blueprint`;
- assembly: :func:`assemble_forms`, :func:`reassemble_after_leak` -> :class:`AssemblyResult`;
- checking and explaining: :func:`check_forms`, :func:`diagnose`, :func:`relax_blueprint`;
- demo banks: :func:`demo_pool`, :func:`benchmark_pool`, :func:`benchmark_blueprint`.
"""

from assembly.assemble import FORMULATIONS, assemble_forms, reassemble_after_leak
from assembly.blueprint import (
    Blueprint,
    DifficultyBand,
    DifficultyRule,
    ElementRule,
    ExposureRule,
    IrtRule,
    ParallelRule,
    TypeRule,
    blueprint_from_dict,
    blueprint_to_dict,
    validate_blueprint,
)
from assembly.check import check_forms
from assembly.demo import benchmark_blueprint, benchmark_pool, demo_element_rows, demo_pool
from assembly.diagnosis import Finding, diagnose, relax_blueprint
from assembly.errors import (
    AssemblyError,
    InvalidBlueprintError,
    InvalidFormsError,
    InvalidPoolError,
    UnknownSolverError,
)
from assembly.model import SOLVER_NAMES, SOLVERS
from assembly.pool import Pool, PoolItem
from assembly.presets import ElementRow, derive_blueprint, standard_blueprint
from assembly.results import (
    AssemblyResult,
    CheckReport,
    PaperCheck,
    Parallelism,
    RowCheck,
    RowRelaxation,
    SolveReport,
)

__all__ = [
    "AssemblyError", "AssemblyResult", "Blueprint", "CheckReport", "DifficultyBand",
    "DifficultyRule", "ElementRow", "ElementRule", "ExposureRule", "FORMULATIONS", "Finding",
    "InvalidBlueprintError", "InvalidFormsError", "InvalidPoolError", "IrtRule", "PaperCheck",
    "ParallelRule", "Parallelism", "Pool", "PoolItem", "RowCheck", "RowRelaxation", "SOLVERS", "SOLVER_NAMES",
    "SolveReport", "TypeRule", "UnknownSolverError", "assemble_forms", "benchmark_blueprint",
    "benchmark_pool", "blueprint_from_dict", "blueprint_to_dict", "check_forms",
    "demo_element_rows", "demo_pool", "derive_blueprint", "diagnose", "reassemble_after_leak",
    "relax_blueprint", "standard_blueprint", "validate_blueprint",
]
