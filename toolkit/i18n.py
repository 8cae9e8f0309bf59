"""Chinese for everything Typer and Click print around the toolkit's own text.

The words (Usage, Options, [required], No such option …) come from a gettext catalogue,
``toolkit/locale/zh_CN/LC_MESSAGES/toolkit.po``, compiled to the ``.mo`` beside it and installed
as package data. The clerk's language does not depend on the environment (``LANG=C`` on a
server is common), so the catalogue is always used. After editing the ``.po`` run
``python -m toolkit.i18n`` to rebuild the ``.mo``; a test checks that the two agree.

Click's help layout is kept, with text measured by its width on a terminal (a Chinese character
takes two columns) and Chinese type names (文件, 文件夹, 秒) instead of PATH or FLOAT.

The commands' text, path and flag parameters are coerced without pydantic (``PlainParam``), so
that ``toolkit --version`` and a plain command start without importing it.
"""

from __future__ import annotations

import ast
import gettext as _gettext
import os
import re
import struct
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import typer
import typer.core

try:  # Typer vendors Click since 0.2x; before, it used the click package
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer
    import click  # type: ignore[no-redef,import-not-found,unused-ignore]

try:  # Typer >= 0.2x coerces every parameter through a pydantic TypeAdapter (see plain_coercion)
    from typer._coercion import RuntimeParam as _RuntimeParam
    from typer._coercion import build_runtime_param as _typer_runtime_param
    from typer._param_types import coerce_cli_path as _coerce_cli_path
except ImportError:  # pragma: no cover - older typer: Click's own types, no pydantic
    _RuntimeParam = None  # type: ignore[misc,assignment]

DOMAIN = "toolkit"
LANGUAGE = "zh_CN"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
PO_PATH = LOCALE_DIR / LANGUAGE / "LC_MESSAGES" / f"{DOMAIN}.po"
MO_PATH = PO_PATH.with_suffix(".mo")

_FIELD = re.compile(r"\{(\w+)(?:![rsa])?\}")


@lru_cache(maxsize=1)
def catalogue() -> _gettext.NullTranslations:
    """The compiled catalogue; English (no translation) if the .mo is missing."""
    return _gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[LANGUAGE], fallback=True)


def gettext(message: str) -> str:
    return catalogue().gettext(message)


_ = gettext


@lru_cache(maxsize=1)
def _templates() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Catalogue entries with ``{fields}``, as patterns that match the English text they make."""
    entries = getattr(catalogue(), "_catalog", {})
    result = []
    for msgid, msgstr in entries.items():
        if not isinstance(msgid, str) or not _FIELD.search(msgid):
            continue
        pattern, last = "", 0
        for match in _FIELD.finditer(msgid):
            pattern += re.escape(msgid[last:match.start()]) + f"(?P<{match.group(1)}>.+?)"
            last = match.end()
        pattern += re.escape(msgid[last:])
        result.append((re.compile(pattern), _FIELD.sub(r"{\1}", msgstr)))
    # Longer templates first, so "Option {name} requires {count} arguments." is not taken by a
    # shorter one that happens to match a prefix.
    result.sort(key=lambda item: -len(item[0].pattern))
    return tuple(result)


def translate(text: str) -> str:
    """Translate an English message that Click/Typer/Pydantic already formatted.

    Exact entries first; then entries with fields, matched as patterns (``No such option: -x``
    matches ``No such option: {name}``); a message made of several sentences is translated
    sentence by sentence. Text the catalogue does not know is returned unchanged.
    """
    text = text.strip()
    if not text:
        return text
    exact = gettext(text)
    if exact != text:
        return exact
    for pattern, msgstr in _templates():
        match = pattern.fullmatch(text)
        if match:
            return msgstr.format(**_fields(match))
        match = pattern.match(text)
        if match and match.end() < len(text) and text[match.end()] in " \n":
            return msgstr.format(**_fields(match)) + translate(text[match.end():])
    return text


def _fields(match: re.Match[str]) -> dict[str, str]:
    # A nested message ("Invalid value for '--x': Input should be …") is translated too.
    return {key: translate(value) if key == "message" else _unquote(value)
            for key, value in match.groupdict().items()}


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


# ---------------------------------------------------------------- msgfmt

def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr of a .po file (fuzzy and untranslated entries left out, header kept)."""
    messages: dict[str, str] = {}
    entry: dict[str, list[str]] = {}
    current: list[str] = []
    fuzzy = next_fuzzy = False

    def flush() -> None:
        if "msgid" in entry and "msgstr" in entry:
            key, value = "".join(entry["msgid"]), "".join(entry["msgstr"])
            if value and not (fuzzy and key):
                messages[key] = value
        entry.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#,"):
            next_fuzzy = "fuzzy" in line
        elif not line or line.startswith("#"):
            continue
        elif line.startswith(("msgid ", "msgstr ")):
            keyword, _, literal = line.partition(" ")
            if keyword == "msgid":
                flush()
                fuzzy, next_fuzzy = next_fuzzy, False
            current = entry.setdefault(keyword, [])
            current.append(ast.literal_eval(literal))
        elif line.startswith('"') and entry:
            current.append(ast.literal_eval(line))
        else:
            raise ValueError(f"cannot parse .po line {raw!r}")
    flush()
    return messages


