"""Canonical bytes of JSON-like values: the form that is hashed and signed."""

from __future__ import annotations

import json
import unicodedata
from typing import Any


class NotCanonical(TypeError):
    """A value cannot be put in canonical form (floats, non-string keys, unknown types)."""


def _normalize(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        # Floats have no single textual form across platforms; hashed data must not carry them.
        raise NotCanonical("floats are not allowed in canonical data; use integers or strings")
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical(f"object keys must be strings, not {type(key).__name__}")
            out[unicodedata.normalize("NFC", key)] = _normalize(item)
        return out
    if isinstance(value, list | tuple):
        return [_normalize(item) for item in value]
    raise NotCanonical(f"cannot put a {type(value).__name__} in canonical form")


def canonical_bytes(value: Any) -> bytes:
    """Sorted-key, compact, UTF-8 JSON with NFC-normalized strings and no floats."""
    return json.dumps(
        _normalize(value), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
