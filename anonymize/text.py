"""De-identification of free text with Presidio's anonymizer over our offline analyzer."""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

import pyarrow as pa
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from anonymize.analyzer import analyze_text
from anonymize.errors import OperatorError
from anonymize.operators import per_distinct

MODES = ("replace", "pseudonym")
TAG_HEX = 8  # a short keyed tag keeps mentions of one person linkable inside the grant


@cache
def _anonymizer() -> AnonymizerEngine:
    return AnonymizerEngine()


def redact_text(text: str, mode: str = "replace", key: bytes | None = None,
                language: str = "zh", threshold: float = 0.3) -> str:
    """``text`` with every identifier found replaced: by ``<ENTITY>`` or, in pseudonym mode,
    by ``<ENTITY:tag>`` where the tag is a keyed hash of the value."""
    if mode not in MODES:
        raise OperatorError("mode must be one of {modes}, not {mode!r}",
                            modes=', '.join(MODES), mode=mode)
    if mode == "pseudonym" and (key is None or len(key) < 16):
        raise OperatorError("pseudonym mode needs a key of at least 16 bytes")
    found = analyze_text(text, language=language, threshold=threshold)
    if not found:
        return text
    operators = {}
    for entity in {r.entity_type for r in found}:
        if mode == "replace":
            operators[entity] = OperatorConfig("replace", {"new_value": f"<{entity}>"})
        else:
            operators[entity] = OperatorConfig("custom", {"lambda": _tagger(entity, key)})
    return _anonymizer().anonymize(text=text, analyzer_results=found, operators=operators).text


def _tagger(entity: str, key: bytes):
    def tag(value: str) -> str:
        digest = hmac.new(key, f"{entity}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"<{entity}:{digest[:TAG_HEX]}>"
    return tag


def redact(values: pa.Array | pa.ChunkedArray, mode: str = "replace",
           key: bytes | None = None) -> pa.Array:
    """:func:`redact_text` over a column (each distinct value once)."""
    return per_distinct(values, lambda v: redact_text(str(v), mode, key))