def compile_po(text: str) -> bytes:
    """The GNU .mo image of a .po text (the layout of CPython's Tools/i18n/msgfmt.py)."""
    messages = parse_po(text)
    keys = sorted(messages, key=lambda k: k.encode("utf-8"))
    ids = strs = b""
    offsets = []
    for key in keys:
        k, v = key.encode("utf-8"), messages[key].encode("utf-8")
        offsets.append((len(ids), len(k), len(strs), len(v)))
        ids += k + b"\0"
        strs += v + b"\0"
    key_start = 7 * 4 + 16 * len(keys)
    value_start = key_start + len(ids)
    key_offsets: list[int] = []
    value_offsets: list[int] = []
    for id_offset, id_len, str_offset, str_len in offsets:
        key_offsets += [id_len, id_offset + key_start]
        value_offsets += [str_len, str_offset + value_start]
    header = struct.pack("<Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    table = struct.pack(f"<{len(key_offsets) * 2}i", *(key_offsets + value_offsets))
    return header + table + ids + strs


def build_mo() -> Path:
    """Rebuild the .mo from the .po (``python -m toolkit.i18n``)."""
    MO_PATH.write_bytes(compile_po(PO_PATH.read_text(encoding="utf-8")))
    return MO_PATH


# ---------------------------------------------------------------- Click's help in Chinese

def text_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: two for each Chinese (wide) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - text_width(text))


def localise_typer() -> None:
    """Route Typer's and Click's own gettext calls ("Options", "default: …", "No such command …")
    and Typer's rich help constants through our catalogue."""
    import gettext

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("typer", "click") and getattr(module, "_", None) is gettext.gettext:
            vars(module)["_"] = _
    rich_utils = sys.modules.get("typer.rich_utils")  # only loaded when rich help is used
    if rich_utils is not None:
        for name in ("DEPRECATED_STRING", "DEFAULT_STRING", "ENVVAR_STRING", "REQUIRED_LONG_STRING",
                     "ARGUMENTS_PANEL_TITLE", "OPTIONS_PANEL_TITLE", "COMMANDS_PANEL_TITLE",
                     "ERRORS_PANEL_TITLE", "ABORTED_TEXT", "RICH_HELP"):
            if isinstance(getattr(rich_utils, name, None), str):
                setattr(rich_utils, name, _(getattr(rich_utils, name)))


def _type_label(param: Any) -> str | None:
    """文件/文件夹/数字… for a parameter declared without a metavar (None: leave as is)."""
    desc = getattr(param, "type_descriptor", None)
    if desc is None or desc.is_choice:
        return None
    annotation = desc.annotation
    if desc.is_list:
        annotation = (getattr(annotation, "__args__", None) or (str,))[0]
    if desc.is_path:
        return _("PATH")
    names = {float: "FLOAT", int: "INTEGER", str: "TEXT"}
    if desc.is_datetime or getattr(annotation, "__name__", "") in ("date", "datetime"):
        return _("DATE")
    return _(names.get(annotation, "TEXT"))


