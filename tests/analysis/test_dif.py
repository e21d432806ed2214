"""Mantel-Haenszel DIF and the ETS A/B/C rules."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.dif import classify_ets, mantel_haenszel_dif

from .conftest import simulate_2pl


def tables_to_rows(tables: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, ...]:
    """Candidates from 2x2 tables (A ref right, B ref wrong, C focal right, D focal wrong)."""
    scores, focal, strata = [], [], []
    for k, (A, B, C, D) in enumerate(tables):
        for n, s, g in ((A, 1, False), (B, 0, False), (C, 1, True), (D, 0, True)):
            scores += [s] * n
            focal += [g] * n
            strata += [k] * n
    return np.array(scores, float)[:, None], np.array(focal), np.array(strata, float)


def test_hand_computed_two_strata() -> None:
    """Two strata, worked by hand.

    Stratum 1: A, B, C, D = 10, 10, 5, 15 (N = 40); stratum 2: 20, 5, 15, 10 (N = 50).
    alpha_MH = (10*15/40 + 20*10/50) / (10*5/40 + 5*15/50) = 7.75 / 2.75 = 31/11.
    MH D-DIF = -2.35 ln(31/11) = -2.434816.
    E(A) = 20*15/40 + 25*35/50 = 7.5 + 17.5 = 25; Var(A) = 20*20*15*25/(40^2*39)
    + 25*25*35*15/(50^2*49) = 2.403846 + 2.678571 = 5.082418;
    chi^2 = (|30 - 25| - 0.5)^2 / 5.082418 = 3.984324.
    RBG: P = (.625, .6), Q = (.375, .4), R_k = (3.75, 4), S_k = (1.25, 1.5):
    Var(ln alpha) = 4.74375/(2*7.75^2) + 4.6875/(2*7.75*2.75) + 1.06875/(2*2.75^2)
                  = 0.0394901 + 0.1099707 + 0.0706612 = 0.2201220; SE(D) = 2.35*0.469172.
    ETS: |D| = 2.43 >= 1.5 and p = 0.0459 < 0.05, but (2.43 - 1)/1.1026 = 1.30 < 1.645, so
    the item is B, not C: the significance part of the rule matters.
    """
    x, focal, strata = tables_to_rows([(10, 10, 5, 15), (20, 5, 15, 10)])
    res = mantel_haenszel_dif(x, focal, matching=strata)
    assert res.alpha_mh[0] == pytest.approx(31 / 11)
    assert res.delta_mh[0] == pytest.approx(-2.35 * np.log(31 / 11))
    assert res.delta_mh[0] == pytest.approx(-2.434816, abs=1e-6)
    var_a = 20 * 20 * 15 * 25 / (40**2 * 39) + 25 * 25 * 35 * 15 / (50**2 * 49)
    assert res.chi_square[0] == pytest.approx(4.5**2 / var_a)
    assert res.chi_square[0] == pytest.approx(3.984324, abs=1e-6)
    var_log = 4.74375 / (2 * 7.75**2) + 4.6875 / (2 * 7.75 * 2.75) + 1.06875 / (2 * 2.75**2)
    assert res.se_delta[0] == pytest.approx(2.35 * np.sqrt(var_log))
    assert res.p_value[0] == pytest.approx(0.04592, abs=1e-4)
    assert res.ets_class == ("B",)
    assert res.favours == ("reference",)
    assert res.n_reference[0] == 45 and res.n_focal[0] == 45


@pytest.mark.parametrize(
    ("delta", "se", "p", "expected"),
    [
        (-0.9, 0.1, 0.0001, "A"),  # small: A whatever the significance
        (-2.0, 0.9, 0.20, "A"),  # large but not significant: A
        (1.2, 0.3, 0.001, "B"),  # between 1 and 1.5
        (-1.6, 0.2, 0.0001, "C"),  # >= 1.5 and (1.6 - 1)/0.2 = 3 > 1.645
        (1.6, 0.5, 0.001, "B"),  # >= 1.5 but (1.6 - 1)/0.5 = 1.2, not significantly > 1
        (np.nan, 0.2, 0.01, "n/a"),
    ],
)
def test_ets_rules(delta: float, se: float, p: float, expected: str) -> None:
    assert classify_ets(delta, se, p) == expected


def test_simulated_dif_item_is_flagged() -> None:
    """Item 0 is 1 logit harder for the focal group; the other 19 items are fair."""
    rng = np.random.default_rng(17)
    n = 6000
    focal = rng.random(n) < 0.5
    thetas = rng.normal(size=n) - 0.3 * focal  # impact: focal group a bit less able
    a, b = rng.uniform(0.8, 1.6, 20), rng.normal(0, 1, 20)
    x = simulate_2pl(rng, thetas, a, b).astype(float)
    # redraw item 0 for focal candidates with difficulty b + 1
    p_f = 1 / (1 + np.exp(-a[0] * (thetas[focal] - b[0] - 1.0)))
    x[focal, 0] = rng.random(focal.sum()) < p_f
    x[rng.random(x.shape) < 0.02] = np.nan  # a few omitted responses
    res = mantel_haenszel_dif(x, focal)
    assert res.ets_class[0] == "C" and res.favours[0] == "reference"
    assert res.delta_mh[0] < -1.5
    fair = np.array(res.ets_class[1:])
    assert np.mean(fair == "A") >= 0.9
    assert np.all(np.abs(res.delta_mh[1:]) < 1.0)


def test_dif_validation() -> None:
    with pytest.raises(ValueError, match="0/1"):
        mantel_haenszel_dif(np.array([[2.0], [1.0]]), np.array([True, False]))
    with pytest.raises(ValueError, match="focal"):
        mantel_haenszel_dif(np.array([[1.0], [0.0]]), np.array([True]))
