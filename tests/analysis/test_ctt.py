"""Classical test theory statistics and flags."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.ctt import (
    FLAG_LOW_CORRELATION,
    FLAG_LOW_DISCRIMINATION,
    FLAG_TOO_EASY,
    FLAG_TOO_HARD,
    CttThresholds,
    analyse_distractors,
    analyse_form,
    cronbach_alpha,
)

from .conftest import simulate_2pl

# Guttman pattern, worked by hand: p = (.8, .6, .4, .2), sum pq = .16 + .24 + .24 + .16 = .8;
# totals (4, 3, 2, 1, 0): mean 2, variance 2 (n in the denominator);
# KR-20 = 4/3 (1 - .8 / 2) = 0.8; SEM = sqrt(2) sqrt(1 - .8) = sqrt(.4).
GUTTMAN = np.array([[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])


def test_kr20_by_hand() -> None:
    assert cronbach_alpha(GUTTMAN) == pytest.approx(0.8)
    form = analyse_form(GUTTMAN)
    assert form.alpha == pytest.approx(0.8)
    assert form.mean == pytest.approx(2.0)
    assert form.sd == pytest.approx(np.sqrt(2.0))
    assert form.sem == pytest.approx(np.sqrt(0.4))
    np.testing.assert_allclose(form.items.facility, [0.8, 0.6, 0.4, 0.2])


def test_item_statistics_against_direct_computation() -> None:
    rng = np.random.default_rng(2)
    x = simulate_2pl(rng, rng.normal(size=400), rng.uniform(0.5, 2, 12), rng.normal(0, 1, 12))
    form = analyse_form(x)
    total = x.sum(axis=1)
    for j in range(12):
        assert form.items.item_total_correlation[j] == pytest.approx(
            np.corrcoef(x[:, j], total)[0, 1]
        )
        assert form.items.corrected_item_total_correlation[j] == pytest.approx(
            np.corrcoef(x[:, j], total - x[:, j])[0, 1]
        )
        assert form.items.alpha_if_deleted[j] == pytest.approx(
            cronbach_alpha(np.delete(x, j, axis=1))
        )
    # upper/lower 27% discrimination index
    order = np.argsort(total, kind="stable")
    g = int(np.ceil(0.27 * 400))
    disc = x[order[-g:]].mean(axis=0) - x[order[:g]].mean(axis=0)
    np.testing.assert_allclose(form.items.discrimination_index, disc)


def test_polytomous_items_use_max_score() -> None:
    x = np.array([[0, 2], [1, 4], [1, 3], [0, 1]])
    form = analyse_form(x, max_scores=[1, 4])
    np.testing.assert_allclose(form.items.facility, [0.5, 10 / 16])
    with pytest.raises(ValueError, match="item 1"):
        analyse_form(x, max_scores=[1, 3])


def test_flags_follow_thresholds() -> None:
    rng = np.random.default_rng(3)
    n = 500
    thetas = rng.normal(size=n)
    x = simulate_2pl(rng, thetas, np.full(13, 1.5), rng.uniform(-0.8, 0.8, 13))
    x[:, 0] = (rng.random(n) < 0.05).astype(int)  # very hard, unrelated to ability
    x[:, 1] = (rng.random(n) < 0.97).astype(int)  # very easy
    x[:, 2] = (thetas < 0).astype(int)  # miskeyed: reversed discrimination
    form = analyse_form(x)
    assert FLAG_TOO_HARD in form.items.flags[0]
    assert FLAG_TOO_EASY in form.items.flags[1]
    assert FLAG_LOW_DISCRIMINATION in form.items.flags[2]
    assert FLAG_LOW_CORRELATION in form.items.flags[2]
    assert all(f == () for f in form.items.flags[3:])
    lenient = analyse_form(
        x, thresholds=CttThresholds(p_min=0.01, p_max=0.99, r_min=-1.0, discrimination_min=-1.0)
    )
    assert all(f == () for f in lenient.items.flags)
    with pytest.raises(ValueError):
        CttThresholds(p_min=0.9, p_max=0.2)


def test_distractor_analysis_by_hand() -> None:
    """Six candidates, one item keyed B (1). Totals rank the candidates 0..5.

    Choices by rank (low to high): A, A, C, B, C, C. With group_fraction 1/3 the lower group
    is the two lowest (A, A), the upper the two highest (C, C): distractor C is chosen by two
    upper candidates and the key by none, so C is flagged.
    """
    choices = np.array([[0], [0], [2], [1], [2], [2]])
    totals = np.arange(6, dtype=float)
    res = analyse_distractors(choices, [1], total_scores=totals, n_options=4, group_fraction=1 / 3)
    np.testing.assert_allclose(res.share[0], [2 / 6, 1 / 6, 3 / 6, 0.0])
    np.testing.assert_allclose(res.mean_total[0, :3], [0.5, 3.0, 11 / 3])
    assert np.isnan(res.mean_total[0, 3])
    assert res.flagged[0].tolist() == [False, False, True, False]
    np.testing.assert_allclose(res.upper_share[0], [0, 0, 1, 0])
    np.testing.assert_allclose(res.lower_share[0], [1, 0, 0, 0])
    assert res.omit_share[0] == 0.0


def test_ctt_validation() -> None:
    with pytest.raises(ValueError, match="finite"):
        analyse_form(np.array([[1, np.inf], [0, 1]]))
    with pytest.raises(ValueError, match="pairwise or listwise"):
        analyse_form(np.array([[1, 0], [0, 1]]), missing="impute")
    with pytest.raises(ValueError, match="-1"):
        analyse_distractors(np.array([[-2]]), [0])


# ----------------------------------------------------------------------------------------
# Reliability as psych::alpha reports it (R's psych, run on the same simulated data)

PSYCH_SCRIPT = r"""
for (tag in c("pair", "list")) {
  X <- rd("x")
  a <- if (tag == "pair") psych::alpha(X, warnings = FALSE) else psych::alpha(na.omit(X), warnings = FALSE)
  t <- a$total
  out(paste0(tag, ".total"), c(t$raw_alpha, t$std.alpha, t[["G6(smc)"]], t$average_r, t[["S/N"]], t$ase,
                               t$mean, t$sd, t$median_r))
  s <- a$item.stats
  for (col in c("raw.r", "std.r", "r.cor", "r.drop", "mean", "sd")) out(paste0(tag, ".", col), s[[col]])
  d <- a$alpha.drop
  for (col in c("raw_alpha", "std.alpha", "G6(smc)", "average_r", "alpha se", "med.r"))
    out(paste0(tag, ".drop.", gsub("[() ]", "", col)), d[[col]])
}
"""


def _rubric_scores_with_gaps(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n, k = 400, 9
    th = rng.normal(size=n)
    x = np.clip(np.round(th[:, None] * rng.uniform(0.3, 1.2, k) + rng.normal(size=(n, k)) + 2), 0, 4)
    x[rng.random((n, k)) < 0.08] = np.nan  # no answer
    return x


def test_reliability_matches_psych_alpha_pairwise_and_listwise(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from analysis.ctt import reliability

    from .conftest import run_r

    x = _rubric_scores_with_gaps(71)
    peer = run_r(PSYCH_SCRIPT, {"x": x}, tmp_path)
    for tag, missing in (("pair", "pairwise"), ("list", "listwise")):
        r = reliability(x, missing=missing)
        ours = [r.raw_alpha, r.std_alpha, r.g6, r.average_r, r.signal_noise, r.alpha_se, r.mean, r.sd, r.median_r]
        np.testing.assert_allclose(ours, peer[f"{tag}.total"], rtol=1e-9, atol=1e-12)
        it = r.items
        for name, ours_col in (("raw.r", it.raw_r), ("std.r", it.std_r), ("r.cor", it.r_cor), ("r.drop", it.r_drop)):
            np.testing.assert_allclose(ours_col, peer[f"{tag}.{name}"], rtol=1e-9, atol=1e-12)
        if missing == "pairwise":  # psych's item means and SDs use every answer
            np.testing.assert_allclose(it.mean, peer[f"{tag}.mean"], rtol=1e-12)
            np.testing.assert_allclose(it.sd, peer[f"{tag}.sd"], rtol=1e-12)
        d = r.if_dropped
        for name, ours_col in (("raw_alpha", d.raw_alpha), ("std.alpha", d.std_alpha), ("G6smc", d.g6),
                               ("average_r", d.average_r), ("alphase", d.alpha_se), ("med.r", d.median_r)):
            np.testing.assert_allclose(ours_col, peer[f"{tag}.drop.{name}"], rtol=1e-9, atol=1e-12)


def test_missing_answers_are_not_scored_as_wrong() -> None:
    """A candidate without an answer is missing, not wrong: pairwise alpha on the answers
    given, not the alpha of a matrix with zeros put in (which mixes omission into ability)."""
    from analysis.ctt import reliability

    x = _rubric_scores_with_gaps(72)
    form = analyse_form(x, max_scores=np.full(x.shape[1], 4.0))
    rel = reliability(x)
    assert form.alpha == pytest.approx(rel.raw_alpha)
    assert form.std_alpha == pytest.approx(rel.std_alpha) and form.g6 == pytest.approx(rel.g6)
    assert form.n_missing == int(np.isnan(x).sum()) and form.missing == "pairwise"
    np.testing.assert_allclose(form.items.corrected_item_total_correlation, rel.items.r_drop)
    zero_filled = analyse_form(np.nan_to_num(x), max_scores=np.full(x.shape[1], 4.0))
    assert abs(zero_filled.alpha - form.alpha) > 0.005
    # facility uses the answers given
    np.testing.assert_allclose(form.items.facility, np.nanmean(x, axis=0) / 4.0)
    listwise = analyse_form(x, max_scores=np.full(x.shape[1], 4.0), missing="listwise")
    assert listwise.alpha == pytest.approx(reliability(x, missing="listwise").raw_alpha)
    # complete data: every definition coincides with the textbook formula
    complete = np.nan_to_num(x)
    k = complete.shape[1]
    textbook = k / (k - 1) * (1 - complete.var(axis=0).sum() / complete.sum(axis=1).var())
    assert cronbach_alpha(complete) == pytest.approx(textbook)
