"""Help and usage errors entirely in Chinese, through the gettext catalogue (toolkit/i18n.py)."""

import gettext
import re
import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from toolkit import __version__
from toolkit.cli import app
from toolkit.i18n import MO_PATH, PO_PATH, compile_po, parse_po, translate, wrap_cjk

runner = CliRunner()

# Click's and Typer's English words, and the type names they print (PATH, <list[Path]>, FLOAT).
VOCABULARY = re.compile(
    r"\b(Usage|Options?|Arguments?|Commands?|Show|message|exit|required|default|Error|Try|"
    r"Missing|No such|Invalid|Got|PATH|FILE|DIRECTORY|FLOAT|TEXT|INTEGER|Path|list|float|int|str|"
    r"range|OPTIONS|COMMAND|ARGS|env var|Aborted|Did you mean|Possible|argument|option)\b")


def vocabulary(text: str) -> list[str]:
    # Option names (--help, --json) and the examples' paths are ours, not Click's words.
    words = " ".join(w for w in text.split() if not w.startswith("-"))
    return VOCABULARY.findall(words)


COMMANDS = sorted(typer.main.get_command(app).commands)


def test_every_command_is_covered():
    assert {"init", "check", "stats", "render", "build", "diff", "summary", "watch"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_is_chinese_and_ends_with_examples(command):
    for flag in ("--help", "-h"):
        result = runner.invoke(app, [command, flag])
        assert result.exit_code == 0, result.output
        assert vocabulary(result.output) == [], result.output
        assert result.output.startswith(f"用法：toolkit {command} [选项]")
        assert "选项：" in result.output and "显示本帮助并退出" in result.output
        tail = result.output.rstrip().split("示例：")[-1].strip().splitlines()
        assert 2 <= len(tail) <= 3 and all(line.strip().startswith("toolkit ") for line in tail)


@pytest.mark.parametrize("args", [["--help"], ["-h"], []])
def test_toolkit_alone_or_with_help_prints_the_help_and_exits_0(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert result.output.startswith("用法：toolkit [选项] 命令 [参数]...")
    assert "命令：" in result.output and "build" in result.output
    assert vocabulary(result.output) == []


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"toolkit {__version__}"


def test_type_names_are_chinese():
    check = runner.invoke(app, ["check", "-h"]).output
    assert "台账..." in check and "-o, --out 文件夹" in check
    watch = runner.invoke(app, ["watch", "-h"]).output
    assert "--interval 秒" in watch and "--debounce 秒" in watch and "不小于 0.1" in watch
    render = runner.invoke(app, ["render", "-h"]).output
    assert "-o, --output 文件" in render and "--template 文件" in render


def test_a_new_command_without_metavars_still_gets_chinese_type_names():
    from pathlib import Path

    import typer

    from toolkit.cli import ToolkitGroup, ToolkitTyper

    extra = ToolkitTyper(cls=ToolkitGroup, context_settings={"help_option_names": ["-h", "--help"]})

    @extra.command()
    def history(ledger: Path, restore: int = typer.Option(0, "--restore"),
                rate: float = typer.Option(1.0, "--rate"), name: str = typer.Option("x", "--name")):
        """历史。"""

    @extra.command()
    def other():
        """另一个。"""

    result = runner.invoke(extra, ["history", "-h"])
    assert result.exit_code == 0
    assert "--restore 整数" in result.output and "--rate 数字" in result.output
    assert "--name 文字" in result.output and vocabulary(result.output) == [], result.output


@pytest.mark.parametrize("args, expected", [
    (["check", "--nope", "x.xlsx"], "没有 --nope 这个选项"),
    (["check", "-x", "x.xlsx"], "没有 -x 这个选项"),
    (["check"], "缺少参数“台账”"),
    (["render"], "缺少参数“台账”"),
    (["biuld"], "没有“biuld”这个命令。是否是“build”？"),
    (["check", "-o"], "选项 -o 后面要跟一个值"),
    (["stats", "a.xlsx", "b.xlsx"], "多出了参数：b.xlsx"),
    (["watch", "--interval", "abc"], "--interval 的值不对：应为数字"),
    (["watch", "--interval", "0"], "--interval 的值不对"),
])
def test_usage_errors_are_one_chinese_line(args, expected):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("用法错误：") and expected in lines[0], lines
    assert vocabulary(lines[0]) == [], lines[0]


def test_usage_error_through_a_real_process():
    proc = subprocess.run([sys.executable, "-m", "toolkit.cli", "biuld"],
                          capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "用法错误：没有“biuld”这个命令。是否是“build”？（运行 toolkit -h 查看用法）"


def test_help_through_a_real_process():
    proc = subprocess.run([sys.executable, "-m", "toolkit.cli", "build", "-h"],
                          capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0 and vocabulary(proc.stdout) == [] and "示例：" in proc.stdout


# ---------------------------------------------------------------- the catalogue

def test_committed_mo_is_the_compiled_po():
    assert MO_PATH.read_bytes() == compile_po(PO_PATH.read_text(encoding="utf-8"))


def test_compiled_catalogue_reads_back_with_gettext():
    with MO_PATH.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    entries = parse_po(PO_PATH.read_text(encoding="utf-8"))
    assert len(entries) > 40
    for msgid, msgstr in entries.items():
        if msgid:
            assert catalogue.gettext(msgid) == msgstr


def test_po_covers_clicks_vocabulary():
    entries = parse_po(PO_PATH.read_text(encoding="utf-8"))
    for msgid in ("Usage: ", "Options", "Arguments", "Commands", "Show this message and exit.",
                  "required", "default: {default}", "[required]", "[default: {}]",
                  "No such option: {name}", "Missing argument {name}.", "No such command {name!r}.",
                  "Try [blue]'{command_path} {help_option}'[/] for help."):
        assert entries.get(msgid), msgid
    # Every field of an English template is filled in by its translation.
    for msgid, msgstr in entries.items():
        fields = set(re.findall(r"\{(\w*)(?:![rsa])?\}", msgid))
        assert fields == set(re.findall(r"\{(\w*)\}", msgstr)), msgid


def test_po_parser_skips_fuzzy_and_untranslated_entries_and_joins_lines():
    text = ('msgid ""\nmsgstr "Language: zh_CN\\n"\n\n#, fuzzy\nmsgid "a"\nmsgstr "甲"\n\n'
            'msgid "b"\nmsgstr ""\n\nmsgid "c"\n"d"\nmsgstr "丙"\n"丁"\n')
    assert parse_po(text) == {"": "Language: zh_CN\n", "cd": "丙丁"}


def test_translate_matches_formatted_messages():
    assert translate("No such option: --x") == "没有 --x 这个选项。"
    assert translate("No such command 'biuld'. Did you mean 'build'?") == \
        "没有“biuld”这个命令。是否是“build”？"
    assert translate("Invalid value for '--interval': Input should be a valid number") == \
        "--interval 的值不对：应为数字"
    assert translate("something else entirely") == "something else entirely"


def test_rich_help_strings_are_translated_too():
    import importlib

    import typer.rich_utils as rich_utils

    from toolkit import i18n

    importlib.reload(rich_utils)
    i18n.localise_typer()
    assert rich_utils.REQUIRED_LONG_STRING == "[必填]" and rich_utils.OPTIONS_PANEL_TITLE == "选项"
    assert rich_utils.DEFAULT_STRING.format("out") == "[默认：out]"


def test_wrap_cjk_counts_chinese_as_two_columns():
    lines = wrap_cjk("一二三四五六七八九十 toolkit-build 甲乙", 12)
    assert lines == ["一二三四五六", "七八九十", "toolkit-build", "甲乙"]


def test_typers_own_gettext_calls_go_through_the_catalogue():
    import typer.core

    assert typer.core._("Options") == "选项"
    assert typer.core._("default: {default}").format(default="out") == "默认：out"


def test_wrap_cjk_never_starts_a_line_with_closing_punctuation():
    lines = wrap_cjk("甲乙丙丁、戊己（庚辛）壬", 8)
    assert not any(line[0] in "，。、；：）" for line in lines)
    assert "".join(lines) == "甲乙丙丁、戊己（庚辛）壬"


def test_the_compiled_catalogue_is_declared_package_data():
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["toolkit"]
    package = root / "toolkit"
    assert MO_PATH in {p for pattern in patterns for p in package.glob(pattern)}
    assert PO_PATH in {p for pattern in patterns for p in package.glob(pattern)}
