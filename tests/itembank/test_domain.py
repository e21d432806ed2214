import pytest

from itembank.domain import ItemType, Level, Occupation, OccupationCategory, Part


@pytest.mark.parametrize(
    ("text", "level"),
    [(5, Level.L5), ("4", Level.L4), ("L3", Level.L3), ("技师", Level.L2), ("一级", Level.L1),
     ("五级/初级工", Level.L5)],
)
def test_level_parse_accepts_numbers_and_chinese_names(text, level):
    assert Level.parse(text) is level


@pytest.mark.parametrize("bad", [0, 6, "六级", "", "L9"])
def test_level_parse_names_the_bad_value(bad):
    with pytest.raises(ValueError, match=f"无法识别的等级“{bad}”"):
        Level.parse(bad)


def test_level_titles_and_defence():
    assert Level.L5.title_zh == "五级/初级工"
    assert Level.L1.title_zh == "一级/高级技师"
    assert [lvl for lvl in Level if lvl.has_defence] == [Level.L2, Level.L1]


def test_item_types_belong_to_parts():
    assert ItemType.PRACTICAL_TASK.part is Part.PRACTICAL
    assert ItemType.DEFENCE_TOPIC.part is Part.DEFENCE
    assert {t for t in ItemType if t.part is Part.THEORY} == {
        ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.TRUE_FALSE, ItemType.FILL_IN,
        ItemType.SHORT_ANSWER, ItemType.CALCULATION, ItemType.ESSAY}
    assert {t for t in ItemType if t.is_objective} == {
        ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.TRUE_FALSE}


def test_occupation_without_work_type_prints_dash():
    occ = Occupation("6-31-01-03", "电工", OccupationCategory.TECHNICAL_SKILL)
    assert occ.display_work_type == "——"
    assert Occupation("4-12-01-01", "汽车维修工", OccupationCategory.TECHNICAL_SKILL,
                      work_type="汽车机械维修工").label == "汽车维修工（汽车机械维修工）"
