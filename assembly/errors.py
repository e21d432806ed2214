"""Errors of the assembly package: bad input only.

Solver outcomes (infeasible, time limit) are never raised; they are data in
:class:`assembly.results.AssemblyResult`.
"""

from __future__ import annotations


class AssemblyError(Exception):
    """Base class of every error raised by :mod:`assembly`."""


class InvalidPoolError(AssemblyError, ValueError):
    """A pool item or the pool as a whole is malformed (names the item and field)."""


class InvalidBlueprintError(AssemblyError, ValueError):
    """A blueprint is malformed (names the field, row or element)."""


class UnknownSolverError(AssemblyError, ValueError):
    """The solver name is not one of the supported solvers."""


class InvalidFormsError(AssemblyError, ValueError):
    """Forms handed in (fixed forms, leaked form, forms to check) are malformed."""
