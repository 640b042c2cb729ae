"""Presidio's spaCy NLP engine on blank pipelines: no trained model, nothing downloaded.

Chinese text is segmented into words by jieba (its dictionary ships inside the package) and
English by spaCy's rules. Blank pipelines have no lemmatizer, so each token's lemma is its
lower-cased text: that is what Presidio's context enhancer compares context words with, so
"身份证号" before a number raises a resident-ID match.
"""

from __future__ import annotations

import logging

import spacy
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

LANGUAGES = ("zh", "en")


@Language.component("tds_text_as_lemma")
def _text_as_lemma(doc: Doc) -> Doc:
    for token in doc:
        token.lemma_ = token.lower_
    return doc


def _pipeline(language: str) -> Language:
    if language == "zh":
        import jieba

        jieba.setLogLevel(logging.WARNING)
        nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    else:
        nlp = spacy.blank(language)
    nlp.add_pipe("tds_text_as_lemma")
    return nlp


class BlankNlpEngine(SpacyNlpEngine):
    """Tokens and lemmas for context words; no named-entity model (recognizers find PII)."""

    def __init__(self) -> None:
        super().__init__(models=[{"lang_code": lang, "model_name": f"blank:{lang}"}
                                 for lang in LANGUAGES])

    def load(self) -> None:
        self.nlp = {lang: _pipeline(lang) for lang in LANGUAGES}
