"""Convert a rendered notice (.docx) to PDF with LibreOffice, headless.

Each conversion runs with its own throwaway LibreOffice profile (so it neither touches nor
waits for a user's running LibreOffice), writes into a private temporary folder, and the PDF
is then written with ``atomic.write_atomic`` (the one atomic write of every output: the target
is either the old file or the complete new one, with the same mode as the .docx).

LibreOffice runs in its own process group (session); on every way out of ``convert_to_pdf``
(error, timeout, KeyboardInterrupt, ``cancel_conversions()``) the whole group is killed and
the temporary folder removed, so no ``soffice.bin`` and no ``toolkit-pdf-*`` stay behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from toolkit.atomic import write_atomic
from toolkit.errors import OutputError, PdfConversionError, ToolkitError, os_reason

__all__ = [
    "SOFFICE_ENV",
    "FontSubstitute",
    "cancel_conversions",
    "convert_to_pdf",
    "describe_substitutes",
    "find_soffice",
    "font_substitutes",
    "soffice_available",
]

SOFFICE_ENV = "TOOLKIT_SOFFICE"  # full path of soffice(.exe), when it is not found by itself
_CANDIDATES = ("soffice", "libreoffice")

# The 公文 fonts are rarely installed on Linux. Without help fontconfig hands LibreOffice a
# sans-serif face for all of them, and for the Noto CJK collections the Japanese (JP) face.
# Each 公文 font that is not installed is mapped to the first installed substitute of its
# role, asked for by its Simplified Chinese family name (lang zh-cn); see _font_plan.
_FONT_ROLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], bool], ...] = (
    # role, the 公文 font names, substitutes in order of preference, bold
    ("仿宋", ("仿宋_GB2312", "仿宋", "FangSong", "FangSong_GB2312"),
     ("Noto Serif CJK SC", "Source Han Serif SC", "Source Han Serif CN", "FandolFang",
      "FandolSong", "AR PL UMing CN"), False),
    ("楷体", ("楷体_GB2312", "楷体", "KaiTi", "KaiTi_GB2312", "华文楷体", "STKaiti"),
     ("AR PL UKai CN", "FandolKai", "AR PL KaitiM GB", "Noto Serif CJK SC", "Source Han Serif SC",
      "AR PL UMing CN"), False),
    ("小标宋", ("方正小标宋简体", "方正小标宋_GBK", "华文中宋", "STZhongsong"),
     ("Noto Serif CJK SC", "Source Han Serif SC", "Source Han Serif CN", "FandolSong",
      "AR PL UMing CN"), True),
    ("宋体", ("宋体", "SimSun"),
     ("Noto Serif CJK SC", "Source Han Serif SC", "Source Han Serif CN", "FandolSong",
      "AR PL UMing CN"), False),
    ("黑体", ("黑体", "SimHei", "方正黑体_GBK", "微软雅黑", "Microsoft YaHei"),
     ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "FandolHei",
      "WenQuanYi Zen Hei", "Droid Sans Fallback"), False),
)


@dataclass(frozen=True)
class FontSubstitute:
    font: str  # the 公文 font the document names
    substitute: str  # the installed family used in its place
    bold: bool  # drawn in the bold weight (小标宋)


def _installed_families() -> set[str] | None:
    """Font families fontconfig knows, or None when fc-list is not available."""
    exe = shutil.which("fc-list")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--format", "%{family}\\n"], capture_output=True,
                             timeout=30, check=False).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return None
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


def font_substitutes(installed: set[str] | None = None) -> list[FontSubstitute]:
    """The substitute of each 公文 font that is not installed (none for installed ones).

    ``installed`` defaults to what fontconfig lists; a 公文 font without any installed
    substitute is left to fontconfig's own fallback and not listed.
    """
    if installed is None:
        installed = _installed_families()
        if installed is None:
            return []
    out: list[FontSubstitute] = []
    for _role, names, candidates, bold in _FONT_ROLES:
        substitute = next((c for c in candidates if c in installed), None)
        if substitute is None:
            continue
        out.extend(FontSubstitute(n, substitute, bold) for n in names if n not in installed)
    return out


def describe_substitutes(subs: list[FontSubstitute]) -> str:
    """One Chinese line naming the substitutes used for the missing 公文 fonts ("" if none)."""
    seen: dict[str, str] = {}
    for sub in subs:
        if sub.font in ("仿宋_GB2312", "楷体_GB2312", "方正小标宋简体", "宋体", "黑体"):
            seen[sub.font] = sub.substitute + ("（加粗）" if sub.bold else "")
    if not seen:
        return ""
    pairs = "，".join(f"{font}→{sub}" for font, sub in seen.items())
    return f"本机未安装公文字体，PDF 中使用替代字体：{pairs}"


def _font_config_xml(base: str, subs: list[FontSubstitute]) -> str:
    """fontconfig rules: each missing 公文 font is replaced by its substitute, asked for in
    Simplified Chinese (so the Noto CJK collections give their SC face, not the JP one)."""
    rules = []
    for sub in subs:
        weight = ('<edit name="weight" mode="assign" binding="strong"><const>bold</const></edit>'
                  if sub.bold else "")
        rules.append(
            '<match target="pattern">'
            f'<test name="family" qual="any"><string>{escape(sub.font)}</string></test>'
            f'<edit name="family" mode="assign" binding="strong"><string>{escape(sub.substitute)}</string></edit>'
            '<edit name="lang" mode="assign" binding="strong"><string>zh-cn</string></edit>'
            f"{weight}</match>"
        )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<fontconfig>'
            f'<include ignore_missing="yes">{escape(base)}</include>'
            + "".join(rules) + "</fontconfig>\n")


def find_soffice() -> str | None:
    """Path of the LibreOffice executable, or None.

    ``TOOLKIT_SOFFICE`` (a full path) wins; then ``soffice``/``libreoffice`` on PATH; then the
    usual install folders (Windows' Program Files, macOS' Applications), which the LibreOffice
    installer does not put on PATH.
    """
    configured = os.environ.get(SOFFICE_ENV, "").strip().strip('"')
    if configured:
        return _configured_soffice(configured)
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    for candidate in _install_locations():
        if _executable(candidate):
            return str(candidate)
    return None


def soffice_available() -> bool:
    return find_soffice() is not None


def _configured_soffice(configured: str) -> str | None:
    """``TOOLKIT_SOFFICE`` may name the program, its folder (``…\\LibreOffice\\program``), or
    a command on PATH."""
    path = Path(configured)
    if path.is_dir():
        for name in ("soffice.exe", "soffice", "soffice.bin"):
            if _executable(path / name):
                return str(path / name)
        return None
    if _executable(path):
        return str(path)
    return shutil.which(configured)


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _install_locations() -> list[Path]:
    if os.name == "nt":
        roots = [os.environ.get(v) for v in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)")]
        return [Path(r) / "LibreOffice" / "program" / "soffice.exe" for r in roots if r]
    # Linux packages put soffice on PATH; macOS' app bundle does not.
    return [Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")]


def _missing_soffice_message() -> str:
    configured = os.environ.get(SOFFICE_ENV, "").strip()
    if configured:
        return (f"环境变量 {SOFFICE_ENV} 指定的 LibreOffice（{configured}）不存在或不能运行，"
                "无法生成 PDF；请改正该路径后重试")
    return ("未找到 LibreOffice（soffice），无法生成 PDF；请安装 LibreOffice 后重试，"
            f"或用环境变量 {SOFFICE_ENV} 指定 soffice 的完整路径，或只生成 Word 文档")


def _tail(text: bytes, limit: int = 300) -> str:
    s = text.decode("utf-8", "replace").strip()
    return s[-limit:]


class _Conversion:
    """One running conversion: its LibreOffice process (group) and its temporary folder."""

    def __init__(self, work: Path):
        self.work = work
        self.proc: subprocess.Popen[bytes] | None = None
        self.cancelled = False

    def kill(self) -> None:
        """Kill LibreOffice and everything it started (oosplash -> soffice.bin), then reap it."""
        proc = self.proc
        if proc is None:
            return
        _kill_tree(proc)
        with contextlib.suppress(Exception):
            proc.wait(timeout=10)


_active: set[_Conversion] = set()
_active_lock = threading.Lock()


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    if os.name == "nt":
        # taskkill /T ends the children too (soffice.exe starts soffice.bin).
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        with contextlib.suppress(OSError):
            proc.kill()
        return
    # The group is still there while any member lives, even after its leader has exited;
    # it belongs to this conversion alone (start_new_session).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def cancel_conversions() -> int:
    """Kill every PDF conversion running in this process (the watcher's stop calls this).

    Each cancelled ``convert_to_pdf`` raises ``PdfConversionError`` and removes its temporary
    folder. Returns how many were running.
    """
    with _active_lock:
        running = list(_active)
    for conversion in running:
        conversion.cancelled = True
        conversion.kill()
    return len(running)


@atexit.register
def _clean_up_at_exit() -> None:
    # A conversion on a daemon thread never reaches its ``finally`` when the process exits.
    with _active_lock:
        running = list(_active)
    for conversion in running:
        conversion.cancelled = True
        conversion.kill()
        shutil.rmtree(conversion.work, ignore_errors=True)


def _run(conversion: _Conversion, cmd: list[str], timeout: float,
         env: dict[str, str]) -> tuple[int, bytes]:
    """Run ``cmd`` in its own process group (session); on timeout, error, interruption or
    cancellation kill that group (and only it) before leaving."""
    creation = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if os.name == "nt" else 0
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=os.name != "nt",
        creationflags=creation,
    )
    conversion.proc = proc
    try:
        if conversion.cancelled:  # cancelled between registering and starting
            raise subprocess.TimeoutExpired(cmd, 0)
        out, _ = proc.communicate(timeout=timeout)
    except BaseException:  # timeout, KeyboardInterrupt, SystemExit, anything
        conversion.kill()
        with contextlib.suppress(Exception):
            proc.communicate(timeout=5)
        raise
    return proc.returncode, out


def _fontconfig_file(work: Path) -> Path | None:
    """A fontconfig file that includes the usual one and maps the missing 公文 fonts."""
    base = os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf"
    if not Path(base).is_file():
        return None
    conf = work / "fonts.conf"
    conf.write_text(_font_config_xml(base, font_substitutes()), encoding="utf-8")
    return conf


def convert_to_pdf(docx_path: Path, pdf_path: Path, timeout: float = 120) -> None:
    """Convert ``docx_path`` to ``pdf_path`` with LibreOffice.

    Raises ``PdfConversionError`` when LibreOffice is missing, fails, times out, is cancelled
    (``cancel_conversions``) or writes no PDF, and ``OutputError`` when the PDF cannot be
    written to ``pdf_path``. Whatever happens (KeyboardInterrupt included), LibreOffice's
    process group is gone and the temporary folder removed when this returns or raises.
    """
    docx_path = Path(docx_path)
    pdf_path = Path(pdf_path)
    exe = find_soffice()
    if exe is None:
        raise PdfConversionError(docx_path, _missing_soffice_message())
    if not docx_path.is_file():
        raise PdfConversionError(docx_path, f"找不到要转换的 Word 文档（{docx_path}）")
    try:
        work = Path(tempfile.mkdtemp(prefix="toolkit-pdf-"))
    except OSError as exc:
        raise PdfConversionError(docx_path, f"无法创建临时文件夹（{os_reason(exc)}），"
                                            "未生成 PDF") from exc
    conversion = _Conversion(work)
    with _active_lock:
        _active.add(conversion)
    try:
        try:
            data = _convert_in(conversion, exe, docx_path, timeout)
        except OSError as exc:  # the temporary folder: full disk, quota
            raise PdfConversionError(docx_path, f"转换 PDF 时无法写入临时文件夹 {work}"
                                                f"（{os_reason(exc)}）") from exc
        try:
            write_atomic(pdf_path, data)  # the one atomic write: same mode as the .docx
        except ToolkitError:
            raise
        except OSError as exc:
            raise OutputError(pdf_path, f"无法写入 PDF 文件：{os_reason(exc)}") from exc
    finally:
        with _active_lock:
            _active.discard(conversion)
        shutil.rmtree(work, ignore_errors=True)


def _convert_in(conversion: _Conversion, exe: str, docx_path: Path, timeout: float) -> bytes:
    """Run LibreOffice in ``conversion.work``; the PDF's bytes."""
    work = conversion.work
    profile = work / "profile"
    outdir = work / "out"
    outdir.mkdir()
    # An ASCII copy: soffice mangles non-ASCII paths under a C locale.
    source = work / "notice.docx"
    shutil.copyfile(docx_path, source)
    cmd = [
        exe,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless", "--invisible", "--nologo", "--norestore", "--nodefault", "--nolockcheck",
        "--convert-to", "pdf:writer_pdf_Export",
        "--outdir", str(outdir),
        str(source),
    ]
    env = dict(os.environ)
    env.setdefault("HOME", str(work))
    conf = _fontconfig_file(work)
    if conf is not None:
        env["FONTCONFIG_FILE"] = str(conf)
    try:
        code, output = _run(conversion, cmd, timeout, env)
    except subprocess.TimeoutExpired as exc:
        if conversion.cancelled:
            raise PdfConversionError(docx_path, "PDF 转换已取消（正在停止），未生成 PDF") from exc
        raise PdfConversionError(
            docx_path, f"LibreOffice 转换超时（超过 {timeout:g} 秒），未生成 PDF"
        ) from exc
    except OSError as exc:
        raise PdfConversionError(docx_path, f"无法启动 LibreOffice（{exe}）：{exc}") from exc
    if conversion.cancelled:
        raise PdfConversionError(docx_path, "PDF 转换已取消（正在停止），未生成 PDF")
    produced = outdir / "notice.pdf"
    if code != 0 or not produced.is_file() or produced.stat().st_size == 0:
        detail = _tail(output)
        raise PdfConversionError(
            docx_path,
            f"LibreOffice 转换失败（退出码 {code}），未生成 PDF" + (f"：{detail}" if detail else ""),
        )
    data = produced.read_bytes()
    if not data.startswith(b"%PDF-"):
        raise PdfConversionError(docx_path, "LibreOffice 生成的文件不是 PDF")
    return data
