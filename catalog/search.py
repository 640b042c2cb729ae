"""Catalog search: one text per dataset (title, description, providing department, domain,
column names and their Chinese field names), matched by the words of a query.

A query is cut into words by jieba (its dictionary ships inside the package), so "门诊费用"
finds a dataset whose title says 门诊 and whose field names say 费用; every word must occur
(AND), and titles weigh more than field names, field names more than the rest."""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

MAX_QUERY = 200
MAX_WORDS = 12
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def document(name: str, title: str, description: str, department: str, domain: str,
             columns: list[str], field_names: dict[str, str]) -> str:
    """The text a dataset is found by (lower case; parts separated so words do not join)."""
    parts = [name, title, description, department, domain, *columns,
             *(field_names.get(c, "") for c in columns)]
    return " | ".join(p for p in parts if p).lower()


def words(query: str) -> list[str]:
    """The words of a query: split at spaces and punctuation, Chinese runs cut by jieba,
    lower case, each once, at most :data:`MAX_WORDS`."""
    found: list[str] = []
    for piece in _PUNCTUATION.split(query[:MAX_QUERY].lower()):
        if not piece:
            continue
        cut = _jieba().lcut(piece) if re.search(r"[\u4e00-\u9fff]", piece) else [piece]
        for word in cut:
            word = word.strip()
            if word and not _PUNCTUATION.fullmatch(word) and word not in found:
                found.append(word)
    return found[:MAX_WORDS]


def score(wanted: list[str], title: str, fields: str, text: str) -> int:
    """How well a dataset matches (0: not every word occurs)."""
    title, fields, text = title.lower(), fields.lower(), text.lower()
    total = 0
    for word in wanted:
        if word in title:
            total += 3
        elif word in fields:
            total += 2
        elif word in text:
            total += 1
        else:
            return 0
    return total
