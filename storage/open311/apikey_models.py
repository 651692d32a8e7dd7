"""The keys that let another system (a hotline, a civic app) file cases through Open311."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.columns import NEVER_REUSE_IDS, UTCDateTime, _when


class ApiKey(SQLModel, table=True):
    """One client of the Open311 API. Only the key's SHA-256 is kept; revoked rows stay.

    Cases a key files are reported by `resident_id`, a Resident on channel "open311" whose
    external id is this key's id; `requests_filed` numbers them (the cases' source message id).
    """

    __tablename__ = "api_keys"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    resident_id: int | None = Field(default=None, foreign_key="residents.id")
    created_at: datetime = _when()
    created_by: str = Field(default="", max_length=64)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    requests_filed: int = 0
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
