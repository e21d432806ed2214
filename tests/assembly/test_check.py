"""The independent checker catches every kind of broken paper."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assembly import InvalidFormsError, Pool, check_forms
from tests.assembly.conftest import make_items, small_blueprint


def pool_and_forms() -> tuple[Pool, list[list[str]]]:
    items = make_items(40, seed=3)
    for k in (20, 21):
        items[k] = replace(items[k], set_id="S1")
    pool = Pool.from_items(items, enemies=[("I001", "I002")], current_session=5)
    # a valid pair of papers: 6 single choice + 2 true/false each, all elements covered
    sc = [item.id for item in items if item.item_type == "single_choice" and item.set_id is None
          and item.id not in ("I001", "I002")]
    tf = [item.id for item in items if item.item_type == "true_false"]
    return pool, [sc[:6] + tf[:2], sc[6:12] + tf[2:4]]


def bp_for(pool: Pool, forms: list[list[str]]):
    bp = small_blueprint(objective="none")
    return replace(bp, difficulty=replace(bp.difficulty, mean_rating_min=None, mean_rating_max=None))


def test_valid_papers_pass() -> None:
    pool, forms = pool_and_forms()
    report = check_forms(pool, bp_for(pool, forms), forms)
    assert report.ok, report.violations
    assert report.parallelism.max_overlap == 0
    assert report.papers[0].row("type_single_choice_count").achieved == 6


@pytest.mark.parametrize(
    ("mutate", "row"),
    [
        (lambda f: f[0].__setitem__(0, f[1][0]), "overlap_form0_form1"),
        (lambda f: f[0].__setitem__(0, f[0][1]), "duplicate_items"),
        (lambda f: f[0].pop(), "type_true_false_count"),
        (lambda f: f[0].__setitem__(slice(0, 2), ["I001", "I002"]), "enemies"),
        (lambda f: f[0].__setitem__(0, "I020"), "sets_whole"),
    ],
)
def test_violations_are_found(mutate, row: str) -> None:
    pool, forms = pool_and_forms()
    mutate(forms)
    report = check_forms(pool, bp_for(pool, forms), forms)
    assert not report.ok
    failing = [r.name for p in report.papers for r in p.rows if r.ok is False]
    failing += [r.name for r in report.cross if r.ok is False]
    assert row in failing


def test_eligibility_is_checked_unless_sealed() -> None:
    pool, forms = pool_and_forms()
    items = list(pool.items)
    k = pool.index[forms[1][0]]
    items[k] = replace(items[k], compromised=True)
    pool2 = Pool.from_items(items, enemies=[("I001", "I002")], current_session=5)
    report = check_forms(pool2, bp_for(pool2, forms), forms)
    assert not report.ok and "compromised" in " ".join(v.english() for v in report.violations)
    assert check_forms(pool2, bp_for(pool2, forms), forms, sealed=[1]).ok


def test_unknown_item_raises() -> None:
    pool, forms = pool_and_forms()
    forms[0][0] = "NOPE"
    with pytest.raises(InvalidFormsError, match="NOPE"):
        check_forms(pool, bp_for(pool, forms), forms)
