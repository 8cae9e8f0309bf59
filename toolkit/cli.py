"""Command line: parse, call one library function, print, exit with a code from the result.

Exit codes: 0 clean or warnings only, 1 ledger errors, 2 unusable input or usage.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path
from typing import Optional

import typer

from .model import ERROR, INFO, KINDS, WARNING

app = typer.Typer(
    name="toolkit",
    help="巡察整改台账工具：校验台账、统计数字、生成整改进展情况通报。",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_ERRORS, EXIT_UNUSABLE = 0, 1, 2
SEVERITY_CN = {ERROR: "错误", WARNING: "警告", INFO: "提示"}
DEFAULT_LEDGER_DIR = Path("ledgers")
DEFAULT_OUT_DIR = Path("out")


# ---------------------------------------------------------------- printing helpers

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


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
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


# ---------------------------------------------------------------- init

@app.command()
def init(
    path: Path = typer.Argument(..., help="新台账的文件路径，如 ledgers/某单位巡察整改台账.xlsx"),
) -> None:
    """新建一个空白台账（标准表头、下拉选项、通报信息表），不会覆盖已有文件。"""
    from .atomic import write_atomic
    from .blank import blank_ledger_bytes
    from .errors import ToolkitError

    if path.suffix.lower() != ".xlsx":
        _fail(f"{path.name}：台账文件名须以 .xlsx 结尾")
        raise typer.Exit(EXIT_UNUSABLE)
    try:
        write_atomic(path, blank_ledger_bytes(), overwrite=False)
    except ToolkitError as exc:
        _fail(exc.message)
        raise typer.Exit(EXIT_UNUSABLE)
    _say(f"已新建空白台账：{path}")
    _say("请在“整改台账”表中逐行填写问题，在“通报信息”表中填写通报的基本信息。")


# ---------------------------------------------------------------- check

@app.command()
def check(
    ledgers: list[Path] = typer.Argument(..., help="一个或多个台账文件（.xlsx）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出全部校验结果"),
    out_dir: Path = typer.Option(DEFAULT_OUT_DIR, "-o", "--out",
                                 help="通报输出文件夹，默认 out/；与其中的通报记录比较，"
                                      "状态倒退、时限延后、问题消失列为警告"),
) -> None:
    """校验台账：逐格列出错误和警告。退出码 0 无错误，1 有错误，2 文件无法使用。"""
    from .errors import ToolkitError
    from .history import history_root
    from .pipeline import analyse

    results, rows, code = [], [], EXIT_OK
    for ledger in ledgers:
        try:
            report = analyse(ledger, history_dir=history_root(out_dir))
        except ToolkitError as exc:
            code = max(code, EXIT_UNUSABLE)
            results.append({"file": str(ledger), "usable": False, "message": exc.message,
                            "errors": None, "warnings": None, "findings": []})
            if not as_json:
                _fail(exc.message)
            continue
        if report.errors:
            code = max(code, EXIT_ERRORS)
        results.append({"file": str(ledger), "usable": True, "message": "",
                        "errors": len(report.errors), "warnings": len(report.warnings),
                        "findings": [f.to_dict() for f in report.findings]})
        rows += [[ledger.name, f.cell or "-", SEVERITY_CN[f.severity], f.column or "-", f.message]
                 for f in report.findings]
    if as_json:
        _json(results)
    else:
        if rows:
            _say(format_table(["文件", "单元格", "级别", "列", "说明"], rows))
            _say()
        for r in results:
            if r["usable"]:
                verdict = "有错误，需修改后才能生成通报" if r["errors"] else "可以生成通报"
                _say(f"{Path(r['file']).name}：错误 {r['errors']} 个，警告 {r['warnings']} 个，{verdict}")
    raise typer.Exit(code)


# ---------------------------------------------------------------- stats

@app.command()
def stats(
    ledger: Path = typer.Argument(..., help="台账文件（.xlsx）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出统计结果"),
) -> None:
    """统计台账：总数、已完成、正在整改、未完成、长期坚持、逾期，按类别和责任部门分列。"""
    from .count import stats_to_dict
    from .errors import ToolkitError
    from .pipeline import analyse

    try:
        report = analyse(ledger)
    except ToolkitError as exc:
        _fail(exc.message)
        raise typer.Exit(EXIT_UNUSABLE)
    data = stats_to_dict(report.stats)
    code = EXIT_ERRORS if report.errors else EXIT_OK
    if as_json:
        data["errors"] = len(report.errors)
        _json(data)
        raise typer.Exit(code)
    headers = ["", "问题数", "已完成", "正在整改", "未完成", "长期坚持", "逾期", "完成率"]

    def line(name: str, d: dict) -> list[str]:
        c = d["counts"]
        rate = "-" if d["completion_rate"] is None else f"{d['completion_rate']}%"
        return [name, str(d["total"]), str(c["已完成"]), str(c["正在整改"]), str(c["未完成"]),
                str(d["long_term"]), str(d["overdue"]), rate]

    _say(report.stats.summary)
    _say()
    _say(format_table(["合计"] + headers[1:], [line("全部问题", data)]))
    _say()
    _say(format_table(["问题类别"] + headers[1:], [line(d["name"], d) for d in data["by_category"]]))
    _say()
    _say(format_table(["责任部门"] + headers[1:], [line(d["name"], d) for d in data["by_unit"]]))
    if report.errors:
        _say()
        _say(f"注意：台账有 {len(report.errors)} 个错误，相关行未计入统计；运行 toolkit check 查看。")
    raise typer.Exit(code)


# ---------------------------------------------------------------- render / build

ANNEX_KIND = "台账附件"  # toolkit.annex.ANNEX_KIND, without importing docx machinery here


def _check_kind(kind: Optional[str]) -> None:
    if kind is not None and kind not in KINDS + (ANNEX_KIND,):
        _fail(f"通报类型“{kind}”无法识别，可选：{'、'.join(KINDS + (ANNEX_KIND,))}")
        raise typer.Exit(EXIT_UNUSABLE)


def _history_warnings(result) -> list[str]:
    """Changes since the last notice that must not go out unnoticed (see history.py)."""
    if result.report is None:
        return []
    return [f"{result.ledger.name}：警告：{f.message}" for f in result.report.warnings
            if f.code.startswith("history_")]


def _print_result(result) -> None:
    from .build import BUILT, INVALID

    for note in result.notes:
        _say(note)
    if result.outcome == BUILT:
        made = f"已生成通报：{result.notice}"
        if result.pdf:
            made += f"（PDF：{result.pdf}）"
        _say(made)
        if result.stats_book:
            _say(f"已生成统计表：{result.stats_book}")
        _say(result.report.stats.summary)
        for line in _history_warnings(result):
            _say(line)
    elif result.outcome == INVALID:
        rows = [[f.cell or "-", SEVERITY_CN[f.severity], f.column or "-", f.message]
                for f in result.report.findings if f.severity == ERROR]
        _fail(f"{result.ledger.name}：台账有 {len(rows)} 个错误，未生成新通报（原有通报保留）")
        _fail(format_table(["单元格", "级别", "列", "说明"], rows))
    else:
        if result.notice:
            _say(f"已生成通报：{result.notice}")
        _fail(result.problem.message)


@app.command()
def render(
    ledger: Path = typer.Argument(..., help="台账文件（.xlsx）"),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="通报文件路径（.docx），默认 out/<台账名>.docx"),
    kind: Optional[str] = typer.Option(None, "--kind", help="通报类型：阶段性进展 或 集中整改进展（台账附件：生成台账的横排表格附件）"),
    template: Optional[Path] = typer.Option(None, "--template", help="自定义模板（.docx）"),
    pdf: bool = typer.Option(False, "--pdf", help="同时用 LibreOffice 生成 PDF"),
) -> None:
    """由一本台账生成通报（Word，可选 PDF）。台账有错误时不生成，原通报保留。"""
    from .build import build_notice, notice_path_for

    _check_kind(kind)
    target = output or notice_path_for(ledger, DEFAULT_OUT_DIR)
    if target.suffix.lower() != ".docx":
        _fail(f"{target.name}：输出文件名须以 .docx 结尾")
        raise typer.Exit(EXIT_UNUSABLE)
    # The annex is not a notice: no history snapshot or statistics workbook for it.
    result = build_notice(ledger, target, kind=kind, template=template, pdf=pdf,
                          records=kind != ANNEX_KIND)
    _print_result(result)
    raise typer.Exit(result.exit_code)


@app.command()
def build(
    folder: Path = typer.Argument(DEFAULT_LEDGER_DIR, help="台账所在文件夹，默认 ledgers/"),
    out_dir: Path = typer.Option(DEFAULT_OUT_DIR, "-o", "--out", help="通报输出文件夹，默认 out/"),
    kind: Optional[str] = typer.Option(None, "--kind", help="通报类型：阶段性进展 或 集中整改进展"),
    pdf: bool = typer.Option(False, "--pdf", help="同时用 LibreOffice 生成 PDF"),
    annex: bool = typer.Option(False, "--annex", help="同时生成台账附件（<台账名>-附件.docx，横排表格）"),
) -> None:
    """为文件夹中的每本台账生成通报（跳过 ~$、.~lock、.tmp 等临时文件）。"""
    from .build import BUILT, INVALID, build_notice, find_ledgers, notice_path_for

    _check_kind(kind)
    if not folder.is_dir():
        _fail(f"{folder}：文件夹不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    ledgers = find_ledgers(folder)
    if not ledgers:
        _fail(f"{folder}：文件夹中没有台账（.xlsx）")
        raise typer.Exit(EXIT_UNUSABLE)
    results = []
    with typer.progressbar(ledgers, label="生成通报", file=sys.stderr) as bar:
        for ledger in bar:
            results.append(build_notice(ledger, notice_path_for(ledger, out_dir), kind=kind, pdf=pdf))
    annex_lines, annex_failed = _write_annexes(results) if annex else ([], False)
    rows = []
    for r in results:
        if r.outcome == BUILT:
            c = r.report.stats.overall
            rows.append([r.ledger.name, "已生成", str(c.total), str(c.done), str(c.in_progress),
                         str(c.not_done), str(r.notice)])
        elif r.outcome == INVALID:
            rows.append([r.ledger.name, f"有 {len(r.report.errors)} 个错误，未生成", "", "", "", "",
                         "运行 toolkit check 查看"])
        else:
            rows.append([r.ledger.name, "无法使用", "", "", "", "", r.problem.reason])
    _say(format_table(["台账", "结果", "问题数", "已完成", "正在整改", "未完成", "通报/原因"], rows))
    for r in results:
        for note in r.notes:
            _say(note)
        if r.outcome == BUILT:
            for line in _history_warnings(r):
                _say(line)
    for line in annex_lines:
        _say(line)
    raise typer.Exit(max([r.exit_code for r in results] + [EXIT_UNUSABLE if annex_failed else 0]))


def _write_annexes(results) -> tuple[list[str], bool]:
    """The ledger annex beside each notice built (``build --annex``): lines to print, and
    whether one could not be written."""
    from .annex import write_annex
    from .build import BUILT

    lines, failed = [], False
    for r in results:
        if r.outcome != BUILT or r.notice is None:
            continue
        made = write_annex(r.report, r.notice)
        if made.path is not None:
            lines.append(f"已生成台账附件：{made.path}")
        else:
            failed = True
            lines.append(f"{r.ledger.name}：台账附件未能生成：{made.problem.message}")
    return lines, failed


# ---------------------------------------------------------------- diff

@app.command()
def diff(
    ledger: Path = typer.Argument(..., help="台账文件（.xlsx）"),
    out_dir: Path = typer.Option(DEFAULT_OUT_DIR, "-o", "--out",
                                 help="通报输出文件夹（其中 .history 保存通报记录），默认 out/"),
    against: Optional[str] = typer.Option(None, "--against",
                                          help="与哪份记录比较：记录文件，或日期（如 2024-12-20，"
                                               "取当天及以前最近的一份）；默认为上次通报"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出变化"),
) -> None:
    """列出台账自上次通报以来的变化：新完成、状态倒退、时限延后、问题文字修改、问题消失、新增问题。"""
    from .errors import ToolkitError
    from .history import KINDS_CN, diff_ledger, history_root

    try:
        result = diff_ledger(ledger, history_root(out_dir), against=against)
    except ToolkitError as exc:
        _fail(exc.message)
        raise typer.Exit(EXIT_UNUSABLE)
    code = EXIT_ERRORS if result.report.errors else EXIT_OK
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
        rows = [[KINDS_CN[c.kind], SEVERITY_CN[c.severity], c.number or "-",
                 str(c.row) if c.row is not None else f"原{c.old_row}", c.message]
                for c in result.changes]
        _say(format_table(["变化", "级别", "序号", "行", "说明"], rows))
    if result.report.errors:
        _say()
        _say(f"注意：台账有 {len(result.report.errors)} 个错误；运行 toolkit check 查看。")
    raise typer.Exit(code)


# ---------------------------------------------------------------- summary

@app.command()
def summary(
    folder: Path = typer.Argument(DEFAULT_LEDGER_DIR, help="台账所在文件夹，默认 ledgers/"),
    output: Path = typer.Option(DEFAULT_OUT_DIR / "汇总.xlsx", "-o", "--output",
                                help="汇总表文件路径（.xlsx），默认 out/汇总.xlsx"),
    notices: Path = typer.Option(DEFAULT_OUT_DIR, "--notices",
                                 help="通报输出文件夹，用于读取各台账最近生成通报的时间，默认 out/"),
) -> None:
    """汇总文件夹中各单位台账：每本台账一行（问题数、完成情况、逾期、完成率），写成带图表的汇总表。"""
    from .errors import ToolkitError
    from .history import history_root
    from .rollup import HEADERS, summarise, table_rows

    if not folder.is_dir():
        _fail(f"{folder}：文件夹不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    if output.suffix.lower() != ".xlsx":
        _fail(f"{output.name}：汇总表文件名须以 .xlsx 结尾")
        raise typer.Exit(EXIT_UNUSABLE)
    try:
        result, book = summarise(folder, output, history_dir=history_root(notices))
    except ToolkitError as exc:
        _fail(exc.message)
        raise typer.Exit(EXIT_UNUSABLE)
    _say(format_table(list(HEADERS), table_rows(result)))
    for note in book.notes:
        _say(note)
    _say()
    _say(f"已生成汇总表：{output}")
    raise typer.Exit(result.exit_code)


# ---------------------------------------------------------------- watch

@app.command()
def watch(
    folder: Path = typer.Argument(DEFAULT_LEDGER_DIR, help="台账所在文件夹，默认 ledgers/"),
    out_dir: Path = typer.Option(DEFAULT_OUT_DIR, "-o", "--out", help="通报输出文件夹，默认 out/"),
    polling: bool = typer.Option(False, "--polling",
                                 help="定时轮询文件夹（共享文件夹用；位于网络文件系统时自动启用）"),
    interval: float = typer.Option(1.0, "--interval", min=0.1, help="轮询间隔（秒），默认 1"),
    debounce: float = typer.Option(1.0, "--debounce", min=0.0,
                                   help="台账最后一次变化后等待多少秒再生成，默认 1"),
    pdf: bool = typer.Option(False, "--pdf", help="同时用 LibreOffice 生成 PDF"),
) -> None:
    """监视台账文件夹：先为每本台账生成通报，此后哪本台账保存了就重新生成哪本。Ctrl-C 停止。

    有错误的台账不生成新通报（原通报保留），原因写在 输出文件夹/<台账名>-校验报告.xlsx；
    每次生成的结果记在 status.json 和 toolkit.log。
    """
    import logging
    import signal

    from .errors import ToolkitError
    from .watch import Watcher, log_formatter

    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(log_formatter())
    log = logging.getLogger("toolkit.watch")
    log.addHandler(console)
    log.setLevel(logging.INFO)

    def _terminate(signum, frame):  # SIGTERM (systemd, kill) stops like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    if hasattr(signal, "SIGBREAK"):  # Ctrl-Break on Windows
        signal.signal(signal.SIGBREAK, _terminate)
    watcher = Watcher(folder, out_dir, polling=True if polling else None, interval=interval,
                      debounce=debounce, pdf=pdf)
    try:
        watcher.run()
    except KeyboardInterrupt:
        pass
    except ToolkitError as exc:
        _fail(exc.message)
        raise typer.Exit(EXIT_UNUSABLE)
    finally:
        log.removeHandler(console)
    raise typer.Exit(EXIT_OK)


# ---------------------------------------------------------------- entry point

def main() -> None:
    """Console entry: usage errors become one Chinese line and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        _fail("已中止")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # click's usage errors, vendored by typer
        _fail(f"用法错误：{exc.format_message()}（运行 toolkit --help 查看用法）")
        sys.exit(EXIT_UNUSABLE)
    except KeyboardInterrupt:
        _fail("已中止")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
