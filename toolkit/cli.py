"""Command line: parse, call one library function, print, exit with a code from the result.

Exit codes (toolkit.exit_status.ExitStatus): 0 clean or warnings only, 1 ledger errors,
2 unusable input, unwritable output or usage, 3 internal error. ``_run`` is the one place that
turns exceptions into them; commands exit with ``result.exit_code`` or ``_report_status``.
Everything Typer/Click print around our text goes through the Chinese catalogue
(toolkit/i18n.py, catalogue in toolkit/locale/).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
import typer.core

from . import __version__
from .console import configure_streams, crash_line, log_crash, silence_stdout
from .exit_status import ExitStatus
from .i18n import ChineseHelp, ToolkitCommand, argument_label, click, localise_typer, translate
from .i18n import gettext as _
from .i18n import pad as _pad
from .i18n import text_width as _width

if TYPE_CHECKING:
    from .model import Finding

# Start-up: `toolkit --version` and `--help` import Typer and this package's front end only.
# Everything a command needs (the model, the reader, docxtpl, xlsxwriter, watchdog, json) is
# imported inside the command that uses it; tests/test_startup.py checks it.

EXIT_OK, EXIT_ERRORS, EXIT_UNUSABLE = ExitStatus.OK, ExitStatus.LEDGER_ERRORS, ExitStatus.UNUSABLE
DEFAULT_LEDGER_DIR = Path("ledgers")
DEFAULT_OUT_DIR = Path("out")
SHOWN_FINDINGS = 20  # errors/warnings listed by build and render; the rest: toolkit check


# ---------------------------------------------------------------- the toolkit group

class ToolkitGroup(ChineseHelp, typer.core.TyperGroup):  # type: ignore[misc]
    """The ``toolkit`` group: Chinese help, and every run goes through ``_run``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None \
                and not ctx.resilient_parsing:
            from difflib import get_close_matches

            message = _("No such command {name!r}.").format(name=name)
            close = get_close_matches(name, list(self.commands))
            if close:
                message += _("Did you mean {possibility}?").format(possibility="、".join(close))
            ctx.fail(message)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`toolkit check … | head`). Typer would exit 1, which means
            # "ledger errors"; this is an output that cannot be written.
            silence_stdout()
            raise typer.Exit(ExitStatus.UNUSABLE) from None

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        configure_streams()

        def call() -> Any:
            return super(ToolkitGroup, self).main(args=args, prog_name=prog_name or "toolkit",
                                                  complete_var=complete_var,
                                                  standalone_mode=False,
                                                  windows_expand_args=windows_expand_args,
                                                  **extra)

        status = _run(call)
        if standalone_mode:
            sys.exit(int(status))
        return status


class ToolkitTyper(typer.Typer):
    """A Typer whose commands are ToolkitCommands by default, so new commands need nothing."""

    def command(self, name: str | None = None, *, cls: Any = None,
                **kwargs: Any) -> Callable[[Any], Any]:
        return super().command(name, cls=cls or ToolkitCommand, **kwargs)


localise_typer()

app = ToolkitTyper(
    name="toolkit",
    help="巡察整改台账工具：校验台账、统计数字、生成整改进展情况通报。",
    cls=ToolkitGroup,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="\b\n示例：\n  toolkit init ledgers/某单位巡察整改台账.xlsx\n  toolkit check ledgers/*.xlsx\n"
           "  toolkit build ledgers -o out\n\n运行 toolkit 命令 -h 查看每个命令的用法。",
)


def _examples(*lines: str) -> str:
    """The epilog of a command: its examples, kept line by line (\\b stops rewrapping)."""
    return "\b\n示例：\n" + "\n".join(f"  {line}" for line in lines)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", is_eager=True, help="显示版本号并退出。"),
) -> None:
    """巡察整改台账工具：校验台账、统计数字、生成整改进展情况通报。"""
    if version:
        _say(f"toolkit {__version__}")
        raise typer.Exit(EXIT_OK)
    if ctx.invoked_subcommand is None:
        _say(ctx.get_help())
        raise typer.Exit(EXIT_OK)


# ---------------------------------------------------------------- exit status and crashes

