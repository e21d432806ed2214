import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank.domain import Level, OccupationCategory
from itembank.errors import ConflictError, NotFoundError, OccupationNotFiledError, ValidationError
from itembank.occupations import (
    create_bank,
    create_occupation,
    get_bank,
    list_banks,
    list_occupations,
    set_filed,
)
from itembank.orm import OccupationRecord


def test_create_and_list(session: Session) -> None:
    create_occupation(session, code="6-31-01-03", name="电工", category="technical_skill")
    create_occupation(session, code="4-12-01-01", name="汽车维修工", category="technical_skill",
                      work_type="汽车机械维修工")
    occs = list_occupations(session)
    assert [(o.code, o.work_type) for o in occs] == [("4-12-01-01", "汽车机械维修工"), ("6-31-01-03", None)]


def test_same_code_different_work_types_are_distinct(session: Session) -> None:
    create_occupation(session, code="4-12-01-01", name="汽车维修工", category="technical_skill",
                      work_type="汽车机械维修工")
    create_occupation(session, code="4-12-01-01", name="汽车维修工", category="technical_skill",
                      work_type="汽车电器维修工")
    with pytest.raises(ConflictError, match=r"职业 4-12-01-01 汽车维修工（工种：汽车电器维修工）已存在。") as exc:
        create_occupation(session, code="4-12-01-01", name="汽车维修工", category="technical_skill",
                          work_type="汽车电器维修工")
    assert exc.value.code == "occupation_exists"
    assert exc.value.params == {"code": "4-12-01-01", "name": "汽车维修工", "work_type": "汽车电器维修工"}


def test_bad_occupation_lists_every_field(session: Session) -> None:
    with pytest.raises(ValidationError) as exc:
        create_occupation(session, code="63101", name=" ", category="artistic")
    text = "\n".join(exc.value.listed())
    assert "编号：“63101”不是国家职业编码" in text
    assert "名称：职业名称为空" in text
    assert "职业类型：“artistic”不是职业类型" in text
    assert [e.field for e in exc.value.errors] == ["code", "name", "category"]
    assert session.scalar(select(func.count()).select_from(OccupationRecord)) == 0


def test_bank_only_for_filed_occupation(session: Session) -> None:
    create_occupation(session, code="6-31-01-10", name="智能楼宇管理员",
                      category=OccupationCategory.COMPOSITE_SKILL, filed=False)
    with pytest.raises(OccupationNotFiledError, match="职业 6-31-01-10 智能楼宇管理员 未备案"):
        create_bank(session, occupation_code="6-31-01-10", level=4)
    set_filed(session, code="6-31-01-10", filed=True)
    bank = create_bank(session, occupation_code="6-31-01-10", level=4)
    assert bank.level is Level.L4
    assert get_bank(session, occupation_code="6-31-01-10", level="中级工").id == bank.id


def test_duplicate_bank_and_unknown_occupation(session: Session) -> None:
    create_occupation(session, code="6-31-01-03", name="电工", category="technical_skill")
    create_bank(session, occupation_code="6-31-01-03", level=5)
    with pytest.raises(ConflictError, match="五级/初级工"):
        create_bank(session, occupation_code="6-31-01-03", level=5)
    with pytest.raises(NotFoundError, match="9-99-99-99"):
        create_bank(session, occupation_code="9-99-99-99", level=5)
    with pytest.raises(NotFoundError, match="没有 6-31-01-03 电工 一级/高级技师的题库"):
        get_bank(session, occupation_code="6-31-01-03", level=1)
    assert [b.level for b in list_banks(session)] == [Level.L5]
