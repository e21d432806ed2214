"""Blueprint validation and the plain-dict round trip."""

from __future__ import annotations

import json

import pytest

from assembly import (
    Blueprint,
    DifficultyBand,
    DifficultyRule,
    ElementRule,
    ExposureRule,
    InvalidBlueprintError,
    IrtRule,
    ParallelRule,
    TypeRule,
    blueprint_from_dict,
    blueprint_to_dict,
    validate_blueprint,
)


def full_blueprint() -> Blueprint:
    return validate_blueprint(Blueprint(
        name="L5 theory", version=3,
        item_types=(TypeRule("single_choice", 80, 80.0), TypeRule("true_false", 20, 20.0)),
        part="theory", level=5,
        elements=(ElementRule("A", 20, 30, parent_code=None, weight=25.0),
                  ElementRule("A-01", 1, 8, parent_code="A", importance="X", weight=6.25)),
        difficulty=DifficultyRule(mean_rating_min=2.5, mean_rating_max=3.5, mean_p_min=0.5,
                                  item_p_min=0.1, item_p_max=0.95,
                                  bands=(DifficultyBand("easy", 1, 2, 10, 40),)),
        irt=IrtRule("target_information", thetas=(-1.0, 0.0, 1.0), targets=(10.0, 15.0, 10.0)),
        parallel=ParallelRule(information_tolerance=1.0, mean_rating_tolerance=0.2),
        time_max_s=5400.0,
        exposure=ExposureRule(exclude_recent_sessions=2, max_uses=5, usage_weight=0.01),
        include_items=("X1",), exclude_items=("X2",), max_overlap=5, note="note",
    ))


def test_round_trip_through_json() -> None:
    bp = full_blueprint()
    data = json.loads(json.dumps(blueprint_to_dict(bp)))
    assert blueprint_from_dict(data) == bp
    assert data["format"] == 1


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("elements", 1, "min"), -1, "elements[1] ('A-01').min"),
        (("elements", 1, "parent_code"), "Z", "parent_code"),
        (("elements", 0, "basis"), "weight", "basis"),
        (("item_types", 0, "count"), 0, "item_types[0].count"),
        (("irt", "objective"), "best", "irt.objective"),
        (("irt", "targets"), [1.0], "irt.targets"),
        (("difficulty", "mean_rating_min"), 4.0, "difficulty.mean_rating_min"),
        (("exposure", "max_uses"), -2, "exposure.max_uses"),
        (("max_overlap",), "3", "max_overlap"),
        (("version",), 0, "version"),
    ],
)
def test_from_dict_names_the_bad_field(path: tuple, value: object, field: str) -> None:
    data = blueprint_to_dict(full_blueprint())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidBlueprintError, match=field.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        blueprint_from_dict(data)


def test_unknown_and_missing_fields() -> None:
    data = blueprint_to_dict(full_blueprint())
    data["colour"] = "red"
    with pytest.raises(InvalidBlueprintError, match="colour"):
        blueprint_from_dict(data)
    data = blueprint_to_dict(full_blueprint())
    data["irt"]["sharpness"] = 1
    with pytest.raises(InvalidBlueprintError, match="irt.sharpness"):
        blueprint_from_dict(data)
    data = blueprint_to_dict(full_blueprint())
    del data["item_types"]
    with pytest.raises(InvalidBlueprintError, match="item_types"):
        blueprint_from_dict(data)


def test_include_and_exclude_must_not_overlap() -> None:
    with pytest.raises(InvalidBlueprintError, match="include_items"):
        full_blueprint().with_changes(exclude_items=("X1",))


def test_parent_cycle_is_rejected() -> None:
    with pytest.raises(InvalidBlueprintError, match="cycle"):
        full_blueprint().with_changes(elements=(ElementRule("A", parent_code="B"),
                                                ElementRule("B", parent_code="A")))


def test_derived_properties() -> None:
    bp = full_blueprint()
    assert bp.n_items == 100
    assert bp.total_points == 100.0