def _run(call: Callable[[], Any]) -> ExitStatus | int:
    """Run the command line; the one place where exceptions become exit statuses."""
    from .errors import ToolkitError

    click_exceptions = click.exceptions

    try:
        code = call()
    except getattr(click_exceptions, "NoArgsIsHelpError", ()) as exc:
        _say(exc.ctx.get_help())
        return ExitStatus.OK
    except click_exceptions.UsageError as exc:
        _fail(_usage_message(exc))
        return ExitStatus.UNUSABLE
    except click_exceptions.ClickException as exc:  # e.g. a file option that cannot be opened
        _fail(translate(exc.format_message()))
        return ExitStatus.UNUSABLE
    except ToolkitError as exc:  # cannot continue: unusable input or unwritable output
        _fail(exc.message)
        return ExitStatus.UNUSABLE
    except (typer.Abort, KeyboardInterrupt):
        _fail("已中止")
        return 130
    except OSError as exc:  # the disk or the system refused: not a bug, not the ledger
        where = f"{_shown(exc.filename)}：" if exc.filename else ""
        from .errors import os_reason

        _fail(f"{where}无法读写（{os_reason(exc)}）")
        return ExitStatus.UNUSABLE
    except Exception as exc:
        _fail(crash_line(exc, log_crash(exc)))
        return ExitStatus.INTERNAL
    if isinstance(code, bool) or not isinstance(code, int):
        return ExitStatus.OK
    return code


def _usage_message(exc: Any) -> str:
    """One Chinese line for a usage error, with the help command to run."""
    click_exceptions = click.exceptions
    if isinstance(exc, click_exceptions.MissingParameter) and exc.param is not None:
        name = argument_label(exc.param).rstrip(".") if exc.param.param_type_name == "argument" \
            else "/".join(exc.param.opts)
        key = "Missing argument {name}." if exc.param.param_type_name == "argument" \
            else "Missing option {name}."
        message = _(key).format(name=name)
    elif isinstance(exc, click_exceptions.NoSuchOption):
        message = _("No such option: {name}").format(name=exc.option_name)
        if exc.possibilities:
            message = _("No such option: {name} (Possible options: {possibilities})").format(
                name=exc.option_name, possibilities="、".join(sorted(exc.possibilities)))
    else:
        message = translate(exc.format_message())
    command = exc.ctx.command_path if exc.ctx is not None else "toolkit"
    return f"用法错误：{message}（运行 {command} -h 查看用法）"


# ---------------------------------------------------------------- printing helpers

def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain text table that lines up with Chinese characters (two columns wide each)."""
    cells = [[str(c).replace("\n", " ") for c in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, widths[i]) for i, h in enumerate(headers)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(_pad(c, widths[i]) for i, c in enumerate(r)).rstrip() for r in cells]
    return "\n".join(lines)


def _say(text: str = "") -> None:
    typer.echo(text)


def _fail(text: str) -> None:
    typer.echo(text, err=True)


def _json(data: object) -> None:
    from .jsonsafe import to_json

    typer.echo(to_json(data))


def _severity_cn(severity: str) -> str:
    """错误/警告/提示 for a finding's severity."""
    from .model import SEVERITY_CN  # imported when first needed: start-up stays light

    return SEVERITY_CN[severity]


def _shown(path: Path | str | None) -> str:
    """A path as the clerk should read it: relative to where toolkit was run (``../通报/x.docx``
    too), unless that climbs more than one folder up or crosses drives: then in full."""
    if path is None:
        return ""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive on Windows
        return absolute
    climbs = Path(relative).parts[:3].count(os.pardir)
    return absolute if climbs > 1 else relative


def _where(finding: Finding) -> str:
    """``整改台账!I12``: the sheet with the cell, as Excel writes a reference."""
    if finding.sheet and finding.cell:
        return f"{finding.sheet}!{finding.cell}"
    return finding.cell or finding.sheet or "-"


def _findings_lines(findings: Sequence[Finding], limit: int = SHOWN_FINDINGS) -> list[str]:
    """A table of findings (position, column, value, message), the first ``limit`` of them."""
    if not findings:
        return []
    rows = [[_where(f), _severity_cn(f.severity), f.column or "-", _clip(f.value), f.message]
            for f in findings[:limit]]
    lines = format_table(["位置", "级别", "列", "值", "说明"], rows).splitlines()
    if len(findings) > limit:
        lines.append(f"另有 {len(findings) - limit} 个，见 toolkit check")
    return lines


def _clip(text: str, width: int = 24) -> str:
    text = " ".join(str(text).split())
    return text if _width(text) <= width else text[: width // 2] + "…"


def _progress(items: Sequence[Path], label: str) -> Iterator[Path]:
    """Each item, with a progress bar on a terminal and one plain line per item otherwise."""
    if not items:
        return
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[name]}"))
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(label, total=len(items), name="")
            for item in items:
                bar.update(task, name=item.name)
                yield item
                bar.advance(task)
        return
    for number, item in enumerate(items, 1):
        _fail(f"{label} [{number}/{len(items)}] {item.name}")
        yield item


