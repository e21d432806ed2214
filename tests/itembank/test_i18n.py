"""The message catalog and the reader's locale (itembank.i18n, analysis.messages)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.messages import Message
from itembank import catalog_tools, i18n
from itembank.domain import Level, Part
from itembank.errors import ValidationError


def test_every_msgid_of_the_code_has_a_chinese_translation_with_the_same_fields() -> None:
    problems = catalog_tools.check()
    assert problems == [], "\n".join(f"{p.what}: {p.msgid!r} ({p.where})" for p in problems[:40])


def test_a_message_renders_in_the_current_locale_and_falls_back_to_english() -> None:
    msg = Message("The request is not valid.")
    with i18n.use_locale("zh_CN"):
        assert str(msg) == "请求内容有误。"
    with i18n.use_locale("en"):
        assert str(msg) == "The request is not valid."
    assert msg.english() == "The request is not valid."
    # a msgid the catalog does not know is shown as it is, never as an error
    with i18n.use_locale("zh_CN"):
        assert str(Message("no such msgid {x}", x=3)) == "no such msgid 3"


def test_parameters_are_rendered_in_the_same_locale() -> None:
    inner = Message("The request is not valid.")
    outer = Message("{a} / {b} / {when} / {day} / {level} / {part} / {many}", a=inner, b=1.5,
                    when=datetime(2026, 12, 6, 0, 30, tzinfo=UTC), day=date(2026, 12, 6), level=Level.L5,
                    part=Part.THEORY, many=["x", "y"])
    with i18n.use_locale("zh_CN"):
        assert str(outer) == "请求内容有误。 / 1.5 / 2026年12月6日 08:30 / 2026年12月6日 / 五级/初级工 / 理论知识 / x、y"
    with i18n.use_locale("en"):
        assert str(outer) == ("The request is not valid. / 1.5 / 6 Dec 2026, 08:30 / 6 Dec 2026 / 5 / theory / x, y")


def test_times_are_shown_in_the_configured_time_zone() -> None:
    t = datetime(2026, 12, 5, 23, 30)  # naive: stored UTC
    assert i18n.format_datetime(t, "zh_CN") == "2026年12月6日 07:30"
    try:
        i18n.configure(time_zone="Europe/Berlin")
        assert i18n.format_datetime(t, "zh_CN") == "2026年12月6日 00:30"
    finally:
        i18n.configure(time_zone=i18n.DEFAULT_TIME_ZONE)
    with pytest.raises(ValueError, match="Asia/Shanghai"):
        i18n.configure(time_zone="Mars/Olympus")


def test_a_translation_with_wrong_fields_falls_back_to_the_english_template(monkeypatch) -> None:
    cat = i18n.catalog("zh_CN")
    monkeypatch.setitem(cat.entries, "{n} short", "缺 {m} 道")
    with i18n.use_locale("zh_CN"):
        assert str(Message("{n} short", n=4)) == "4 short"


@pytest.mark.parametrize(("header", "expected"), [
    ("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"), ("en;q=0.3, zh-TW;q=0.8", "zh_CN"),
    ("fr-FR, de;q=0.5", None), ("", None), (None, None), ("en;q=0, zh;q=0.1", "zh_CN"), ("*", None),
])
def test_accept_language_picks_the_best_supported_locale(header: str | None, expected: str | None) -> None:
    assert i18n.locale_from_accept_language(header) == expected


def test_the_cli_locale_follows_lang_and_defaults_to_chinese() -> None:
    assert i18n.locale_from_env({"LANG": "en_US.UTF-8"}) == "en"
    assert i18n.locale_from_env({"LANG": "C.UTF-8"}) is None
    assert i18n.locale_from_env({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}) == "zh_CN"
    assert i18n.locale_from_env({}) is None


_values = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
                    st.datetimes(timezones=st.just(UTC)), st.dates(), st.sampled_from(list(Part)))


@given(st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), _values, max_size=4))
def test_the_stored_form_of_a_message_round_trips(params: dict) -> None:
    msg = Message("x", **params, nested=Message("y", **params))
    back = Message.from_data(msg.to_data())
    assert back.msgid == "x"
    with i18n.use_locale("zh_CN"):
        assert str(back) == str(Message.from_data(back.to_data()))
    for key, value in params.items():
        assert back.params[key] == value  # enums come back as enums, times as times


def test_an_error_renders_its_message_and_its_list_in_the_readers_locale() -> None:
    err = ValidationError(Message("The request is not valid."), errors=[Message("The request is not valid."), "plain"])
    with i18n.use_locale("zh_CN"):
        assert err.head == "请求内容有误。"
        assert str(err) == "请求内容有误。\n  - 请求内容有误。\n  - plain"
    with i18n.use_locale("en"):
        assert err.message.startswith("The request is not valid.\n")


def test_bad_settings_are_refused_in_the_readers_locale() -> None:
    from itembank.errors import ConfigurationError
    from lifecycle.workdays import WorkingCalendar

    with pytest.raises(ConfigurationError) as tz:
        i18n.configure(time_zone="Mars/Olympus")
    with pytest.raises(ConfigurationError) as loc:
        i18n.configure(default_locale="fr")
    every_day = [date(2026, 1, 1).fromordinal(date(2026, 1, 1).toordinal() + k) for k in range(900)]
    with pytest.raises(ConfigurationError) as cal:
        WorkingCalendar.of(holidays=every_day).add_working_days(date(2025, 12, 31), 5)
    assert (tz.value.field, loc.value.field, cal.value.field) == ("time_zone", "default_locale", "calendar")
    with i18n.use_locale("zh_CN"):
        assert tz.value.message.startswith("本中心的时区 'Mars/Olympus'（ITEMBANK_TIME_ZONE）无法识别")
        assert "2025年12月31日" in cal.value.message and "工作日" in cal.value.message
    with i18n.use_locale("en"):
        assert "tz database" in tz.value.message and "zh_CN, en" in loc.value.message


def test_level_titles_are_catalog_words_in_the_readers_locale() -> None:
    from itembank.domain import BankRef, Occupation, OccupationCategory

    bank = BankRef(occupation=Occupation(code="6-31-01-03", name="电工", category=OccupationCategory.TECHNICAL_SKILL),
                   level=Level.L2, id=1)
    with i18n.use_locale("zh_CN"):
        assert [str(lvl.title) for lvl in Level] == ["五级/初级工", "四级/中级工", "三级/高级工", "二级/技师", "一级/高级技师"]
        assert bank.label == "6-31-01-03 电工 二级/技师"
    with i18n.use_locale("en"):
        assert str(Level.L5.title) == "Level 5 (junior worker)"
        assert bank.label == "6-31-01-03 电工 Level 2 (technician)"
        # words that become data are written in the centre's language whoever asks
        assert i18n.for_storage(Message("{level} {part} standard blueprint", level=Level.L5.title,
                                        part=Part.THEORY)) == "五级/初级工 理论知识 标准方案"
