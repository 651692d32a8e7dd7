"""`GET /cgi-bin/gettoken` and the access_token check every other call makes.

WeCom's 获取access_token (developer.work.weixin.qq.com/document/path/91039): `corpid` and
`corpsecret` in the query; the answer is `{"errcode": 0, "errmsg": "ok", "access_token": ...,
"expires_in": 7200}`. "access_token的有效期通过返回的expires_in来传达，正常情况下为7200秒（2小时），
有效期内重复获取返回相同结果，过期后获取会返回新的access_token" and "企业微信可能会出于运营需要，
提前使access_token失效，开发者应实现access_token失效时重新获取的逻辑". So a second gettoken within
the validity gets the same token (`issued` does not grow), an expired one answers 42001 and a
token we never issued (or invalidated early) 40014.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from . import errors
from .errors import ApiError
from .limits import Clock

LIFETIME = 7200.0


@dataclass
class _Token:
    value: str
    secret: str
    expires_at: float


class Tokens:
    """The access tokens of one corp, per secret (the app's, the customer-service one...)."""

    def __init__(self, clock: Clock, corp_id: str, secrets_: set[str]) -> None:
        self.clock = clock
        self.corp_id = corp_id
        self.secrets = set(secrets_)
        self._by_value: dict[str, _Token] = {}
        self._current: dict[str, _Token] = {}  # secret -> its valid token
        self.issued = 0  # new tokens handed out
        self.calls = 0  # gettoken calls answered with a token

    def get(self, corp_id: str | None, secret: str | None) -> dict[str, object]:
        if not corp_id:
            raise ApiError(errors.MISSING_CORPID)
        if not secret:
            raise ApiError(errors.MISSING_SECRET)
        if corp_id != self.corp_id:
            raise ApiError(errors.INVALID_CORPID)
        if secret not in self.secrets:
            raise ApiError(errors.INVALID_SECRET)
        now = self.clock()
        token = self._current.get(secret)
        if token is None or token.expires_at <= now:
            token = _Token(secrets.token_urlsafe(48), secret, now + LIFETIME)
            self._current[secret] = token
            self._by_value[token.value] = token
            self.issued += 1
        self.calls += 1
        return errors.ok(access_token=token.value, expires_in=round(token.expires_at - now))

    def check(self, value: str | None) -> str:
        """The secret `value` was issued for; 41001, 40014 or 42001 otherwise."""
        if not value:
            raise ApiError(errors.MISSING_TOKEN)
        token = self._by_value.get(value)
        if token is None:
            raise ApiError(errors.INVALID_TOKEN)
        if token.expires_at <= self.clock():
            raise ApiError(errors.TOKEN_EXPIRED)
        return token.secret

    def invalidate(self, value: str | None = None) -> None:
        """WeCom ends a token early: `value`, or every token. Their next use answers 40014."""
        doomed = [value] if value is not None else list(self._by_value)
        for item in doomed:
            token = self._by_value.pop(item, None)
            if token is not None and self._current.get(token.secret) is token:
                del self._current[token.secret]

    def valid(self) -> list[str]:
        now = self.clock()
        return [t.value for t in self._by_value.values() if t.expires_at > now]