def _report_status(report: Any) -> ExitStatus:
    return ExitStatus.LEDGER_ERRORS if report.errors else ExitStatus.OK


# ---------------------------------------------------------------- init

@app.command(epilog=_examples("toolkit init ledgers/某单位巡察整改台账.xlsx",
                              "toolkit init 台账/2024年第三轮/文联巡察整改台账.xlsx"))
def init(
    path: Path = typer.Argument(..., metavar="新台账",
                                help="新台账的文件路径，如 ledgers/某单位巡察整改台账.xlsx"),
) -> None:
    """新建一个空白台账（标准表头、下拉选项、通报信息表），不会覆盖已有文件。"""
    from .atomic import write_atomic
    from .blank import blank_ledger_bytes

    if path.suffix.lower() != ".xlsx":
        _fail(f"{path.name}：台账文件名须以 .xlsx 结尾")
        raise typer.Exit(EXIT_UNUSABLE)
    folder = path.parent
    new_folder = not folder.exists()
    if folder.exists() and not folder.is_dir():
        _fail(f"{_shown(folder)}：不是文件夹，无法在其中新建台账")
        raise typer.Exit(EXIT_UNUSABLE)
    write_atomic(path, blank_ledger_bytes(), overwrite=False)
    if new_folder:
        _say(f"文件夹 {_shown(folder)} 原来不存在，已新建")
    _say(f"已新建空白台账：{_shown(path)}")
    _say("请在“整改台账”表中逐行填写问题，在“通报信息”表中填写通报的基本信息"
         "（发文机关、巡察组、部署依据、统计截止日期、成文日期等，缺了通报不完整）。")


# ---------------------------------------------------------------- check

@app.command(epilog=_examples("toolkit check ledgers/市文联巡察整改台账.xlsx",
                              "toolkit check ledgers/*.xlsx -o out",
                              "toolkit check ledgers/市文联巡察整改台账.xlsx --json > 校验结果.json"))
def check(
    ledgers: list[Path] = typer.Argument(..., metavar="台账", help="一个或多个台账文件（.xlsx、.xls、.et、.ods 等）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出全部校验结果"),
    out_dir: Path | None = typer.Option(None, "-o", "--out", metavar="文件夹",
                                           help="以前生成的通报所在的文件夹：默认自动查找该台账的通报生成在哪里，"
                                                "找不到时为 out/；与其中保存的通报记录比较，"
                                                "状态倒退、时限延后、问题消失列为警告"),
    sheet: str | None = typer.Option(None, "--sheet", metavar="工作表",
                                        help="台账所在工作表的名称（工作簿中有多个台账表时指定）"),
) -> None:
    """校验台账：逐格列出错误和警告（如 整改台账!I12）。退出码 0 无错误，1 有错误，2 文件无法使用。"""
    from .errors import ToolkitError
    from .pipeline import analyse
    from .validate import report_to_dict, unusable_to_dict

    results: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    code = EXIT_OK
    for ledger in ledgers:
        try:
            history_dir, notice = _notice_history(ledger, out_dir)
            report = analyse(ledger, history_dir=history_dir, notice=notice.name, sheet=sheet)
        except ToolkitError as exc:
            code = max(code, EXIT_UNUSABLE)
            results.append(unusable_to_dict(ledger, exc.message))
            if not as_json:
                _fail(exc.message)
            continue
        code = max(code, _report_status(report))
        results.append(report_to_dict(report, ledger))
        rows += [[ledger.name, _where(f), _severity_cn(f.severity), f.column or "-", f.message]
                 for f in report.findings]
    if as_json:
        _json(results)
    else:
        if rows:
            _say(format_table(["文件", "位置", "级别", "列", "说明"], rows))
            _say()
        for r in results:
            if r["usable"]:
                verdict = "有错误，需修改后才能生成通报" if r["errors"] else "可以生成通报"
                _say(f"{Path(r['file']).name}：错误 {r['errors']} 个，警告 {r['warnings']} 个，{verdict}")
    raise typer.Exit(code)


# ---------------------------------------------------------------- stats

# (key in ``stats --json``, column of the console table): one list, so the two always agree.
STATS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("total", "问题数"), ("counts.已完成", "已完成"), ("counts.正在整改", "正在整改"),
    ("counts.未完成", "未完成"), ("long_term", "长期坚持"), ("flagged", "点人点事"),
    ("overdue", "逾期"), ("recovered_wan", "追赃挽损（万元）"), ("completion_rate", "完成率（%）"),
)


