"""How far each user has read and been e-mailed their notices (ledger sequence numbers)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from kernel.base import Base


class NoticeMark(Base):
    __tablename__ = "notices_marks"

    user_id: Mapped[int] = mapped_column(ForeignKey("service_users.id"), primary_key=True)
    read_seq: Mapped[int] = mapped_column(Integer, default=0)  # notices up to it were read
    mailed_seq: Mapped[int] = mapped_column(Integer, default=0)  # ... were e-mailed
