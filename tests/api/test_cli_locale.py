"""The command line speaks the run's locale (issue 14): every command's help, Click's own usage
and errors, in Chinese by default (``LANG=C``) and in English with ``--lang en`` / ``LANG=en``."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from api.cli import localized, main
from tests.words import english_words

COMMANDS = [path for path, _cmd in localized.walk(main)]


def _literals() -> set[str]:
    """What an operator types, shown as it is typed: command names, defaults that are not a
    choice's (those are shown in words), the program's name, ``--lang``'s codes and LANG."""
    out = {"itembank", "zh_CN", "en", "LANG"}
    for path, cmd in localized.walk(main):
        out.update(path)
        for p in cmd.params:
            if isinstance(p.default, str) and not isinstance(p.type, click.Choice):
                out.add(p.default)
    return out


LITERALS = _literals()


def run(*args: str, lang: str = "C") -> click.testing.Result:
    return CliRunner().invoke(main, list(args), prog_name="itembank", env={"LANG": lang, "LC_ALL": None,
                                                                            "LC_MESSAGES": None})


def test_every_command_and_parameter_is_built_to_be_translated() -> None:
    for path, cmd in localized.walk(main):
        assert isinstance(cmd, (localized.Command, localized.Group)), path
        for p in cmd.params:
            assert isinstance(p, (localized.Option, localized.Argument)), (path, p.name)
            # choices are codes with words: shown and accepted in the reader's words
            assert not isinstance(p.type, click.Choice) or isinstance(p.type, localized.Choice), (path, p.name)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "itembank")
def test_every_help_is_chinese_by_default(path: tuple[str, ...]) -> None:
    r = run(*path, "--help")
    assert r.exit_code == 0, r.output
    assert "用法：" in r.output and "选项：" in r.output
    assert english_words(r.output, LITERALS) == [], r.output


@pytest.mark.parametrize("path", [(), ("ledger", "show"), ("assemble",)], ids=lambda p: " ".join(p) or "itembank")
def test_help_in_english_when_asked(path: tuple[str, ...]) -> None:
    for r in (run("--lang", "en", *path, "--help"), run(*path, "--help", lang="en_US.UTF-8")):
        assert r.exit_code == 0, r.output
        assert r.output.startswith("Usage: itembank") and "Options:" in r.output
        assert "Show this message and exit." in r.output
        assert not any("\u4e00" <= c <= "\u9fff" for c in r.output.split("Options:")[1].split("\n")[1]), r.output


USAGE_ERRORS = [
    (("nosuch",), "没有命令 'nosuch'。", "No such command 'nosuch'."),
    (("assemble", "--occupation", "6-31-01-03", "--level", "5", "--forms", "x"),
     "'--forms' 的值无效：'x' 不是有效的整数。", "Invalid value for '--forms': 'x' is not a valid integer."),
    (("assemble", "--occupation", "6-31-01-03", "--level", "5", "--part", "oral"),
     "'--part' 的值无效：", "Invalid value for '--part': 'oral' is not one of"),
    (("assemble", "--level", "5"), "缺少选项 '--occupation'", "Missing option '--occupation'"),
    (("papers", "recheck"), "缺少参数 '代码'", "Missing argument 'CODE'"),
    (("demo", "--bogus"), "没有选项 '--bogus'", "No such option '--bogus'"),
    (("readiness", "--level"), "选项 '--level' 需要一个值。", "Option '--level' requires an argument."),
    (("papers", "recheck", "A", "B"), "多出了参数（B）", "Got unexpected extra argument (B)"),
    (("--lang", "fr", "demo"), "'--lang' 的值无效", "Invalid value for '--lang'"),
]