def _stats_value(data: dict, key: str) -> str:
    value: Any = data
    for part in key.split("."):
        value = value[part]
    return "-" if value is None else str(value)


@app.command(epilog=_examples("toolkit stats ledgers/市文联巡察整改台账.xlsx",
                              "toolkit stats ledgers/市文联巡察整改台账.xlsx --json > 统计.json"))
def stats(
    ledger: Path = typer.Argument(..., metavar="台账", help="台账文件（.xlsx、.xls、.et、.ods 等）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出统计结果（键名与屏幕表格的列一一对应）"),
    sheet: str | None = typer.Option(None, "--sheet", metavar="工作表",
                                        help="台账所在工作表的名称（工作簿中有多个台账表时指定）"),
) -> None:
    """统计台账：总数、已完成、正在整改、未完成、长期坚持、点人点事、逾期、追赃挽损、完成率，按类别和责任部门分列。"""
    from .count import stats_to_dict
    from .pipeline import analyse

    report = analyse(ledger, sheet=sheet)
    data = stats_to_dict(report.stats)
    code = _report_status(report)
    # Which numbers these are: a second ledger sheet, or a ledger open in Excel, changes them.
    for finding in report.warnings:
        if finding.code in ("several_ledger_sheets", "ledger_open"):
            _fail(f"警告：{finding.message}")
    if as_json:
        data["errors"] = len(report.errors)
        _json(data)
        raise typer.Exit(code)

    def line(name: str, d: dict) -> list[str]:
        return [name] + [_stats_value(d, key) for key, _label in STATS_COLUMNS]

    labels = [label for _key, label in STATS_COLUMNS]
    _say(report.stats.summary)
    _say()
    _say(format_table(["合计"] + labels, [line("全部问题", data)]))
    _say()
    _say(format_table(["问题类别"] + labels, [line(d["name"], d) for d in data["by_category"]]))
    _say()
    _say(format_table(["责任部门"] + labels, [line(d["name"], d) for d in data["by_unit"]]))
    if report.errors:
        _say()
        _say(f"注意：台账有 {len(report.errors)} 个错误，相关行未计入统计：")
        for text in _findings_lines(report.errors):
            _say(text)
    raise typer.Exit(code)


# ---------------------------------------------------------------- render / build

ANNEX_KIND = "台账附件"  # toolkit.annex.ANNEX_KIND, without importing docx machinery here


def _check_kind(kind: str | None) -> None:
    from .model import KINDS

    if kind is not None and kind not in (*KINDS, ANNEX_KIND):
        _fail(f"通报类型“{kind}”无法识别，可选：{'、'.join((*KINDS, ANNEX_KIND))}")
        raise typer.Exit(EXIT_UNUSABLE)


def _is_important(finding: Finding) -> bool:
    """Warnings a clerk must see before a notice goes out (codes.IMPORTANT_WARNINGS)."""
    from .codes import is_important

    return is_important(finding.code)


def _missing_official(result: Any) -> tuple[str, ...]:
    from .official import missing_official_parts

    return missing_official_parts(result.report.ledger.meta) if result.report is not None else ()


def _built_word(result: Any) -> str:
    from .build import OUTCOME_CN

    word = OUTCOME_CN[result.outcome]
    missing = _missing_official(result)
    return f"{word}（缺少：{'、'.join(missing)}）" if missing else word


def _result_files(result: Any) -> list[str]:
    return [_shown(p) for p in (result.notice, result.pdf, result.stats_book) if p is not None]


def _result_details(result: Any, seen_notes: set[str] | None = None) -> list[str]:
    """What a clerk must read about one ledger's result, besides its row in the table."""
    from .build import INVALID, UNCHANGED

    name = result.ledger.name
    # A remark that is the same for every ledger (the PDF's substitute fonts) is said once.
    lines = [n for n in result.notes if seen_notes is None or n not in seen_notes]
    if seen_notes is not None:
        seen_notes.update(result.notes)
    if result.outcome == UNCHANGED:
        lines.append(f"{name}：无变化：台账、通报信息和模板都没有改变，未重新生成"
                     "（需要重新生成时加 --force）")
    if result.built or result.outcome == UNCHANGED:
        missing = _missing_official(result)
        if missing:
            lines.append(f"{name}：通报缺少{'、'.join(missing)}，还不能作为正式通报印发；"
                         "请在台账的“通报信息”表中填写")
        warnings = result.report.warnings
        if warnings:
            important = [f for f in warnings if _is_important(f)]
            lines.append(f"{name}：警告 {len(warnings)} 个" + (
                f"，其中需要注意的 {len(important)} 个：" if important else "（运行 toolkit check 查看）"))
            lines += _findings_lines(important)
    elif result.outcome == INVALID:
        errors = result.report.errors
        lines.append(f"{name}：台账有 {len(errors)} 个错误，未生成新通报（原有通报保留）：")
        lines += _findings_lines(errors)
    elif result.problem is not None:
        lines.append(result.problem.message)
    return lines


