"""Property tests (Hypothesis): what the assembler claims, an independent check confirms.

- Every paper reported optimal or feasible meets every blueprint row, the overlap rule and the
  enemy rule, checked by :func:`assembly.check_forms` and again by hand here.
- Every blueprint reported infeasible comes with relaxations naming blueprint rows; applying
  them gives a blueprint that assembles.
"""

from __future__ import annotations

from itertools import combinations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assembly import (
    Blueprint,
    DifficultyBand,
    DifficultyRule,
    ElementRule,
    ExposureRule,
    IrtRule,
    Pool,
    PoolItem,
    TypeRule,
    assemble_forms,
    check_forms,
    relax_blueprint,
)

ELEMENTS = ("E1", "E2", "E3")


@st.composite
def pools(draw: st.DrawFn) -> Pool:
    n = draw(st.integers(12, 40))
    calibrated = draw(st.booleans())
    items = []
    n_sets = draw(st.integers(0, 3))
    for k in range(n):
        set_id = f"S{k // 3}" if k < 3 * n_sets else None
        items.append(PoolItem(
            id=f"I{k:02d}",
            item_type=draw(st.sampled_from(("single_choice", "single_choice", "true_false"))),
            points=1.0,
            element_codes=(draw(st.sampled_from(ELEMENTS)),),
            time_s=float(draw(st.integers(10, 90))),
            rating=draw(st.integers(1, 5)),
            p_value=draw(st.none() | st.floats(0.1, 0.95)),
            a=draw(st.floats(0.5, 2.0)) if calibrated else None,
            b=draw(st.floats(-2.0, 2.0)) if calibrated else None,
            c=0.0,
            usage_count=draw(st.integers(0, 5)),
            last_used_session=draw(st.none() | st.integers(0, 4)),
            compromised=draw(st.integers(0, 9)) == 0,
            set_id=set_id,
        ))
    ids = [item.id for item in items]
    enemies = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids))
                            .filter(lambda p: p[0] != p[1]), max_size=8))
    return Pool.from_items(items, enemies=enemies, current_session=5)


@st.composite
def blueprints(draw: st.DrawFn, pool: Pool) -> Blueprint:
    n_sc = draw(st.integers(1, 5))
    n_tf = draw(st.integers(0, 2))
    types = [TypeRule("single_choice", n_sc, float(n_sc))]
    if n_tf:
        types.append(TypeRule("true_false", n_tf, float(n_tf)))
    n = n_sc + n_tf
    elements = tuple(ElementRule(code, min=float(draw(st.integers(0, 2))),
                                 max=float(draw(st.integers(2, n))) if n >= 2 else None)
                     for code in ELEMENTS if draw(st.booleans()))
    lo = draw(st.none() | st.floats(1.0, 3.5))
    hi = draw(st.none() | st.floats(3.0, 5.0))
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    bands = (DifficultyBand("hard", 4, 5, min_count=draw(st.integers(0, 2))),) \
        if draw(st.booleans()) else ()
    objective = "maximin" if pool.calibrated.all() and draw(st.booleans()) else "none"
    ids = list(pool.ids)
    include = tuple(sorted(set(draw(st.lists(st.sampled_from(ids), max_size=1)))))
    exclude = tuple(sorted(set(draw(st.lists(st.sampled_from(ids), max_size=2))) - set(include)))
    return Blueprint(
        name="random", version=1, item_types=tuple(types), elements=elements,
        difficulty=DifficultyRule(mean_rating_min=lo, mean_rating_max=hi, bands=bands),
        irt=IrtRule(objective, thetas=(-1.0, 0.0, 1.0)) if objective != "none" else IrtRule(),
        time_max_s=float(draw(st.integers(30 * n, 80 * n))) if draw(st.booleans()) else None,
        exposure=ExposureRule(exclude_recent_sessions=draw(st.integers(0, 2)),
                              max_uses=draw(st.none() | st.integers(1, 5)),
                              usage_weight=0.01),
        include_items=include, exclude_items=exclude,
        max_overlap=draw(st.integers(0, 2)),
    )


def assert_papers_hold(pool: Pool, bp: Blueprint, forms: tuple[tuple[str, ...], ...]) -> None:
    report = check_forms(pool, bp, forms)
    assert report.ok, report.violations
    # the rules that matter most, once more by hand
    enemies = {frozenset((pool.ids[i], pool.ids[j])) for i, j in pool.enemy_pairs.tolist()}
    for form in forms:
        assert len(form) == len(set(form)) == bp.n_items
        assert not any(frozenset(pair) in enemies for pair in combinations(form, 2))
        assert not any(pool.items[pool.index[i]].compromised for i in form)
        sets = {pool.items[pool.index[i]].set_id for i in form} - {None}
        for set_id in sets:
            members = {item.id for item in pool.items if item.set_id == set_id}
            assert members <= set(form)
    for f, g in combinations(forms, 2):
        assert len(set(f) & set(g)) <= bp.max_overlap


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reported_papers_meet_the_blueprint_and_infeasibility_is_explained(data) -> None:
    pool = data.draw(pools())
    bp = data.draw(blueprints(pool))
    n_forms = data.draw(st.integers(1, 2))
    n_backups = data.draw(st.integers(0, 1))
    solver = data.draw(st.sampled_from(("cbc", "highs")))
    formulation = data.draw(st.sampled_from(("auto", "direct")))
    result = assemble_forms(pool, bp, n_forms=n_forms, n_backups=n_backups, solver=solver,
                            time_limit_s=5, rel_gap=0.1, seed=1, formulation=formulation)
    if result.ok:
        assert len(result.forms) == n_forms + n_backups
        assert_papers_hold(pool, bp, result.forms)
        assert result.report.objective is not None
    elif result.status == "infeasible":
        assert result.diagnosis
        if not result.relaxations:
            # only when even one item per type is out of reach: the counts say why
            lines = [m.english() for m in result.diagnosis]
            assert any("usable" in line or "even with every blueprint row relaxed" in line
                       for line in lines), lines
            return
        relaxed = relax_blueprint(bp, result.relaxations)
        again = assemble_forms(pool, relaxed, n_forms=n_forms, n_backups=n_backups,
                               solver="highs", time_limit_s=5, rel_gap=0.1, seed=1,
                               formulation="direct")
        assert again.ok, (result.relaxations, again.diagnosis)
        assert_papers_hold(pool, relaxed, again.forms)
