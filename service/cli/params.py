"""Parameter types of options written as small expressions (COL=ENTITY, DATASET:col,col)."""

from __future__ import annotations

from typing import Any

import click


class Pair(click.ParamType):
    """NAME=TEXT: a name and its text (the text may be empty, the name may not)."""

    name = "NAME=TEXT"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        key, sep, text = str(value).partition("=")
        if not sep or not key.strip():
            self.fail(f"write NAME=TEXT, not {value!r}", param, ctx)
        return key.strip(), text


class Columns(click.ParamType):
    """DATASET:col1,col2: a dataset and some of its columns."""

    name = "NAME:COL,COL"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, list[str]]:
        if isinstance(value, tuple):
            return value
        dataset, sep, columns = str(value).partition(":")
        chosen = [c for c in columns.split(",") if c]
        if not sep or not dataset or not chosen:
            self.fail(f"{value!r}: use DATASET:col1,col2", param, ctx)
        return dataset, chosen


class NameList(click.ParamType):
    """A comma-separated list of names (blanks dropped)."""

    name = "COL,COL"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> list[str]:
        if isinstance(value, list):
            return value
        return [c.strip() for c in str(value).split(",") if c.strip()]


PAIR = Pair()
COLUMNS = Columns()
NAMES = NameList()


def grouped(values: tuple[tuple[str, list[str]], ...]) -> dict[str, list[str]]:
    """DATASET:cols options, the columns of a dataset named twice joined."""
    found: dict[str, list[str]] = {}
    for dataset, columns in values:
        found.setdefault(dataset, []).extend(columns)
    return found