def _print_result(result: Any) -> None:
    from .build import UNCHANGED

    fine = result.built or result.outcome == UNCHANGED
    for line in _result_details(result):
        (_say if fine else _fail)(line)
    if fine:
        _say(f"{_built_word(result)}：" + "，".join(_result_files(result)))
        _say(result.report.stats.summary)
    elif result.notice:
        _say(f"已生成通报：{_shown(result.notice)}")


@app.command(epilog=_examples("toolkit render ledgers/市文联巡察整改台账.xlsx",
                              "toolkit render ledgers/市文联巡察整改台账.xlsx -o out/第三季度通报.docx --pdf",
                              "toolkit render ledgers/市文联巡察整改台账.xlsx --kind 集中整改进展"))
def render(
    ledger: Path = typer.Argument(..., metavar="台账", help="台账文件（.xlsx、.xls、.et、.ods 等）"),
    output: Path | None = typer.Option(None, "-o", "--output", metavar="文件",
                                          help="通报文件路径（.docx），默认 out/<台账名>.docx"),
    kind: str | None = typer.Option(None, "--kind", metavar="类型",
                                    help="通报类型：阶段性进展 或 集中整改进展（台账附件：生成台账的横排表格附件）"),
    template: Path | None = typer.Option(None, "--template", metavar="文件", help="自定义模板（.docx）"),
    pdf: bool = typer.Option(False, "--pdf", help="同时用 LibreOffice 生成 PDF"),
    force: bool = typer.Option(False, "--force",
                               help="即使没有变化也重新生成；通报有手工修改时先存档再覆盖"),
    sheet: str | None = typer.Option(None, "--sheet", metavar="工作表",
                                        help="台账所在工作表的名称（工作簿中有多个台账表时指定）"),
) -> None:
    """由一本台账生成通报（Word，可选 PDF）。台账有错误时不生成，原通报保留。"""
    from .build import build_notice, notice_path_for

    _check_kind(kind)
    target = output or notice_path_for(ledger, DEFAULT_OUT_DIR)
    if target.suffix.lower() != ".docx":
        _fail(f"{target.name}：输出文件名须以 .docx 结尾")
        raise typer.Exit(EXIT_UNUSABLE)
    if pdf:
        _fail(f"正在生成通报和 PDF：{ledger.name}")
    # The annex is not a notice: no history snapshot or statistics workbook for it.
    result = build_notice(ledger, target, kind=kind, template=template, pdf=pdf, force=force,
                          sheet=sheet, records=kind != ANNEX_KIND)
    _print_result(result)
    raise typer.Exit(result.exit_code)


def _build_row(result: Any) -> list[list[str]]:
    """The rows of one ledger in build's result table: its own, then one per further file."""
    from .build import INVALID, UNCHANGED

    name = result.ledger.name
    if result.built or result.outcome == UNCHANGED:
        c = result.report.stats.overall
        files = _result_files(result)
        rows = [[name, _built_word(result), str(c.total), str(c.done), str(c.in_progress),
                 str(c.not_done), str(len(result.report.warnings)), files[0]]]
        return rows + [["", "", "", "", "", "", "", f] for f in files[1:]]
    if result.outcome == INVALID:
        return [[name, f"有 {len(result.report.errors)} 个错误，未生成", "", "", "", "", "",
                 "错误见上"]]
    reason = result.problem.reason if result.problem is not None else ""
    # A readable ledger whose output failed is "not built"; an unreadable one is "unusable".
    word = "无法使用" if result.report is None else ("已生成通报，PDF 未生成" if result.notice else "未生成")
    files = [_shown(result.notice)] if result.notice else []
    return [[name, word, "", "", "", "", "", reason]] + [["", "", "", "", "", "", "", f] for f in files]


@app.command(epilog=_examples("toolkit build", "toolkit build ledgers -o out --pdf",
                              "toolkit build 台账/2024年第三轮 -o 通报/2024年第三轮 --kind 集中整改进展"))
