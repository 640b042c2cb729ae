"""The data keys table: each key wrapped by the master key, until it is destroyed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.base import Base, utcnow


class DataKey(Base):
    __tablename__ = "vault_data_keys"
    __table_args__ = (UniqueConstraint("scope", "scope_id", name="uq_vault_key_scope"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))  # "dataset" | "grant"
    scope_id: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(16))  # keyed digest, not the key
    master_kid: Mapped[str] = mapped_column(String(16))  # the master key that wraps it
    wrapped: Mapped[str | None] = mapped_column(Text)  # base64(nonce | AES-GCM); None: destroyed
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    destroyed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    destroyed_reason: Mapped[str | None] = mapped_column(String(40))

    def as_dict(self) -> dict:
        return {"id": self.id, "scope": self.scope, "scope_id": self.scope_id,
                "fingerprint": self.fingerprint, "master_kid": self.master_kid,
                "created_at": self.created_at.isoformat() + "Z",
                "destroyed_at": self.destroyed_at.isoformat() + "Z" if self.destroyed_at
                else None, "destroyed_reason": self.destroyed_reason}
