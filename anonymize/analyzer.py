"""Presidio's analyzer engine, fully offline: blank spaCy pipelines, our recognizers only."""

from __future__ import annotations

from functools import cache

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult

from anonymize.nlp import LANGUAGES, BlankNlpEngine
from anonymize.recognizers import RECOGNIZERS


@cache
def analyzer() -> AnalyzerEngine:
    # The registry is filled before the engine is built: an empty one would load English
    # defaults, some of which need a spaCy model or the network.
    registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for language in LANGUAGES:
        for cls in RECOGNIZERS:
            registry.add_recognizer(cls(supported_language=language))
    engine = BlankNlpEngine()
    engine.load()
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=list(LANGUAGES))


def analyze_text(text: str, language: str = "zh", threshold: float = 0.3) -> list[RecognizerResult]:
    """PII found in free text, with scores raised by context words."""
    return analyzer().analyze(text=text, language=language, score_threshold=threshold)
