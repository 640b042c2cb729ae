"""Languages of the console: gettext catalogs read through Babel, dates in the user's locale.

Message ids are English; ``locale/<lang>/LC_MESSAGES/messages.po`` holds the translations. The
``.po`` file is compiled in memory when first used, so there is no build step to run.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import io
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LANGUAGES = {"zh_CN": "中文", "en": "English"}
COOKIE = "tds_lang"

current: contextvars.ContextVar[str] = contextvars.ContextVar("tds_lang", default="zh_CN")


@cache
def catalog(lang: str) -> NullTranslations:
    """``lang``'s translations. English needs only labels for the domain's identifiers
    (``raw_exposure``: "Raw exposure"); other English messages are their own ids."""
    po = resources.files("service.web").joinpath(f"locale/{lang}/LC_MESSAGES/messages.po")
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as handle:
        messages = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, messages)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(message: str) -> str:
    return catalog(current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalog(current.get()).ngettext(singular, plural, n)


def _field(value: object) -> object:
    """A field of an error in words where it is a word of the domain (a role, a state, "output
    name"), also in a comma-separated list of them; data stays as it is."""
    if not isinstance(value, str) or not value:
        return value
    translated = gettext(value)
    if translated != value or ", " not in value:
        return translated
    return ", ".join(gettext(part) for part in value.split(", "))


class Said:
    """An error's sentence in the reader's language, worded when shown (a page sets its
    language as it renders): the template of a :class:`~policies.errors.DomainError` looked up
    in the catalog, its fields filled in. A template the catalog lacks stays English."""

    def __init__(self, error: Any) -> None:
        self.error = error

    def __str__(self) -> str:
        template, params = getattr(self.error, "template", None), getattr(self.error, "params", {})
        if template is None:
            return str(self.error)
        worded = gettext(template)
        if not params:
            return worded
        try:
            return worded.format(**{k: _field(v) for k, v in params.items()})
        except (KeyError, IndexError, ValueError, AttributeError):
            return self.error.message  # a broken translation never hides the error

    def __bool__(self) -> bool:
        return bool(str(self.error))


def choose(cookie: str | None, default: str) -> str:
    return cookie if cookie in LANGUAGES else default


def accepted(header: str | None) -> str | None:
    """The console's language a browser's ``Accept-Language`` prefers most, if any
    (``en-US,en;q=0.9,zh;q=0.8`` → ``en``; ``zh-TW`` counts as Chinese)."""
    ranked = []
    for n, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        code = {"zh": "zh_CN", "en": "en"}.get(primary)
        if code and weight > 0:
            ranked.append((-weight, n, code))
    return min(ranked)[2] if ranked else None


def when(value: dt.datetime | str | None, zone: str, with_time: bool = True) -> str:
    """A UTC time (naive or ISO text) shown in ``zone`` and the current language."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        # A plain date (a deadline) is a calendar day, not a moment: no time-zone shift.
        value = dt.date.fromisoformat(value) if len(value) == 10 else \
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        local = aware.astimezone(ZoneInfo(zone))
        if with_time:
            return format_datetime(local, "medium", locale=Locale.parse(current.get()))
        return format_date(local.date(), "medium", locale=Locale.parse(current.get()))
    return format_date(value, "medium", locale=Locale.parse(current.get()))


def number(value: Any) -> str:
    if value is None:
        return "—"
    return format_decimal(value, locale=Locale.parse(current.get()))
