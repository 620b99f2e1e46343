from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cabinet.core.db.base import Base
from cabinet.core.db.types import BigIntPK, UTCDateTime


class DataSession(Base):
    """A Data API session (``login.user``): lives one hour, ``logout.user`` deletes it.

    Only SHA-256 of the random session key is kept (the key has 256 random bits, so no salt or HMAC is needed).
    """

    __tablename__ = "data_session"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("company.id", ondelete="CASCADE"))
    token_version: Mapped[int] = mapped_column(BigInteger)  # the user's token version at login
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class EndedWebSession(Base):
    """A web session its person signed out of (``/ui/logout``): its token's ``jti`` is refused until the token
    would have expired anyway, then the row is pruned. Web session tokens are JWTs of their own type, accepted
    only by the web pages, so this lookup costs nothing on the APIs."""

    __tablename__ = "web_session_ended"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
