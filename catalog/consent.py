"""Consent records of personal data used with consent (PIPL Art. 13-16; Measures Art. 25).

The providing department marks a dataset as used with consent and files its subjects' consents:
who (the value of the dataset's person key, kept only as a keyed digest), which columns the
consent covers, from when, until when, under which consent form. Real jobs of a grant then see
only the rows of persons whose consent is in force that day and covers every column the grant
holds of the dataset (:func:`covering`); a withdrawal or an expiry takes effect at the next job.
Jobs run before a withdrawal stay lawful (PIPL Art. 15): their outputs are not recalled. The
ledger records counts, ids and a digest of each batch, never a person."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from anonymize.operators import keyed_hex
from catalog import events
from catalog.datasets import get, get_provided
from catalog.errors import InvalidInput, NotFound
from catalog.files import read_table
from catalog.models import ConsentRecord, Dataset, consent_status, utcnow
from lineage import append
from policies import Actor, Policy, Role
from policies.permissions import Action, permit

# The columns of a consent file; ``subject`` is required, the others may be left empty.
FILE_COLUMNS = ("subject", "columns", "given_on", "expires_on", "reference")
STATUSES = ("active", "future", "expired", "withdrawn", "superseded")
REFERENCE_LENGTH = 100


def digest_key(secret: bytes, dataset: str) -> bytes:
    """The key of one dataset's consent digests: derived from the platform secret, so digests
    of two datasets cannot be linked, and no one without the secret can test a guess."""
    return hmac.new(secret, f"tds-consent:{dataset}".encode(), hashlib.sha256).digest()


def digest(key: bytes, value: object) -> str:
    """A person's digest: the keyed hash of the person key's value (the sandbox's stage
    computes the same over the dataset's column)."""
    return keyed_hex(key, value)


def _person_key(dataset: Dataset) -> str:
    key = dataset.latest.person_key()
    if key is None:
        raise InvalidInput("dataset {name!r} has no person key: mark the column that identifies "
                           "each person (tds dataset classify --person-key) before it is used "
                           "with consent", name=dataset.name)
    return key


def require(session: Session, actor: Actor, name: str, required: bool) -> Dataset:
    """Mark a dataset as used with consent (or not). Turning it on needs a person key; from the
    next job on, real jobs see only consenting persons' rows."""
    permit(actor, Action.CONSENT_MANAGE)
    dataset = get_provided(session, actor, name)
    if required:
        _person_key(dataset)
    if dataset.consent_required == required:
        return dataset
    dataset.consent_required = required
    append(session, actor, events.CONSENT_REQUIRED, f"dataset:{dataset.name}",
           {"dataset": dataset.name, "required": required,
            "person_key": dataset.latest.person_key()})
    return dataset


def _day(value: Any, field: str, row: int, default: dt.date | None) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput("row {row} of the consent file: {field} must be a date like "
                           "2026-12-31, not {value!r}", row=row, field=field,
                           value=str(value)[:20]) from None


def _scope(value: Any, known: list[str], row: int) -> list[str] | None:
    if value is None or (isinstance(value, str) and value.strip() in ("", "*")):
        return None
    parts = value if isinstance(value, list) else str(value).replace(";", " ").replace(",", " "
                                                                                  ).split()
    chosen = sorted({str(p).strip() for p in parts if str(p).strip()})
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise InvalidInput("row {row} of the consent file: the dataset has no column {column!r}",
                           row=row, column=unknown[0][:80])
    return chosen or None


def record(session: Session, actor: Actor, policy: Policy, key: bytes, name: str,
           rows: list[dict[str, Any]]) -> dict[str, Any]:
    """File consents (``rows``: :data:`FILE_COLUMNS`). A person's newer consent supersedes the
    one in force. Every row is checked before any is stored: one bad row refuses the batch."""
    permit(actor, Action.CONSENT_MANAGE)
    dataset = get_provided(session, actor, name)
    if not rows:
        raise InvalidInput("the consent file has no rows")
    if len(rows) > policy.catalog.max_consent_rows:
        raise InvalidInput("one upload holds at most {most} consents, not {count}",
                           most=policy.catalog.max_consent_rows, count=len(rows))
    known = dataset.latest.column_names
    today = utcnow().date()
    made: dict[str, ConsentRecord] = {}
    for number, row in enumerate(rows, start=1):
        value = row.get("subject")
        if value is None or not str(value).strip():
            raise InvalidInput("row {row} of the consent file has no subject", row=number)
        given = _day(row.get("given_on"), "given_on", number, today)
        expires = _day(row.get("expires_on"), "expires_on", number, None)
        scope = _scope(row.get("columns"), known, number)
        reference = str(row.get("reference") or "").strip()
        if len(reference) > REFERENCE_LENGTH or not reference.isprintable():
            raise InvalidInput("row {row} of the consent file: a reference is at most {most} "
                               "printable characters", row=number, most=REFERENCE_LENGTH)
        if given > today:
            raise InvalidInput("row {row} of the consent file: a consent is recorded once "
                               "given, not before", row=number)
        if expires is not None and expires < given:
            raise InvalidInput("row {row} of the consent file ends before it begins", row=number)
        subject = digest(key, value)
        made[subject] = ConsentRecord(dataset=dataset, subject=subject, columns=scope,
                                      reference=reference, given_on=given, expires_on=expires,
                                      recorded_by=actor.id)  # a later row of a person wins
    now = utcnow()
    superseded = 0
    for chunk in _chunks(sorted(made)):
        superseded += session.execute(
            update(ConsentRecord)
            .where(ConsentRecord.dataset_id == dataset.id, ConsentRecord.subject.in_(chunk),
                   ConsentRecord.ended_at.is_(None))
            .values(ended_at=now, end_reason="superseded")).rowcount or 0
    session.add_all(made.values())
    session.flush()
    batch = hashlib.sha256("\n".join(sorted(made)).encode()).hexdigest()
    append(session, actor, events.CONSENT_RECORDED, f"dataset:{dataset.name}",
           {"dataset": dataset.name, "records": len(made), "superseded": superseded,
            "batch_sha256": batch,
            "first_id": min(r.id for r in made.values()),
            "last_id": max(r.id for r in made.values())})
    return {"dataset": dataset.name, "recorded": len(made), "superseded": superseded,
            "batch_sha256": batch}


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def read_file(path: Path, most: int) -> list[dict[str, Any]]:
    """The rows of a consent file (CSV in UTF-8 or GB18030, or Parquet), as text; a file of
    more than ``most`` rows is refused before its rows become Python objects."""
    table = read_table(path)
    if table.num_rows > most:
        raise InvalidInput("one upload holds at most {most} consents, not {count}",
                           most=most, count=table.num_rows)
    if "subject" not in table.column_names:
        raise InvalidInput("a consent file has the columns {columns}; {column!r} is missing",
                           columns=", ".join(FILE_COLUMNS), column="subject")
    extra = [c for c in table.column_names if c not in FILE_COLUMNS]
    if extra:
        raise InvalidInput("a consent file has the columns {columns}, not {column!r}",
                           columns=", ".join(FILE_COLUMNS), column=extra[0][:80])
    table = table.cast(pa.schema([pa.field(c, pa.string()) for c in table.column_names]))
    return table.to_pylist()


def withdraw(session: Session, actor: Actor, key: bytes, name: str,
             subjects: list[str] | None = None, ids: list[int] | None = None) -> dict[str, Any]:
    """End consents by the person key's values or by record id; from the next job on, those
    persons' rows are out of every grant's view. Jobs already run are not undone."""
    permit(actor, Action.CONSENT_MANAGE)
    dataset = get_provided(session, actor, name)
    wanted = [digest(key, s) for s in subjects or [] if str(s).strip()]
    if not wanted and not ids:
        raise InvalidInput("name the persons (person key values) or the consent ids to withdraw")
    query = select(ConsentRecord).where(ConsentRecord.dataset_id == dataset.id,
                                        ConsentRecord.ended_at.is_(None))
    found: list[ConsentRecord] = []
    for chunk in _chunks(wanted):
        found += session.scalars(query.where(ConsentRecord.subject.in_(chunk)))
    if ids:
        found += session.scalars(query.where(ConsentRecord.id.in_([int(i) for i in ids])))
    found = list({r.id: r for r in found}.values())
    if not found:
        raise NotFound("no consent in force of those persons in dataset {name!r}",
                       name=dataset.name)
    now = utcnow()
    for r in found:
        r.ended_at, r.end_reason = now, "withdrawn"
    append(session, actor, events.CONSENT_WITHDRAWN, f"dataset:{dataset.name}",
           {"dataset": dataset.name, "consent_ids": sorted(r.id for r in found)})
    return {"dataset": dataset.name, "withdrawn": len(found),
            "ids": sorted(r.id for r in found)}


def summary(session: Session, actor: Actor, name: str) -> dict[str, Any]:
    """How many consents of a dataset are in each state today."""
    permit(actor, Action.CONSENT_READ)
    dataset = _readable(session, actor, name)
    today = utcnow().date()
    counts = dict.fromkeys(STATUSES, 0)
    rows = session.execute(select(ConsentRecord.end_reason, ConsentRecord.given_on,
                                  ConsentRecord.expires_on)
                           .where(ConsentRecord.dataset_id == dataset.id))
    for reason, given, expires in rows:
        counts[consent_status(reason, given, expires, today)] += 1
    return {"dataset": dataset.name, "required": dataset.consent_required,
            "person_key": dataset.latest.person_key(), "counts": counts}


def search(session: Session, actor: Actor, name: str, status: str | None = None,
           limit: int = 100, before: int | None = None) -> list[ConsentRecord]:
    """A dataset's consent records, newest first (a page of ``limit``)."""
    permit(actor, Action.CONSENT_READ)
    dataset = _readable(session, actor, name)
    if status is not None and status not in STATUSES:
        raise InvalidInput("a consent's status is one of {statuses}, not {value!r}",
                           statuses=", ".join(STATUSES), value=str(status)[:20])
    query = select(ConsentRecord).where(ConsentRecord.dataset_id == dataset.id)
    today = utcnow().date()
    if status in ("withdrawn", "superseded"):
        query = query.where(ConsentRecord.end_reason == status)
    elif status is not None:
        query = query.where(ConsentRecord.end_reason.is_(None))
        if status == "future":
            query = query.where(ConsentRecord.given_on > today)
        elif status == "expired":
            query = query.where(ConsentRecord.expires_on < today)
        else:
            query = query.where(ConsentRecord.given_on <= today,
                                (ConsentRecord.expires_on.is_(None))
                                | (ConsentRecord.expires_on >= today))
    if before is not None:
        query = query.where(ConsentRecord.id < before)
    return list(session.scalars(query.order_by(ConsentRecord.id.desc()).limit(
        max(1, min(limit, 1000)))))


def _readable(session: Session, actor: Actor, name: str) -> Dataset:
    # Providers read their own datasets' consents; administrators and the regulator all.
    if actor.role in (Role.ADMIN, Role.REGULATOR):
        return get(session, name)
    return get_provided(session, actor, name)


def covering(session: Session, dataset: Dataset, columns: tuple[str, ...] | list[str],
             day: dt.date | None = None) -> list[str]:
    """Digests of the persons whose consent is in force on ``day`` and covers all ``columns``:
    the rows a real job of a grant holding those columns may see."""
    day = day or utcnow().date()
    rows = session.execute(
        select(ConsentRecord.subject, ConsentRecord.columns)
        .where(ConsentRecord.dataset_id == dataset.id, ConsentRecord.ended_at.is_(None),
               ConsentRecord.given_on <= day,
               (ConsentRecord.expires_on.is_(None)) | (ConsentRecord.expires_on >= day)))
    wanted = set(columns)
    return sorted(subject for subject, scope in rows
                  if scope is None or wanted <= set(scope))

