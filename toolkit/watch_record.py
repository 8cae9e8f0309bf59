"""What the watcher leaves for people: status.json, toolkit.log and each ledger's 校验报告.

``StatusRecorder`` turns a build result into one ``status.json`` entry, one log line and the
校验报告 (written when there is something to act on, removed when there is not). It is generic
over ``BuildResult.outcome``: an outcome it does not know is recorded under its own name.
Failures to write any of these are logged and never stop the watcher.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from .atomic import write_atomic
from .build import BUILT, INVALID, OUTCOME_CN, UNUSABLE, BuildResult, notice_path_for
from .codes import is_important
from .count import counts_to_dict
from .errors import OutputError, ToolkitError, WatchError
from .files import is_regular_or_absent, read_regular
from .findings_book import (
    remove_findings_book,
    report_path_for,
    report_rows,
    write_findings_book,
)
from .model import Finding, Report
from .names import LOG_NAME as LOG_NAME  # re-exported: the watcher's modules find it here
from .names import STATUS_NAME as STATUS_NAME
from .official import missing_official_parts
from .watch_debounce import os_reason

logger = logging.getLogger("toolkit.watch")

DELETED = "deleted"  # status.json result of a ledger that disappeared; its notice is kept
RESULT_CN = {**OUTCOME_CN, DELETED: "台账已删除"}
OUTPUT_FAILED_CN = "输出失败，原通报保留"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 5
_LEVEL_CN = {"DEBUG": "调试", "INFO": "信息", "WARNING": "警告", "ERROR": "错误", "CRITICAL": "严重"}
# Fields of an entry read back from status.json that are used again, with their types.
_KEPT_FIELDS: dict[str, type] = {"notice": str, "notice_time": str}


def log_formatter() -> logging.Formatter:
    """Time, level in Chinese, message: the format of the console and of toolkit.log."""
    return _ChineseLevelFormatter("%(asctime)s %(levelname_cn)s %(message)s", "%Y-%m-%d %H:%M:%S")


class _ChineseLevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.levelname_cn = _LEVEL_CN.get(record.levelname, record.levelname)  # type: ignore[attr-defined,unused-ignore]
        return super().format(record)


class _LogFileHandler(RotatingFileHandler):
    """toolkit.log; a write that fails later (disk full, folder made read-only) says so once
    on stderr in Chinese instead of logging's "--- Logging error ---" traceback."""

    _complained = False

    def handleError(self, record: logging.LogRecord) -> None:
        if not self._complained:
            self._complained = True
            exc = sys.exc_info()[1]
            detail = os_reason(exc) if exc is not None else "原因不明"
            with _suppress_all():
                sys.stderr.write(f"无法写入日志文件 {self.baseFilename}（{detail}），"
                                 "此后的日志只显示在控制台\n")


class _suppress_all:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


def now_text() -> str:
    return datetime.now().isoformat(timespec="seconds")


