"""Blueprints from the element table, and the standard blueprints per level."""

from __future__ import annotations

import pytest

from assembly import (
    ElementRow,
    InvalidBlueprintError,
    TypeRule,
    blueprint_from_dict,
    blueprint_to_dict,
    demo_element_rows,
    derive_blueprint,
    standard_blueprint,
)

ROWS = [
    ElementRow("A", None, 60.0),
    ElementRow("A-01", "A", 40.0, "X"),
    ElementRow("A-02", "A", 20.0, "Z"),
    ElementRow("B", None, 40.0),
    ElementRow("B-01", "B", 39.0, "Y"),
    ElementRow("B-02", "B", 1.0, "X"),
]
TYPES = (TypeRule("single_choice", 80, 80.0), TypeRule("true_false", 20, 20.0))


def test_counts_follow_the_weights_within_the_tolerance() -> None:
    bp = derive_blueprint(ROWS, TYPES, name="t", tolerance=0.1)
    rules = {rule.code: rule for rule in bp.elements}
    assert (rules["A"].min, rules["A"].max) == (54.0, 66.0)  # 60 +- 6
    assert (rules["A-01"].min, rules["A-01"].max) == (36.0, 44.0)
    assert rules["B-02"].min == 1.0  # X: always covered, though 1 % of 100 items is 1 +- 1
    assert rules["A-02"].importance == "Z" and rules["A"].importance is None
    assert rules["A-01"].parent_code == "A"


def test_rows_as_dicts_and_tuples() -> None:
    as_dicts = [{"code": r.code, "parent_code": r.parent_code, "weight": r.weight,
                 "importance": r.importance} for r in ROWS]
    as_tuples = [(r.code, r.parent_code, r.weight, r.importance) for r in ROWS]
    assert derive_blueprint(as_dicts, TYPES, name="t") == derive_blueprint(as_tuples, TYPES, name="t")


def test_points_basis_uses_the_largest_item_as_step() -> None:
    types = (TypeRule("single_choice", 50, 50.0), TypeRule("essay", 1, 50.0))
    bp = derive_blueprint(ROWS, types, name="t", basis="points", tolerance=0.0)
    rules = {rule.code: rule for rule in bp.elements}
    assert rules["A-01"].basis == "points"
    assert (rules["A-01"].min, rules["A-01"].max) == (1.0, 90.0)  # 40 +- 50 points, X: >= 1 item
    assert (rules["B-01"].min, rules["B-01"].max) == (0.0, 89.0)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (ROWS[:-1], "children of B add up to 39"),
        (ROWS + [ElementRow("C", None, 10.0)], "top-level scopes add up to 110"),
        ([ElementRow("A", None, 100.0), ElementRow("A-01", "A", 100.0, None)], "A-01: an element needs"),
        ([ElementRow("A", None, 100.0, "X"), ElementRow("A-01", "A", 100.0, "X")], "A: a scope"),
        ([ElementRow("A", "Q", 100.0)], "parent 'Q'"),
    ],
)
def test_malformed_tables_are_named(rows: list, message: str) -> None:
    with pytest.raises(InvalidBlueprintError, match=message):
        derive_blueprint(rows, TYPES, name="t")


def test_too_many_core_elements() -> None:
    rows = [ElementRow("A", None, 100.0)] + [ElementRow(f"A-{k}", "A", 25.0, "X") for k in range(4)]
    with pytest.raises(InvalidBlueprintError, match="4 X elements"):
        derive_blueprint(rows, (TypeRule("practical_task", 3, 100.0),), name="t")


@pytest.mark.parametrize("level", [5, 4, 3, 2, 1])
@pytest.mark.parametrize("part", ["theory", "practical"])
def test_standard_blueprints(level: int, part: str) -> None:
    bp = standard_blueprint(level, demo_element_rows(part), part=part)
    assert bp.level == level and bp.part == part
    assert bp.total_points == 100.0
    assert blueprint_from_dict(blueprint_to_dict(bp)) == bp
    types = {rule.item_type for rule in bp.item_types}
    if part == "practical":
        assert types == {"practical_task"}
    elif level >= 3:  # 附件1 第16条: objective items
        assert types <= {"single_choice", "multiple_choice", "true_false"}
        assert bp.irt.objective == "maximin"
    else:  # objective and subjective
        assert types & {"short_answer", "calculation", "essay"}
        assert types & {"single_choice", "true_false"}
