"""Validation of names and free text that users give the platform."""

from __future__ import annotations

import re
import unicodedata

from catalog.errors import InvalidInput

# Dataset and output names become SQL identifiers and directory names: keep them plain.
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*\Z")


def identifier(value: str, what: str, max_length: int) -> str:
    """A lower-case ASCII identifier: letters, digits, underscores, starting with a letter."""
    if not isinstance(value, str) or not value:
        raise InvalidInput("{what} must not be empty", what=what)
    if len(value) > max_length:
        raise InvalidInput("{what} is longer than {max_length} characters",
                           what=what, max_length=max_length)
    if not IDENTIFIER.match(value):
        raise InvalidInput(
            "{what} {value!r} is not allowed: use lower-case letters, digits and underscores, "
            "starting with a letter",
            what=what, value=value[:80]
        )
    return value


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (DuckDB), whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def text(value: str, what: str, max_length: int, *, required: bool = True,
         multiline: bool = False) -> str:
    """Free text (Chinese welcome): no control characters, bounded length, trimmed."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput("{what} must be text", what=what)
    value = unicodedata.normalize("NFC", value.strip())
    if required and not value:
        raise InvalidInput("{what} must not be empty", what=what)
    if len(value) > max_length:
        raise InvalidInput("{what} is longer than {max_length} characters",
                           what=what, max_length=max_length)
    allowed = {"\n", "\t"} if multiline else set()
    for ch in value:
        if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise InvalidInput("{what} contains a control or invisible character (U+{ord:04X})",
                               what=what, ord=ord(ch))
    return value


def column_name(value: str) -> str:
    """A column name of a registered file: any visible text, no control characters."""
    return text(value, "column name", 128)
