"""Retention: whole months of the ledger sealed into Parquet with a signed manifest, and the
purge of archived months older than the policy's retention period.

A purge deletes the events' rows only: their Merkle leaves stay, so every checkpoint and proof
of the tree still verifies, and the month's manifest (count, last hash, month-end root, file
hash, signature) lets anyone check the archive file against what the platform signed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Column, DateTime, Integer, String, Table, Text, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.base import Base, on_rollback
from lineage.canonical import canonical_bytes
from lineage.errors import LedgerError
from lineage.events import LEDGER_ARCHIVED, LEDGER_PURGED
from lineage.ledger import LedgerEvent, append, stamp, stored_subtree
from lineage.signing import Signer, verify
from policies.roles import Actor

COLUMNS = ("seq", "time", "actor", "actor_id", "action", "subject", "payload", "prev_hash", "hash")


class ArchiveError(LedgerError):
    kind = "invalid"


# SQLite only (PostgreSQL's trigger asks a setting instead, migration 0005): a row here is the
# permit the purge trigger asks for; without it no ledger event can be deleted, so only
# archive.purge, which inserts and removes it in its transaction, ever can.
PURGE_PERMITS = Table("ledger_purge_permits", Base.metadata,
                      Column("id", Integer, primary_key=True))


class LedgerArchive(Base):
    __tablename__ = "ledger_archives"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    first_seq: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    root: Mapped[str] = mapped_column(String(64))  # Merkle root of events 1..last_seq
    sha256: Mapped[str] = mapped_column(String(64))  # of the Parquet file
    path: Mapped[str] = mapped_column(String(300))  # relative to the ledger directory
    manifest: Mapped[str] = mapped_column(Text)  # canonical JSON, as signed
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))
    archived_at: Mapped[dt.datetime] = mapped_column(DateTime)
    purged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "events": self.count, "root": self.root, "sha256": self.sha256,
                "path": self.path, "key_id": self.key_id,
                "archived_at": self.archived_at.isoformat(timespec="seconds") + "Z",
                "purged_at": self.purged_at.isoformat(timespec="seconds") + "Z"
                if self.purged_at else None}


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text_: str) -> Month:
        try:
            year, month = (int(p) for p in text_.split("-"))
            dt.date(year, month, 1)
        except ValueError as exc:
            raise ArchiveError(f"a month is written YYYY-MM, not {text_[:20]!r}") from exc
        return cls(year, month)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def archive(session: Session, actor: Actor, ledger_dir: Path, signer: Signer, origin: str,
            before: str, now: dt.datetime) -> list[dict[str, Any]]:
    """Seal every whole month before ``before`` (YYYY-MM) not sealed yet."""
    limit = Month.parse(before)
    this_month = Month(now.year, now.month)
    if limit.start > this_month.start:
        raise ArchiveError(f"only whole months can be archived: {before} is not over yet")
    done = set(session.scalars(select(LedgerArchive.month)))
    month_of = func.substr(LedgerEvent.time, 1, 7)
    rows = session.execute(select(month_of, func.min(LedgerEvent.seq), func.max(LedgerEvent.seq),
                                  func.count()).where(LedgerEvent.time < stamp(limit.start))
                           .group_by(month_of).order_by(month_of)).all()
    sealed = []
    for month, first, last, count in rows:
        if month in done:
            continue
        if last - first + 1 != count:
            raise ArchiveError(f"events of {month} are interleaved with other months' events "
                               "(a clock step?); they cannot be sealed as one range")
        sealed.append(_seal_month(session, actor, ledger_dir, signer, origin, month, first, last,
                                  now))
    return sealed


def _seal_month(session: Session, actor: Actor, ledger_dir: Path, signer: Signer, origin: str,
                month: str, first: int, last: int, now: dt.datetime) -> dict[str, Any]:
    columns = [getattr(LedgerEvent, c) for c in COLUMNS]
    rows = session.execute(select(*columns).where(LedgerEvent.seq.between(first, last))
                           .order_by(LedgerEvent.seq)).all()
    table = pa.table({name: [row[i] for row in rows] for i, name in enumerate(COLUMNS)})
    relative = Path("archive") / f"{month}.parquet"
    target = ledger_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise ArchiveError(f"archive file {relative} exists already; refusing to overwrite it")
    tmp = target.with_suffix(".tmp")
    pq.write_table(table, tmp)
    tmp.replace(target)
    on_rollback(session, lambda: target.unlink(missing_ok=True))
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    root = stored_subtree(session)(0, last).hex()
    manifest = {"type": "tds-ledger-archive", "origin": origin, "month": month,
                "first_seq": first, "last_seq": last, "count": len(rows),
                "last_hash": rows[-1][-1], "root": root, "file": relative.name, "sha256": digest}
    body = canonical_bytes(manifest)
    signature = signer.sign(body)
    manifest_path = target.with_suffix(".manifest.json")
    manifest_path.write_text(json.dumps({"manifest": manifest, "key_id": signer.key_id,
                                         "signature": signature}, ensure_ascii=False, indent=1),
                             encoding="utf-8")
    on_rollback(session, lambda: manifest_path.unlink(missing_ok=True))
    record = LedgerArchive(month=month, first_seq=first, last_seq=last, count=len(rows),
                           last_hash=rows[-1][-1], root=root, sha256=digest, path=str(relative),
                           manifest=body.decode("utf-8"), key_id=signer.key_id,
                           signature=signature, archived_at=now)
    session.add(record)
    append(session, actor, LEDGER_ARCHIVED, f"ledger_month:{month}", {
        "first_seq": first, "last_seq": last, "count": len(rows), "sha256": digest,
        "root": root})
    return record.as_dict()


def retained_until(month: str, retention_years: int) -> dt.datetime:
    end = Month.parse(month).next().start
    return end.replace(year=end.year + retention_years)


def purge(session: Session, actor: Actor, before: str, retention_years: int,
          now: dt.datetime) -> dict[str, Any]:
    """Delete the events of archived months before ``before`` whose retention has passed."""
    limit = Month.parse(before)
    months = list(session.scalars(select(LedgerArchive).where(
        LedgerArchive.month < str(limit), LedgerArchive.purged_at.is_(None))
        .order_by(LedgerArchive.month)))
    if not months:
        raise ArchiveError(f"no archived month before {before} is left to purge "
                           "(archive months first: tds ledger archive --before YYYY-MM)")
    young = [m for m in months if retained_until(m.month, retention_years) > now]
    if young:
        until = retained_until(young[0].month, retention_years)
        raise ArchiveError(f"events of {young[0].month} must be kept until {until:%Y-%m-%d} "
                           f"({retention_years}-year retention): they cannot be purged")
    _permit_deletion(session)
    deleted = 0
    for record in months:
        deleted += session.execute(LedgerEvent.__table__.delete().where(
            LedgerEvent.seq.between(record.first_seq, record.last_seq))).rowcount
        record.purged_at = now
    _end_permit(session)
    append(session, actor, LEDGER_PURGED, "ledger", {
        "months": [m.month for m in months], "events": deleted,
        "ranges": [[m.first_seq, m.last_seq] for m in months]})
    return {"months": [m.month for m in months], "events": deleted}


def _permit_deletion(session: Session) -> None:
    """Lift the append-only guard for this transaction only (see migration 0005)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL tds.ledger_purge = 'on'"))
    else:
        session.execute(text("INSERT INTO ledger_purge_permits (id) VALUES (1)"))


def _end_permit(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL tds.ledger_purge = 'off'"))
    else:
        session.execute(text("DELETE FROM ledger_purge_permits"))


def purged_ranges(session: Session) -> list[LedgerArchive]:
    return list(session.scalars(select(LedgerArchive).where(LedgerArchive.purged_at.is_not(None))
                                .order_by(LedgerArchive.first_seq)))


def manifest_signed(record: LedgerArchive, public: Ed25519PublicKey) -> bool:
    return verify(public, record.manifest.encode("utf-8"), record.signature)