@pytest.mark.parametrize(("args", "zh", "en"), USAGE_ERRORS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_usage_errors_follow_the_locale(args: tuple[str, ...], zh: str, en: str) -> None:
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert zh in r.output and "错误：" in r.output, r.output
    assert english_words(r.output, LITERALS | {"oral", "fr", "bogus", "nosuch"}) == [], r.output
    english = run(*args, lang="en_US.UTF-8")
    assert english.exit_code == 2 and en in english.output and "Error: " in english.output, english.output


def test_chinese_short_help_is_cut_at_a_sentence_and_the_width() -> None:
    assert localized.short_help("台帐。另一句。", 40) == "台帐"
    cut = localized.short_help("运行一个后台任务进程：从数据库中的队列领取组卷、导入、分析等任务。", 20)
    assert cut.endswith("…") and localized._width(cut) <= 20


@pytest.mark.parametrize(("env", "zh", "en"), [
    ({"ITEMBANK_TIME_ZONE": "Mars/Olympus"}, "本中心的时区 'Mars/Olympus'（ITEMBANK_TIME_ZONE）无法识别",
     "The centre's time zone 'Mars/Olympus' (ITEMBANK_TIME_ZONE) is unknown"),
    ({"ITEMBANK_DEFAULT_LOCALE": "fr"}, "不支持语言 'fr'", "The language 'fr' is not available"),
    ({"ITEMBANK_PORT": "eighty"}, "设置项 ITEMBANK_PORT = 'eighty' 无法使用", "The setting ITEMBANK_PORT = 'eighty' cannot be used"),
    ({"ITEMBANK_LIFECYCLE_RETENTION_YEARS": "1"}, "设置项 ITEMBANK_LIFECYCLE_RETENTION_YEARS = '1' 无法使用",
     "The setting ITEMBANK_LIFECYCLE_RETENTION_YEARS = '1' cannot be used"),
], ids=["time zone", "locale", "port", "lifecycle"])
def test_a_setting_that_cannot_be_used_stops_the_run_in_words(env: dict[str, str], zh: str, en: str,
                                                              tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'x.db'}"
    command = ["lifecycle", "verify", "Y1"] if "ITEMBANK_LIFECYCLE_RETENTION_YEARS" in env else ["occupations", "list"]
    for lang, want in (("C", zh), ("en_US.UTF-8", en)):
        r = CliRunner().invoke(main, ["--database-url", url, *command], prog_name="itembank",
                               env={"LANG": lang, "LC_ALL": None, **env})
        assert r.exit_code == 2 and r.exception is None or isinstance(r.exception, SystemExit), r.exception
        assert want.lower() in r.output.lower(), r.output
        if lang == "C":
            assert english_words(r.output, LITERALS | {"Mars", "Olympus", "fr", "eighty", "Asia", "Shanghai"}) == []


def test_log_lines_on_the_terminal_follow_the_locale() -> None:
    import logging

    from itembank.i18n import Message, use_locale

    record = logging.LogRecord("itembank.keys", logging.WARNING, __file__, 1,
                               Message("creating the ledger key {path}: keep a copy with the centre's key backup",
                                       path="/srv/k.key"), None, None)
    with use_locale("zh_CN"):
        assert localized.LogFormatter().format(record) == "警告（itembank.keys）：正在创建台帐密钥 /srv/k.key：请将副本与本中心的密钥备份一同保管"
    with use_locale("en"):
        assert localized.LogFormatter().format(record).startswith("Warning (itembank.keys): creating the ledger key")


def test_choices_are_codes_with_words() -> None:
    from itembank.domain import Part
    from itembank.i18n import use_locale

    part = localized.Choice(Part)
    solver = localized.Choice(["cbc", "highs"], {"cbc": "CBC", "highs": "HiGHS"})
    for typed in ("理论知识", "theory", "THEORY", " 理论知识 "):
        assert part.convert(typed, None, None) == "theory"
    assert solver.convert("HiGHS", None, None) == "highs"
    with use_locale("zh_CN"), pytest.raises(click.BadParameter) as wrong:
        part.convert("oral", None, None)
    assert "理论知识、实际操作、论文答辩/技术评审" in wrong.value.format_message()
    with use_locale("en"), pytest.raises(click.BadParameter) as wrong:
        part.convert("oral", None, None)
    assert "'theory', 'practical', 'defence'" in wrong.value.format_message()
    r = run("assemble", "--help")
    assert "--part [理论知识|实际操作|论文答辩/技术评审]" in r.output and "[默认：理论知识]" in r.output
    assert "--part [theory|practical|defence]" in run("assemble", "--help", lang="en_US.UTF-8").output