def argument_label(param: Any) -> str:
    label = param.metavar or param.name or ""
    return f"{label}..." if param.nargs != 1 else label


def _translate_extras(help_text: str) -> str:
    """``…  [default: out; x>=0.1; required]`` with each piece through the catalogue; the
    default is dropped when the help text already says it (默认…)."""
    head, sep, tail = help_text.rpartition("  [")
    if not sep and help_text.startswith("["):
        head, tail = "", help_text[1:]
    elif not sep:
        return help_text
    if not tail.endswith("]"):
        return help_text
    default_prefix = _("default: {default}").split("{", 1)[0]
    pieces = [translate(p) for p in tail[:-1].split("; ")]
    if "默认" in head:
        pieces = [p for p in pieces if not p.startswith(default_prefix)]
    extras = f"[{'；'.join(pieces)}]" if pieces else ""
    return f"{head}  {extras}".strip() if head else extras


_WORD = re.compile(r"[\x21-\x7e]+|\s+|.", re.S)  # ASCII runs are not broken inside


_NO_LINE_START = frozenset("，。、；：！？）》」』”’")  # stays on the line before (禁则)


def wrap_cjk(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` terminal columns (Chinese characters take two)."""
    lines: list[str] = []
    line = ""
    for token in _WORD.findall(" ".join(text.split("\n"))):
        if token.isspace():
            token = " "
            if not line:
                continue
        if line and text_width(line) + text_width(token) > width and token not in _NO_LINE_START:
            lines.append(line.rstrip())
            line = "" if token == " " else token
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _join_lines(lines: list[str]) -> str:
    """A paragraph's source lines as one text: no space between two Chinese characters."""
    text = ""
    for line in (ln.strip() for ln in lines):
        if text and line and (text_width(text[-1]) == 1 or text_width(line[0]) == 1):
            text += " "
        text += line
    return text


class ToolkitFormatter(click.HelpFormatter):
    """Click's help formatter, measuring Chinese text by its width on the terminal."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        lead = " " * self.current_indent + (_("Usage: ") if prefix is None else prefix) + prog + " "
        lines = wrap_cjk(args, max(self.width - text_width(lead), 20)) or [""]
        self.write(lead + lines[0] + "\n")
        self.write("".join(" " * text_width(lead) + line + "\n" for line in lines[1:]))

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        width = max(self.width - self.current_indent, 20)
        paragraphs: list[list[str]] = [[]]
        for line in text.splitlines():
            if line.strip():
                paragraphs[-1].append(line)
            elif paragraphs[-1]:
                paragraphs.append([])
        blocks = []
        for lines in filter(None, paragraphs):
            if lines[0].strip() == "\b":  # Click's mark: keep these lines as written
                blocks.append("".join(f"{indent}{ln}\n" for ln in lines[1:]))
            else:
                blocks.append("".join(f"{indent}{ln}\n" for ln in wrap_cjk(_join_lines(lines), width)))
        self.write("\n".join(blocks))

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30,
                 col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((text_width(term) for term, _help in rows), default=0), col_max)
        indent = " " * self.current_indent
        hang = " " * (self.current_indent + first_col + col_spacing)
        help_width = max(self.width - self.current_indent - first_col - col_spacing, 10)
        for term, help_text in rows:
            lines = wrap_cjk(help_text, help_width)
            if not lines:
                self.write(f"{indent}{term}\n")
                continue
            if text_width(term) <= first_col:
                self.write(f"{indent}{pad(term, first_col + col_spacing)}{lines[0]}\n")
            else:
                self.write(f"{indent}{term}\n{hang}{lines[0]}\n")
            self.write("".join(f"{hang}{line}\n" for line in lines[1:]))


class ToolkitContext(typer.Context):
    formatter_class = ToolkitFormatter


class ChineseHelp:
    """Usage line, sections, help option and type names through the catalogue (mixin)."""

    params: list[Any]
    context_class: type[typer.Context] = ToolkitContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.metavar is None and not getattr(param, "is_flag", False):
                param.metavar = _type_label(param)
            plain_coercion(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = _("Show this message and exit.")
            plain_coercion(option)
        return option

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # Always the plain layout below, also when rich markup is switched on for the app:
        # rich's panels would bypass the Chinese usage line, sections and type names.
        click.Command.format_help(self, ctx, formatter)  # type: ignore[arg-type]

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=_("Usage: "))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [_("[OPTIONS]")]
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if param.param_type_name == "argument":
                label = argument_label(param)
                pieces.append(label if param.required else f"[{label}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        if isinstance(self, typer.core.TyperGroup):
            pieces.append(_("COMMAND [ARGS]..."))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((argument_label(param), _translate_extras(record[1])))
            else:
                options.append((record[0], _translate_extras(record[1])))
        for title, rows in ((_("Arguments"), arguments), (_("Options"), options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        if isinstance(self, typer.core.TyperGroup):
            self.format_commands(ctx, formatter)


class ToolkitCommand(ChineseHelp, typer.core.TyperCommand):  # type: ignore[misc]
    """Every toolkit command (``app.command()`` uses it unless told otherwise)."""


# ---------------------------------------------------------------- parameters without pydantic

if _RuntimeParam is not None:
    @dataclass(frozen=True)
    class PlainParam(_RuntimeParam):
        """Coercion of the values a command line gives (text, paths, flags) without pydantic.

        Typer builds a pydantic TypeAdapter for a parameter the first time it sees a value,
        even the ``None`` of an absent ``--help``; importing pydantic alone costs more than the
        rest of ``toolkit --version``. Strings, paths and booleans are coerced here as Typer's
        own adapters would (a path still goes through Typer's existence and access checks);
        any other value goes to the adapter Typer would have built, built only then.
        """

        descriptor: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            annotation = self.annotation
            if annotation is bool and isinstance(value, bool):
                return value
            if annotation is str and isinstance(value, str):
                return value
            if annotation is Path and isinstance(value, (str, Path)):
                return self._path(value, param, ctx)
            if _is_path_list(annotation) and isinstance(value, (list, tuple)) \
                    and all(isinstance(item, (str, Path)) for item in value):
                return [self._path(item, param, ctx) for item in value]
            return _typer_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

        def _path(self, value: str | Path, param: Any, ctx: Any) -> Path:
            checked = _coerce_cli_path(value, self.parameter_info, path_type=None, param=param, ctx=ctx)
            return checked if isinstance(checked, Path) else Path(os.fsdecode(checked))


def _is_path_list(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is list \
        and tuple(getattr(annotation, "__args__", ())) == (Path,)


def plain_coercion(param: Any) -> None:
    """Give ``param`` PlainParam's coercion when its type is one PlainParam knows and Typer
    would not do more (a custom parser, choices, files, ``resolve_path``, ``allow_dash``)."""
    descriptor = getattr(param, "type_descriptor", None)
    if _RuntimeParam is None or descriptor is None or not hasattr(param, "_runtime_param") \
            or param._runtime_param is not None:
        return
    info = descriptor.parameter_info
    annotation = descriptor.annotation
    if descriptor.file_annotation is not None or getattr(info, "parser", None) is not None \
            or getattr(descriptor, "is_choice", True):
        return
    if annotation in (Path,) or _is_path_list(annotation):
        if getattr(info, "path_type", None) is not None or getattr(info, "resolve_path", True) \
                or getattr(info, "allow_dash", True):
            return
    elif annotation not in (str, bool):
        return
    param._runtime_param = PlainParam(parameter_info=info, annotation=annotation,
                                      descriptor=descriptor)


if __name__ == "__main__":
    build_mo()
