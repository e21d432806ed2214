"""Scale linking through common items."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.calibration import calibrate
from analysis.information import category_probabilities
from analysis.linking import LINK_METHODS, link_scales, transform_parameters, transform_thetas
from analysis.parameters import ItemParameters
from analysis.responses import ResponseData

from .conftest import simulate_2pl


def on_new_scale(base: ItemParameters, A: float, B: float) -> ItemParameters:
    """The parameters a calibration on theta_new = (theta_base - B) / A would give."""
    return ItemParameters(
        base.models, base.a * A, (base.b - B) / A, base.c, (base.thresholds - B) / A, base.D
    )


@pytest.mark.parametrize("method", LINK_METHODS)
def test_known_transformation_is_recovered(method: str) -> None:
    rng = np.random.default_rng(4)
    base = ItemParameters.concatenate(
        [
            ItemParameters.from_abc(
                rng.lognormal(0, 0.3, 15),
                rng.normal(0, 1, 15),
                rng.uniform(0.1, 0.25, 15),
                model="3pl",
            ),
            ItemParameters.from_thresholds("grm", [1.1, 0.9], [[-1.0, 0.2, 1.1], [-0.5, 0.4, 1.5]]),
        ]
    )
    new = on_new_scale(base, 1.25, -0.4)
    k = link_scales(new, base, method=method)
    assert k.converged
    assert k.A == pytest.approx(1.25, abs=1e-6)
    assert k.B == pytest.approx(-0.4, abs=1e-6)
    back = transform_parameters(new, k)
    np.testing.assert_allclose(back.a, base.a, rtol=1e-6)
    np.testing.assert_allclose(back.thresholds, base.thresholds, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 1000), A=st.floats(0.5, 2.0), B=st.floats(-1.5, 1.5))
def test_transformations_preserve_response_functions(seed: int, A: float, B: float) -> None:
    rng = np.random.default_rng(seed)
    params = ItemParameters.from_abc(rng.uniform(0.5, 2, 5), rng.normal(0, 1, 5))
    from analysis.linking import LinkingConstants

    k = LinkingConstants(A, B, "given", 0.0, True, 5, 1.0)
    moved = transform_parameters(params, k)
    theta_new = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(
        category_probabilities(transform_thetas(theta_new, k), moved),
        category_probabilities(theta_new, params),
        atol=1e-12,
    )


def test_linking_a_form_to_itself_is_the_identity() -> None:
    rng = np.random.default_rng(9)
    base = ItemParameters.from_abc(rng.uniform(0.6, 2, 12), rng.normal(0, 1, 12))
    for method in LINK_METHODS:
        k = link_scales(base, base, method=method)
        assert (k.A, k.B) == (pytest.approx(1.0, abs=1e-7), pytest.approx(0.0, abs=1e-7))


def test_stocking_lord_links_two_separate_calibrations() -> None:
    """Common-item nonequivalent groups: form X group N(0,1), form Y group N(0.6, 1.3^2).

    Each calibration sets its own group to N(0, 1), so the Y calibration's scale is
    theta_X = 1.3 theta_Y + 0.6; Stocking-Lord on the 15 common items recovers it.
    """
    rng = np.random.default_rng(12)
    n_common, n_unique = 15, 25
    a = rng.lognormal(0, 0.25, n_common + 2 * n_unique)
    b = rng.normal(0, 1, n_common + 2 * n_unique)
    x_items = np.arange(n_common + n_unique)
    y_items = np.concatenate([np.arange(n_common), n_common + n_unique + np.arange(n_unique)])
    fx = calibrate(
        ResponseData.from_dense(simulate_2pl(rng, rng.normal(size=4000), a[x_items], b[x_items])),
        "2pl",
        standard_errors="none",
    )
    fy = calibrate(
        ResponseData.from_dense(
            simulate_2pl(rng, rng.normal(0.6, 1.3, 4000), a[y_items], b[y_items])
        ),
        "2pl",
        standard_errors="none",
    )
    common = np.arange(n_common)
    for method in ("stocking_lord", "haebara", "mean_sigma"):
        k = link_scales(fy.params.subset(common), fx.params.subset(common), method=method)
        tol = 0.08 if method != "mean_sigma" else 0.15
        assert k.A == pytest.approx(1.3, abs=tol)
        assert k.B == pytest.approx(0.6, abs=tol)
    k = link_scales(fy.params.subset(common), fx.params.subset(common))
    moved = transform_parameters(fy.params, k)
    assert np.sqrt(np.mean((moved.b[n_common:] - b[y_items][n_common:]) ** 2)) < 0.12


def test_linking_converts_D() -> None:
    base = ItemParameters.from_abc([1.0, 1.5, 0.8], [-1.0, 0.0, 1.0], D=1.0)
    new = base.rescaled_D(1.702)
    k = link_scales(new, base)
    assert k.D == 1.0 and k.A == pytest.approx(1.0, abs=1e-6)


def test_linking_needs_matching_common_items() -> None:
    base = ItemParameters.from_abc([1.0, 1.5], [-1.0, 0.0])
    with pytest.raises(ValueError, match="common items"):
        link_scales(base.subset([0]), base.subset([0]))
    with pytest.raises(ValueError, match="method"):
        link_scales(base, base, method="fixed")