def build(
    folder: Path = typer.Argument(DEFAULT_LEDGER_DIR, metavar="台账文件夹",
                                  help="台账所在文件夹，默认 ledgers/"),
    out_dir: Path = typer.Option(DEFAULT_OUT_DIR, "-o", "--out", metavar="文件夹",
                                 help="通报输出文件夹，默认 out/"),
    kind: str | None = typer.Option(None, "--kind", metavar="类型",
                                       help="通报类型：阶段性进展 或 集中整改进展"),
    pdf: bool = typer.Option(False, "--pdf", help="同时用 LibreOffice 生成 PDF"),
    force: bool = typer.Option(False, "--force",
                               help="即使没有变化也重新生成；通报有手工修改时先存档再覆盖"),
    annex: bool = typer.Option(False, "--annex", help="同时生成台账附件（<台账名>-附件.docx，横排表格）"),
) -> None:
    """为文件夹中的每本台账生成通报（跳过 ~$、.~lock、.tmp 等临时文件）。"""
    from .build import build_notice, notice_path_for
    from .discover import discover_ledgers

    _check_kind(kind)
    if not folder.is_dir():
        _fail(f"{_shown(folder)}：文件夹不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    discovery = discover_ledgers(folder)
    ledgers = list(discovery.ledgers)
    for warning in discovery.warnings:
        _fail(f"警告：{warning}")
    if not ledgers:
        _fail(f"{_shown(folder)}：文件夹中没有台账（.xlsx、.xls、.et、.ods 等）")
        raise typer.Exit(EXIT_UNUSABLE)
    results = [build_notice(ledger, notice_path_for(ledger, out_dir), kind=kind, pdf=pdf, force=force)
               for ledger in _progress(ledgers, "生成通报")]
    annex_lines, annex_failed = _write_annexes(results) if annex else ([], False)
    seen_notes: set[str] = set()
    for result in results:  # details first, the table last: nothing is printed after it
        for line in _result_details(result, seen_notes):
            _say(line)
    for line in annex_lines:
        _say(line)
    rows = [row for result in results for row in _build_row(result)]
    _say(format_table(["台账", "结果", "问题数", "已完成", "正在整改", "未完成", "警告", "文件/原因"], rows))
    statuses = [r.exit_code for r in results] + [ExitStatus.UNUSABLE if annex_failed else ExitStatus.OK]
    raise typer.Exit(ExitStatus.worst(statuses))


def _write_annexes(results: list[Any]) -> tuple[list[str], bool]:
    """The ledger annex beside each notice built (``build --annex``): lines to print, and
    whether one could not be written."""
    from .annex import write_annex

    lines, failed = [], False
    for r in results:
        if not r.built or r.notice is None:
            continue
        made = write_annex(r.report, r.notice)
        if made.problem is None:
            lines.append(f"已生成台账附件：{_shown(made.path)}")
        else:
            failed = True
            lines.append(f"{r.ledger.name}：台账附件未能生成：{made.problem.message}")
    return lines, failed


# ---------------------------------------------------------------- diff

@app.command(epilog=_examples("toolkit diff ledgers/市文联巡察整改台账.xlsx",
                              "toolkit diff ledgers/市文联巡察整改台账.xlsx --against 2024-12-20",
                              "toolkit diff ledgers/市文联巡察整改台账.xlsx --xlsx out/变化.xlsx"))
def diff(
    ledger: Path = typer.Argument(..., metavar="台账", help="台账文件（.xlsx、.xls、.et、.ods 等）"),
    out_dir: Path | None = typer.Option(None, "-o", "--out", metavar="文件夹",
                                        help="以前生成的通报所在的文件夹（其中 .history 保存通报记录）；"
                                             "默认自动查找该台账的通报生成在哪里，找不到时为 out/"),
    against: str | None = typer.Option(None, "--against", metavar="记录或日期",
                                          help="与哪份记录比较：记录文件，或日期（如 2024-12-20，"
                                               "取当天及以前最近的一份）；默认为上次通报"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出变化"),
    xlsx: Path | None = typer.Option(None, "--xlsx", metavar="文件",
                                        help="同时写一份变化表（.xlsx）：当前各行，改动的单元格标色并"
                                             "在批注中写明原内容，另有“问题消失”表"),
) -> None:
    """列出台账自上次通报以来的变化：新完成、状态倒退、时限延后、问题文字修改、问题消失、新增问题。"""
    from .history import KINDS_CN
    from .pipeline import diff_ledger

    history_dir, notice = _notice_history(ledger, out_dir)
    result = diff_ledger(ledger, history_dir, against=against, notice=notice.name,
                         whole_baseline=xlsx is not None)
    if xlsx is not None:
        _write_changes_xlsx(result, xlsx)
    code = _report_status(result.report)
    if as_json:
        _json(result.to_dict())
        raise typer.Exit(code)
    for note in result.notes:
        _say(note)
    if result.same_as_latest:
        _say(f"台账与最近一次通报相同；以下是该次通报相对于{result.baseline.label}的变化：")
    else:
        _say(f"与{result.baseline.label}（{result.baseline.path.name}）相比：")
    if not result.changes:
        _say("没有变化。")
    else:
        _say("，".join(f"{name} {result.count(kind)} 个" for kind, name in KINDS_CN.items()))
        _say()
        rows = [[KINDS_CN[c.kind], _severity_cn(c.severity), c.number or "-",
                 str(c.row) if c.row is not None else f"原{c.old_row}", c.message]
                for c in result.changes]
        _say(format_table(["变化", "级别", "序号", "行", "说明"], rows))
    if result.report.errors:
        _say()
        _say(f"注意：台账有 {len(result.report.errors)} 个错误；运行 toolkit check 查看。")
    raise typer.Exit(code)


# ---------------------------------------------------------------- summary

@app.command(epilog=_examples("toolkit summary", "toolkit summary ledgers -o out/汇总.xlsx --notices out"))
def summary(
    folder: Path = typer.Argument(DEFAULT_LEDGER_DIR, metavar="台账文件夹",
                                  help="台账所在文件夹，默认 ledgers/"),
    output: Path = typer.Option(DEFAULT_OUT_DIR / "汇总.xlsx", "-o", "--output", metavar="文件",
                                help="汇总表文件路径（.xlsx），默认 out/汇总.xlsx"),
    notices: Path = typer.Option(DEFAULT_OUT_DIR, "--notices", metavar="文件夹",
                                 help="以前生成的通报所在的文件夹，用于读取各台账最近生成通报的时间，"
                                      "默认 out/"),
) -> None:
    """汇总文件夹中各单位台账：每本一行（问题数、完成情况、逾期、完成率），写成带图表的汇总表。"""
    from .history import history_root
    from .rollup import HEADERS, summarise, table_rows

    if not folder.is_dir():
        _fail(f"{_shown(folder)}：文件夹不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    if output.suffix.lower() != ".xlsx":
        _fail(f"{output.name}：汇总表文件名须以 .xlsx 结尾")
        raise typer.Exit(EXIT_UNUSABLE)
    result, book = summarise(folder, output, history_dir=history_root(notices))
    for note in result.notes + book.notes:
        _say(note)
    _say(format_table(list(HEADERS), table_rows(result)))
    _say()
    _say(f"已生成汇总表：{_shown(output)}")
    raise typer.Exit(result.exit_code)


# ---------------------------------------------------------------- watch

@app.command(epilog=_examples("toolkit watch", "toolkit watch /srv/共享/台账 -o /srv/共享/通报 --pdf",
                              "toolkit watch /mnt/巡察台账 -o /mnt/巡察台账/通报 --polling --interval 2"))
def watch(
    folder: Path = typer.Argument(DEFAULT_LEDGER_DIR, metavar="台账文件夹",
                                  help="台账所在文件夹，默认 ledgers/"),
    out_dir: Path = typer.Option(DEFAULT_OUT_DIR, "-o", "--out", metavar="文件夹",
                                 help="通报输出文件夹，默认 out/"),
    polling: bool = typer.Option(False, "--polling",
                                 help="定时轮询文件夹（共享文件夹用；位于网络文件系统时自动启用）"),
    interval: float = typer.Option(1.0, "--interval", min=0.1, metavar="秒",
                                   help="轮询间隔（秒），默认 1"),
    debounce: float = typer.Option(1.0, "--debounce", min=0.0, metavar="秒",
                                   help="台账最后一次变化后等待多少秒再生成，默认 1"),
    pdf: bool = typer.Option(False, "--pdf", help="同时用 LibreOffice 生成 PDF"),
) -> None:
    """监视台账文件夹：先为每本台账生成通报，此后哪本台账保存了就重新生成哪本。Ctrl-C 停止。

    有错误的台账不生成新通报（原通报保留），原因写在 输出文件夹/<台账名>-校验报告.xlsx；
    每次生成的结果记在 status.json 和 toolkit.log。
    """
    import logging
    import signal

    from .watch import Watcher, log_formatter

    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(log_formatter())
    log = logging.getLogger("toolkit.watch")
    log.addHandler(console)
    log.setLevel(logging.INFO)

    def _terminate(signum: int, frame: Any) -> None:  # SIGTERM (systemd, kill) stops like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    if hasattr(signal, "SIGBREAK"):  # Ctrl-Break on Windows
        signal.signal(signal.SIGBREAK, _terminate)
    try:
        # Settings that cannot be delays (inf, nan) are a WatchError (a ToolkitError): exit 2.
        watcher = Watcher(folder, out_dir, polling=True if polling else None, interval=interval,
                          debounce=debounce, pdf=pdf)
        watcher.run()
    except KeyboardInterrupt:
        pass
    finally:
        log.removeHandler(console)
    raise typer.Exit(EXIT_OK)


# ---------------------------------------------------------------- history (notice archive)

def _write_changes_xlsx(result: Any, target: Path) -> None:
    """``diff --xlsx``: the change workbook; a failure to write is a ToolkitError (exit 2)."""
    from .changes_book import write_changes_book

    if target.suffix.lower() != ".xlsx":
        _fail(f"{target.name}：变化表文件名须以 .xlsx 结尾")
        raise typer.Exit(EXIT_UNUSABLE)
    book = write_changes_book(result, target)
    for note in book.notes:
        _fail(f"变化表：{note}")
    _fail(f"已生成变化表：{_shown(target)}")


def _notice_history(ledger: Path, out_dir: Path | None) -> tuple[Path, Path]:
    """(history folder, notice) of ``ledger``: in ``-o`` when given, else wherever its notices
    were written (archive.locate_history), else the default under out/."""
    from .archive import locate_history
    from .names import history_root, notice_path_for

    found = locate_history(ledger, (out_dir or DEFAULT_OUT_DIR,), prefer_given=out_dir is not None)
    if found is not None:
        return found
    out = out_dir or DEFAULT_OUT_DIR
    return history_root(out), notice_path_for(ledger, out)


@app.command("history", epilog=_examples("toolkit history ledgers/市文联巡察整改台账.xlsx",
                                         "toolkit history ledgers/市文联巡察整改台账.xlsx --restore 3",
                                         "toolkit history ledgers/市文联巡察整改台账.xlsx -o 通报"))
def history_command(
    ledger: Path = typer.Argument(..., metavar="台账", help="台账文件"),
    out_dir: Path | None = typer.Option(None, "-o", "--out", metavar="文件夹",
                                           help="通报输出文件夹；默认自动查找该台账的通报生成在哪里"),
    restore: int | None = typer.Option(None, "--restore", min=1, metavar="编号",
                                          help="把编号为 N 的存档通报恢复为当前通报（当前通报先存档）"),
) -> None:
    """列出一本台账历次生成的通报（时间、问题数、存档文件），或用 --restore N 恢复其中一份。"""
    from .archive import EDITED, history_entries, restore_notice

    history_dir, notice = _notice_history(ledger, out_dir)
    if restore is not None:
        restored, archived = restore_notice(history_dir, ledger, notice, restore)
        if archived is not None:
            _say(f"原通报已存档为 {archived.with_suffix('.docx').name}")
        _say(f"已恢复第 {restore} 号存档为 {_shown(restored)}；之后生成的新通报将另存为“（新版）”，不会覆盖它")
        raise typer.Exit(EXIT_OK)
    entries = history_entries(history_dir, ledger, notice)
    if not entries:
        _fail(f"{ledger.name}：没有通报记录（{_shown(notice)} 尚未生成过；可用 -o 指定通报输出文件夹）")
        raise typer.Exit(EXIT_UNUSABLE)
    rows = []
    for e in entries:
        c = e.counts
        counts = (f"{c.get('total')}（已完成 {c.get('已完成', '-')}，正在整改 {c.get('正在整改', '-')}，"
                  f"未完成 {c.get('未完成', '-')}）") if c else "-"
        what = "手工修改稿（覆盖前存档）" if e.event == EDITED else "生成"
        rows.append([str(e.seq) if e.seq else "-", f"{e.created:%Y-%m-%d %H:%M:%S}", what, counts,
                     e.archive.name if e.archive else "（仅数据）"])
    _say(f"通报 {_shown(notice)} 的记录（{_shown(history_dir)}）：")
    _say(format_table(["编号", "时间", "类型", "问题数", "存档文件"], rows))
    raise typer.Exit(EXIT_OK)


# ---------------------------------------------------------------- entry point

def main() -> None:
    """Console entry (``toolkit``): ToolkitGroup.main maps everything to an exit status."""
    app()


if __name__ == "__main__":
    main()
