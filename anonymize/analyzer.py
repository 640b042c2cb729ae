"""Presidio's analyzer engine, fully offline: blank spaCy pipelines, our recognizers only."""

from __future__ import annotations

from functools import cache

from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry, RecognizerResult

from anonymize.nlp import LANGUAGES, BlankNlpEngine
from anonymize.recognizers import RECOGNIZERS, TdsRecognizer


class PresidioRecognizer(PatternRecognizer):
    """One of our recognizers as Presidio's engine takes it: the same entity, patterns, context
    words and validation."""

    def __init__(self, recognizer: TdsRecognizer, language: str) -> None:
        self.recognizer = recognizer
        super().__init__(
            supported_entity=recognizer.ENTITY,
            name=type(recognizer).__name__,
            supported_language=language,
            patterns=[Pattern(name, regex, score) for name, regex, score in recognizer.PATTERNS],
            context=list(recognizer.CONTEXT),
        )

    def validate_result(self, pattern_text: str) -> bool | None:  # Presidio's hook
        return self.recognizer.valid(pattern_text)


def registry(languages: list[str]) -> RecognizerRegistry:
    """A Presidio registry holding our recognizers, and only them, for ``languages``."""
    # Filled before an engine is built: an empty registry would load English defaults, some of
    # which need a spaCy model or the network.
    found = RecognizerRegistry(supported_languages=languages)
    for language in languages:
        for cls in RECOGNIZERS:
            found.add_recognizer(PresidioRecognizer(cls(), language))
    return found


@cache
def analyzer() -> AnalyzerEngine:
    engine = BlankNlpEngine()
    engine.load()
    return AnalyzerEngine(registry=registry(list(LANGUAGES)), nlp_engine=engine,
                          supported_languages=list(LANGUAGES))


def analyze_text(text: str, language: str = "zh", threshold: float = 0.3) -> list[RecognizerResult]:
    """PII found in free text, with scores raised by context words."""
    return analyzer().analyze(text=text, language=language, score_threshold=threshold)
