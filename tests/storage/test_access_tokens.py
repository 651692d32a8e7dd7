from datetime import UTC, datetime, timedelta

from storage.access_tokens import credential_of, keep_token, lock_token, read_token
from storage.db import session_scope

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


async def test_a_token_is_kept_per_corp_and_secret_and_replaced(engine) -> None:
    app, other = credential_of("app-secret"), credential_of("kf-secret")
    assert app != other and "app-secret" not in app and len(app) == 64
    async with session_scope(engine) as session:
        assert await lock_token(session, corp_id="ww1", credential=app) is None
        await keep_token(
            session,
            corp_id="ww1",
            credential=app,
            token="A1",
            expires_at=T0 + timedelta(hours=2),
            fetched_at=T0,
        )
        await keep_token(
            session,
            corp_id="ww1",
            credential=other,
            token="K1",
            expires_at=T0 + timedelta(hours=2),
            fetched_at=T0,
        )
    async with session_scope(engine) as session:
        found = await lock_token(session, corp_id="ww1", credential=app)
        assert found is not None and found.token == "A1"
        assert found.expires_at == T0 + timedelta(hours=2)
        later = T0 + timedelta(hours=2)
        await keep_token(
            session,
            corp_id="ww1",
            credential=app,
            token="A2",
            expires_at=later + timedelta(hours=2),
            fetched_at=later,
        )
    async with session_scope(engine) as session:
        found = await read_token(session, corp_id="ww1", credential=app)
        assert found is not None and (found.token, found.fetched_at) == ("A2", later)
        kf = await read_token(session, corp_id="ww1", credential=other)
        assert kf is not None and kf.token == "K1"
        assert await read_token(session, corp_id="ww2", credential=app) is None