def check_writable(folder: Path) -> None:
    """WatchError naming ``folder`` when no file can be created in it."""
    try:
        fd, name = tempfile.mkstemp(prefix=".~toolkit-probe-", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise WatchError(folder, f"输出文件夹 {folder} 无法写入（{os_reason(exc)}），"
                                 "请检查权限或换一个文件夹") from exc


def read_status(path: Path) -> dict[str, dict]:
    """The ledgers' entries of an earlier ``status.json``; {} (with a warning) when unusable.

    A hand-edited or damaged file (garbage, ``{"ledgers": []}``, wrong types) must never stop
    the watcher from starting: what cannot be used is dropped and the file is written afresh.
    """
    try:
        data = json.loads(read_regular(path).decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("%s 无法读取（%s），将重新建立", path, os_reason(exc))
        return {}
    ledgers = data.get("ledgers") if isinstance(data, dict) else None
    if not isinstance(ledgers, dict):
        logger.warning("%s 的内容不是本工具写的格式，将重新建立", path)
        return {}
    entries: dict[str, dict] = {}
    for name, entry in ledgers.items():
        if not isinstance(entry, dict):
            continue
        entries[str(name)] = {key: value for key, value in entry.items()
                              if key not in _KEPT_FIELDS or isinstance(value, _KEPT_FIELDS[key])}
    if len(entries) < len(ledgers):
        logger.warning("%s 中有 %d 项无法使用，已忽略", path, len(ledgers) - len(entries))
    return entries


def result_cn(result: BuildResult) -> str:
    """The outcome in Chinese; an outcome added later by build.py is never shown in English."""
    known = RESULT_CN.get(result.outcome) or getattr(result, "outcome_cn", None)
    return str(known) if known else f"已处理（{result.outcome}）"


def _written_now(result: BuildResult, seconds: float) -> bool:
    """Was a notice written by this build (whatever the outcome is called)?"""
    if result.built:
        return True
    if result.notice is None or result.outcome in (INVALID, UNUSABLE):
        return False
    try:
        return Path(result.notice).stat().st_mtime >= time.time() - seconds - 1.0
    except OSError:
        return False


def output_failed(result: BuildResult) -> bool:
    """The ledger was fine but an output (notice, PDF …) could not be written."""
    return isinstance(result.problem, OutputError)


def problem_text(result: BuildResult) -> str:
    problem = result.problem
    if problem is None:
        return ""
    if isinstance(problem, OutputError) and problem.path is not None:
        return f"{problem.message}（{problem.path}）"  # the full path: where to look
    return problem.message


class StatusRecorder:
    """status.json, toolkit.log and the 校验报告 of the ledgers of one watched folder."""

    def __init__(self, ledger_dir: Path, out_dir: Path, *, polling: Callable[[], bool]):
        self.ledger_dir = ledger_dir
        self.out_dir = out_dir
        self._polling = polling
        self._lock = threading.RLock()  # one status.json write at a time, newest last
        self._status: dict[str, dict] = {}
        self._file_handler: logging.Handler | None = None

    # ---------------------------------------------------------------- log file

    def attach_log_file(self) -> None:
        """Log to ``toolkit.log`` in the output folder; WatchError naming it when impossible."""
        path = self.out_dir / LOG_NAME
        if not is_regular_or_absent(path) and not path.is_dir():  # a FIFO would block the open
            raise WatchError(path, f"无法写入日志文件 {path}：它不是普通文件（命名管道或设备）；"
                                   "请移走它或换一个输出文件夹")
        try:
            handler = _LogFileHandler(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS,
                                      encoding="utf-8")
        except OSError as exc:
            raise WatchError(path, f"无法写入日志文件 {path}（{os_reason(exc)}），"
                                   "请检查输出文件夹的权限或换一个文件夹") from exc
        handler.setFormatter(log_formatter())
        handler.setLevel(logging.INFO)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)  # the log lines are part of what the watcher delivers
        self._file_handler = handler

    def detach_log_file(self) -> None:
        if self._file_handler is not None:
            logger.removeHandler(self._file_handler)
            self._file_handler.close()
            self._file_handler = None

    # ---------------------------------------------------------------- status

    def load(self) -> None:
        # Keep what earlier runs knew (a ledger deleted while we were stopped keeps its entry).
        with self._lock:
            self._status = read_status(self.out_dir / STATUS_NAME)

    def knows(self, name: str) -> bool:
        with self._lock:
            return name in self._status

    def status(self, name: str) -> dict | None:
        with self._lock:
            entry = self._status.get(name)
            return dict(entry) if entry is not None else None

    def record(self, path: Path, result: BuildResult, seconds: float) -> dict:
        """Write the 校验报告, log the result and store its status.json entry (returned)."""
        report_path = self.write_report(path, result)
        entry = self._entry(path, result, report_path, seconds)
        self._log(path, result, entry, seconds)
        return self._store(path.name, entry)

    def record_deleted(self, path: Path) -> dict:
        previous = self.status(path.name) or {}
        entry = dict(previous, ledger=str(path), time=now_text(), result=DELETED,
                     result_cn=RESULT_CN[DELETED], message="台账已删除或移走，原通报保留")
        logger.warning("%s：台账已删除或移走，原通报保留", path.name)
        return self._store(path.name, entry)

    def _entry(self, path: Path, result: BuildResult, report_path: Path | None,
               seconds: float) -> dict:
        report = result.report
        previous = self.status(path.name) or {}
        kept = notice_path_for(path, self.out_dir)
        failed = output_failed(result)
        return {
            "ledger": str(path),
            "time": now_text(),
            "result": result.outcome,
            "result_cn": OUTPUT_FAILED_CN if failed else result_cn(result),
            "notice": (str(result.notice) if result.notice
                       else previous.get("notice") or (str(kept) if kept.exists() else None)),
            "notice_time": (now_text() if _written_now(result, seconds)
                            else previous.get("notice_time")),
            "report": str(report_path) if report_path else None,
            "counts": counts_to_dict(report.stats.overall) if report else None,
            "errors": len(report.errors) if report else 0,
            "warnings": len(report.warnings) if report else 0,
            "message": problem_text(result),
            "output_failed": failed,
            "notes": list(result.notes),
            # What a clerk must look at before the notice goes out (codes.IMPORTANT_WARNINGS),
            # and what a notice still lacks to be official (official.missing_official_parts).
            "important": [_finding_line(f) for f in important_warnings(report)],
            "missing": list(missing_official_parts(report.ledger.meta)) if report else [],
        }

    def _log(self, path: Path, result: BuildResult, entry: dict, seconds: float) -> None:
        name = path.name
        if result.built and result.report is not None and result.notice is not None:
            c = result.report.stats.overall
            logger.info("%s：已生成通报 %s（问题 %d 个：已完成 %d，正在整改 %d，未完成 %d；警告 %d）"
                        "，用时 %.1f 秒", name, result.notice.name, c.total, c.done, c.in_progress,
                        c.not_done, entry["warnings"], seconds)
        elif result.outcome == INVALID:
            report = entry["report"]
            logger.warning("%s：有 %d 个错误，未生成新通报，原通报保留；详见 %s", name,
                           entry["errors"], Path(report).name if report else "校验报告")
        elif result.problem is not None:
            logger.error("%s：%s；原通报保留", name, entry["message"])
        else:  # an outcome this module does not know by name ("unchanged" …)
            notice = f" {result.notice.name}" if result.notice else ""
            logger.info("%s：%s%s，用时 %.1f 秒", name, entry["result_cn"], notice, seconds)
        for line in entry["important"][:SHOWN_WARNINGS]:
            logger.warning("%s：%s", name, line)
        if len(entry["important"]) > SHOWN_WARNINGS:
            logger.warning("%s：另有 %d 个需要注意的警告，见 %s", name,
                           len(entry["important"]) - SHOWN_WARNINGS, "校验报告")
        if entry["missing"] and _written_now(result, seconds):
            logger.warning("%s：通报缺少%s，还不能作为正式通报印发；请在台账的“通报信息”表中填写",
                           name, "、".join(entry["missing"]))
        for note in result.notes:
            logger.warning("%s：%s", name, note)

    def _store(self, name: str, entry: dict) -> dict:
        with self._lock:
            self._status[name] = entry
            snapshot = {k: dict(v) for k, v in self._status.items()}
            self._write_status(snapshot)
        return dict(entry)

    def _write_status(self, ledgers: dict[str, dict]) -> None:
        data = {
            "updated": now_text(),
            "ledger_dir": str(self.ledger_dir),
            "out_dir": str(self.out_dir),
            "polling": self._polling(),
            "ledgers": dict(sorted(ledgers.items())),
        }
        try:
            write_atomic(self.out_dir / STATUS_NAME,
                         json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
        except ToolkitError as exc:
            logger.warning("status.json 未更新：%s（%s）", exc.message, self.out_dir / STATUS_NAME)
        except OSError as exc:
            logger.warning("status.json 未更新：无法写入 %s（%s）", self.out_dir / STATUS_NAME,
                           os_reason(exc))

    # ---------------------------------------------------------------- 校验报告

    def write_report(self, path: Path, result: BuildResult) -> Path | None:
        """Write the 校验报告 when there is anything to act on; remove it when there is not."""
        report = result.report
        findings = report.findings if report else ()
        target = report_path_for(path, self.out_dir)
        needed = (result.outcome != BUILT or result.problem is not None or result.notes
                  or any(f.severity != "info" for f in findings))
        needed = needed and not _quiet_outcome(result)
        try:
            if not needed:
                if remove_findings_book(target):
                    logger.info("%s：台账无错误和警告，已删除 %s", path.name, target.name)
                return None
            problems = [problem_text(result)] if result.problem else []
            rows = report_rows(findings, problems, result.notes)
            return write_findings_book(target, path.name, rows)
        except ToolkitError as exc:
            logger.warning("%s：校验报告未更新：%s（%s）", path.name, exc.message, target)
        except OSError as exc:
            logger.warning("%s：无法更新或删除 %s（%s），可能正在 Excel 中打开", path.name, target,
                           os_reason(exc))
        return target if target.exists() else None


def _quiet_outcome(result: BuildResult) -> bool:
    """A successful outcome other than BUILT ("unchanged" …) with nothing to report."""
    if result.outcome in (BUILT, INVALID, UNUSABLE) or result.problem is not None:
        return False
    findings = result.report.findings if result.report else ()
    return not result.notes and not any(f.severity != "info" for f in findings)


SHOWN_WARNINGS = 20  # important warnings logged per build; the 校验报告 lists them all


def important_warnings(report: Report | None) -> list[Finding]:
    """The warnings of ``report`` a clerk must see (see ``codes.IMPORTANT_WARNINGS``)."""
    if report is None:
        return []
    return [f for f in report.warnings if is_important(f.code)]


def _finding_line(finding: Finding) -> str:
    where = f"{finding.sheet}!{finding.cell}" if finding.sheet and finding.cell else finding.cell
    return f"{where} {finding.message}" if where else finding.message
