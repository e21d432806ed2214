"""Errors raised by the analysis package.

Solver outcomes are data: non-convergence of an estimation is reported in the result
(``converged=False`` with the history), not raised. Exceptions are for input the analysis
cannot work with, and they name the field, item or person at fault.
"""

from __future__ import annotations


class AnalysisError(Exception):
    """Base class of every error raised by :mod:`analysis`."""


class InvalidInputError(AnalysisError, ValueError):
    """Input data or parameters are malformed (wrong shape, out of range, inconsistent)."""


class InsufficientDataError(AnalysisError, ValueError):
    """The data cannot identify what was asked for (e.g. an item with one observed category)."""
