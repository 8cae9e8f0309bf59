"""Strict JSON for every ``--json`` output: one conversion, used by the CLI.

``json.dumps`` writes ``NaN`` and ``Infinity`` by default, which no strict JSON parser accepts,
and refuses ``Decimal``, ``date`` and ``Path``. ``json_safe`` turns a result into plain JSON
values by one rule for each type, and ``to_json`` refuses anything left over
(``allow_nan=False``) rather than writing something that is not JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any


def json_safe(value: Any) -> Any:
    """``value`` with only JSON types left.

    Decimal -> a number (int when whole, else float; amounts are shown rounded, see
    model.round_amount); a float or Decimal that is NaN or infinite -> null; date/datetime ->
    ISO 8601 text; paths -> text; enums -> their value; tuples and sets -> lists; mapping keys
    -> text.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        if value == value.to_integral_value() and abs(value) < 10 ** 15:
            return int(value)
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, Mapping):
        return {_key(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [json_safe(v) for v in items]
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _key(key: Any) -> str:
    safe = json_safe(key)
    return safe if isinstance(safe, str) else json.dumps(safe)


def to_json(value: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``value`` (Chinese kept as is, never NaN or Infinity)."""
    return json.dumps(json_safe(value), ensure_ascii=False, indent=indent, allow_nan=False)
