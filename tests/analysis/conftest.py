"""Shared data for the analysis tests (no database, no app)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.responses import ResponseData

# LSAT Section 6 (Bock & Lieberman, 1970; R package ltm, data set ``LSAT``): 1000 examinees,
# five 0/1 items, the 30 response patterns observed and their frequencies. The table is the
# one printed by ltm's ``factor.scores(ltm(LSAT ~ z1))`` (columns Item 1..5, Obs).
LSAT_PATTERNS = np.array(
    [
        [0, 0, 0, 0, 0, 3],
        [0, 0, 0, 0, 1, 6],
        [0, 0, 0, 1, 0, 2],
        [0, 0, 0, 1, 1, 11],
        [0, 0, 1, 0, 0, 1],
        [0, 0, 1, 0, 1, 1],
        [0, 0, 1, 1, 0, 3],
        [0, 0, 1, 1, 1, 4],
        [0, 1, 0, 0, 0, 1],
        [0, 1, 0, 0, 1, 8],
        [0, 1, 0, 1, 1, 16],
        [0, 1, 1, 0, 1, 3],
        [0, 1, 1, 1, 0, 2],
        [0, 1, 1, 1, 1, 15],
        [1, 0, 0, 0, 0, 10],
        [1, 0, 0, 0, 1, 29],
        [1, 0, 0, 1, 0, 14],
        [1, 0, 0, 1, 1, 81],
        [1, 0, 1, 0, 0, 3],
        [1, 0, 1, 0, 1, 28],
        [1, 0, 1, 1, 0, 15],
        [1, 0, 1, 1, 1, 80],
        [1, 1, 0, 0, 0, 16],
        [1, 1, 0, 0, 1, 56],
        [1, 1, 0, 1, 0, 21],
        [1, 1, 0, 1, 1, 173],
        [1, 1, 1, 0, 0, 11],
        [1, 1, 1, 0, 1, 61],
        [1, 1, 1, 1, 0, 28],
        [1, 1, 1, 1, 1, 298],
    ]
)


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pure core's messages render as their English msgids here, even when another test in
    the same worker installed the catalog's renderer (itembank.i18n, Chinese by default)."""
    from analysis import messages

    monkeypatch.setattr(messages, "_renderer", messages._default_renderer)


@pytest.fixture(scope="session")
def lsat() -> ResponseData:
    return ResponseData.from_patterns(LSAT_PATTERNS[:, :5], LSAT_PATTERNS[:, 5])


def simulate_2pl(
    rng: np.random.Generator,
    thetas: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray | None = None,
    D: float = 1.0,
) -> np.ndarray:
    """Dense 0/1 responses, shape (n_persons, n_items)."""
    z = D * a[None, :] * (thetas[:, None] - b[None, :])
    p = 1.0 / (1.0 + np.exp(-z))
    if c is not None:
        p = c[None, :] + (1 - c[None, :]) * p
    return (rng.random(p.shape) < p).astype(np.int64)


def simulate_polytomous(rng: np.random.Generator, thetas: np.ndarray, params: object) -> np.ndarray:
    """Dense category responses under any ItemParameters, shape (n_persons, n_items)."""
    from analysis.information import category_probabilities

    probs = category_probabilities(thetas, params)  # (n, J, K)
    cum = np.cumsum(probs, axis=2)
    u = rng.random(probs.shape[:2])[:, :, None]
    return np.minimum((u > cum).sum(axis=2), params.n_categories[None, :] - 1)


def english(error: BaseException) -> str:
    """An analysis error's text in English, whatever catalog another test installed."""
    from analysis.messages import Message

    text = getattr(error, "text", str(error))
    return text.english() if isinstance(text, Message) else str(text)


def run_r(script: str, data: dict[str, np.ndarray], workdir: object, *, timeout: float = 600) -> dict[str, np.ndarray]:
    """Run an R script on matrices written as CSV (``name`` -> ``name.csv``, NaN as NA) and
    return what it printed with ``out("name", values)``, one line per name.

    The peers (R's eRm and psych, Debian package r-cran-erm) are required: without Rscript or
    eRm the calling test FAILS with the installation command; it never skips.
    """
    import os
    import shutil
    import subprocess
    from pathlib import Path

    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail("Rscript is not installed; the peer comparison needs R with eRm and psych: "
                    "sudo apt-get install r-cran-erm (it brings r-cran-psych)")
    base = Path(str(workdir))
    for name, arr in data.items():
        a = np.asarray(arr, dtype=np.float64)
        text = "\n".join(",".join("NA" if np.isnan(v) else repr(float(v)) for v in row) for row in np.atleast_2d(a))
        (base / f"{name}.csv").write_text(text + "\n")
    prelude = (
        "suppressPackageStartupMessages({library(eRm); library(psych)})\n"
        "out <- function(name, x) cat(name, format(as.numeric(x), digits = 15), '\\n')\n"
        "rd <- function(name) as.matrix(read.csv(file.path(base, paste0(name, '.csv')), header = FALSE,"
        " na.strings = 'NA'))\n"
        f"base <- '{base.as_posix()}'\n"
    )
    path = base / "peer.R"
    path.write_text(prelude + script)
    proc = subprocess.run([rscript, "--vanilla", str(path)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "LANG": "C"})
    if proc.returncode != 0:
        pytest.fail(f"the R peer failed (is r-cran-erm installed? sudo apt-get install r-cran-erm):\n{proc.stderr[-3000:]}")
    results: dict[str, np.ndarray] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0][0].isdigit():
            results[parts[0]] = np.array([np.nan if p == "NA" else float(p) for p in parts[1:]])
    return results
