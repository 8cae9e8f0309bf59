"""The Chinese message catalogue for the words Typer/Click print around our own text.

The catalogue is a gettext ``.po`` file (``zh_CN/LC_MESSAGES/toolkit.po``) compiled to the
``.mo`` beside it, which is installed as package data. The clerk's language does not depend
on the environment (``LANG=C`` on a server is common), so the catalogue is always loaded.

Run ``python -m toolkit.locale`` after editing the ``.po`` to rebuild the ``.mo``; a test
checks that the two agree.
"""

from __future__ import annotations

import ast
import gettext as _gettext
import re
import struct
from functools import lru_cache
from pathlib import Path

DOMAIN = "toolkit"
LANGUAGE = "zh_CN"
LOCALE_DIR = Path(__file__).resolve().parent
PO_PATH = LOCALE_DIR / LANGUAGE / "LC_MESSAGES" / f"{DOMAIN}.po"
MO_PATH = PO_PATH.with_suffix(".mo")

_FIELD = re.compile(r"\{(\w+)(?:![rsa])?\}")


@lru_cache(maxsize=1)
def catalogue() -> _gettext.NullTranslations:
    """The compiled catalogue; English (no translation) if the .mo is missing."""
    return _gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[LANGUAGE], fallback=True)


def gettext(message: str) -> str:
    return catalogue().gettext(message)


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
    """Rebuild the .mo from the .po (``python -m toolkit.locale``)."""
    MO_PATH.write_bytes(compile_po(PO_PATH.read_text(encoding="utf-8")))
    return MO_PATH
