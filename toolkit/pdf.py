"""Convert a rendered notice (.docx) to PDF with LibreOffice, headless.

Each conversion runs with its own throwaway LibreOffice profile (so it neither touches nor
waits for a user's running LibreOffice), writes into a private temporary folder, and the PDF
is then moved into place atomically (temporary file beside the target + ``os.replace``): the
target is either the old file or the complete new one, never half a PDF.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from toolkit.errors import OutputError, PdfConversionError

__all__ = [
    "FontSubstitute",
    "convert_to_pdf",
    "describe_substitutes",
    "find_soffice",
    "font_substitutes",
    "soffice_available",
]

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
    out = []
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
    """Path of the LibreOffice executable on PATH, or None."""
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def soffice_available() -> bool:
    return find_soffice() is not None


def _tail(text: bytes, limit: int = 300) -> str:
    s = text.decode("utf-8", "replace").strip()
    return s[-limit:]


def _run(cmd: list[str], timeout: float, env: dict[str, str]) -> tuple[int, bytes]:
    """Run ``cmd`` in its own process group; on timeout kill that group (and only it)."""
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
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


def _place(src: Path, target: Path) -> None:
    """Copy ``src`` next to ``target`` under a temporary name, then rename it over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def convert_to_pdf(docx_path: Path, pdf_path: Path, timeout: float = 120) -> None:
    """Convert ``docx_path`` to ``pdf_path`` with LibreOffice.

    Raises ``PdfConversionError`` when LibreOffice is missing, fails, times out or writes no
    PDF, and ``OutputError`` when the PDF cannot be written to ``pdf_path``.
    """
    docx_path = Path(docx_path)
    pdf_path = Path(pdf_path)
    exe = find_soffice()
    if exe is None:
        raise PdfConversionError(
            docx_path,
            "未找到 LibreOffice（soffice），无法生成 PDF；请安装 LibreOffice 后重试，"
            "或只生成 Word 文档",
        )
    if not docx_path.is_file():
        raise PdfConversionError(docx_path, f"找不到要转换的 Word 文档（{docx_path}）")

    work = Path(tempfile.mkdtemp(prefix="toolkit-pdf-"))
    try:
        profile = work / "profile"
        outdir = work / "out"
        outdir.mkdir()
        # An ASCII copy: soffice mangles non-ASCII paths under a C locale.
        source = work / "notice.docx"
        shutil.copyfile(docx_path, source)
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(outdir),
            str(source),
        ]
        env = dict(os.environ)
        env.setdefault("HOME", str(work))
        conf = _fontconfig_file(work)
        if conf is not None:
            env["FONTCONFIG_FILE"] = str(conf)
        try:
            code, output = _run(cmd, timeout, env)
        except subprocess.TimeoutExpired as exc:
            raise PdfConversionError(
                docx_path, f"LibreOffice 转换超时（超过 {timeout:g} 秒），未生成 PDF"
            ) from exc
        except OSError as exc:
            raise PdfConversionError(docx_path, f"无法启动 LibreOffice（{exe}）：{exc}") from exc

        produced = outdir / "notice.pdf"
        if code != 0 or not produced.is_file() or produced.stat().st_size == 0:
            detail = _tail(output)
            raise PdfConversionError(
                docx_path,
                f"LibreOffice 转换失败（退出码 {code}），未生成 PDF" + (f"：{detail}" if detail else ""),
            )
        with open(produced, "rb") as fh:
            if fh.read(5) != b"%PDF-":
                raise PdfConversionError(docx_path, "LibreOffice 生成的文件不是 PDF")
        try:
            _place(produced, pdf_path)
        except OSError as exc:
            raise OutputError(pdf_path, f"无法写入 PDF 文件：{exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
