"""WeCom's callback encryption, as 企业微信 documents it ("加解密方案说明", WXBizMsgCrypt).

WeCom calls the app's callback URL with `msg_signature`, `timestamp` and `nonce` in the query
string: a GET with an `echostr` to verify the URL, then a POST per message or event whose XML
body carries an `Encrypt` text. Both are sealed the same way:

- msg_signature = SHA1 hex of the lexicographically sorted concatenation of the token, the
  timestamp, the nonce and the encrypted text;
- encrypted text = base64(AES-256-CBC(plaintext)), key = base64decode(EncodingAESKey + "="),
  IV = the key's first 16 bytes, PKCS#7 padding to a multiple of 32 bytes (WeCom's block, not
  AES's 16);
- plaintext = 16 random bytes + the message's length (4 bytes, big-endian) + the message (the
  inner XML, or the echostr) + the receive id (our corp id).

A passive reply is sealed the same way (`encrypt`), and so are the emulator's callbacks.

AES is the `cryptography` package's; XML is parsed only by `defusedxml` (no DTD, no entities),
since the body is untrusted until its signature and its receive id check.

Every refusal is a `Refused`, raised before anything is done, so the caller answers the request
and drops it: `SignatureMismatch`, `Stale` (timestamp outside the window), `Malformed` (bad base64,
bad padding, bad length, not XML), `WrongReceiver` (another corp id), `Replayed`.

Replays: the caller supplies a `ReplayGuard`. `MemoryReplayGuard` below serves tests and a single
process; a database-backed guard, shared by every instance, comes later with the channel
(issue 17). That guard needs the database, so `ReplayGuard.seen` is async, and so is `decrypt`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol
from xml.etree.ElementTree import Element, ParseError

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

BLOCK = 32  # WeCom pads to multiples of 32 bytes
DEFAULT_WINDOW = 300.0  # seconds a callback's timestamp may differ from our clock


class Refused(Exception):
    """A callback refused before anything was done: answer it and do nothing else."""


class SignatureMismatch(Refused):
    """msg_signature is not the SHA1 of our token, the timestamp, the nonce and the text."""


class Stale(Refused):
    """The timestamp is further from our clock than the window allows."""


class Malformed(Refused):
    """Bad base64, bad padding, bad length, not UTF-8, or not XML."""


class WrongReceiver(Refused):
    """Sealed for another receive id (corp id) than ours."""


class Replayed(Refused):
    """The replay guard has seen this callback before."""


class ReplayGuard(Protocol):
    async def seen(self, msg_signature: str, nonce: str, timestamp: str) -> bool:
        """True if this callback came before; otherwise remember it and return False."""
        ...


class MemoryReplayGuard:
    """Remembers the callbacks of the last `ttl` seconds in this process (tests, one instance).

    A timestamp is accepted within `window` either side of the clock, so a callback first seen
    at t can come again fresh until t + 2 * window: the default ttl covers the default window.
    """

    def __init__(
        self, ttl: float = 2 * DEFAULT_WINDOW, clock: Callable[[], float] = time.time
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._seen: OrderedDict[tuple[str, str, str], float] = OrderedDict()

    async def seen(self, msg_signature: str, nonce: str, timestamp: str) -> bool:
        now = self.clock()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= self.ttl:
                break
            del self._seen[oldest]
        key = (msg_signature, nonce, timestamp)
        if key in self._seen:
            return True
        self._seen[key] = now
        return False


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """WeCom's msg_signature: SHA1 hex of the four strings sorted and joined."""
    joined = "".join(sorted((token, timestamp, nonce, encrypted)))
    return hashlib.sha1(joined.encode()).hexdigest()


def parse_xml(text: str | bytes) -> Element:
    """Parse untrusted XML with defusedxml (no DTD, no entities), or raise Malformed."""
    try:
        return fromstring(text, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as error:
        raise Malformed(f"not XML: {error!r}") from error


class WeComCrypto:
    """Seals and opens WeCom callbacks for one token, EncodingAESKey and receive id."""

    def __init__(
        self,
        *,
        token: str,
        encoding_aes_key: str,
        receive_id: str,
        replay_guard: ReplayGuard,
        window: float = DEFAULT_WINDOW,
        clock: Callable[[], float] = time.time,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not token:
            raise ValueError("the WeCom token is empty")
        if len(encoding_aes_key) != 43:
            raise ValueError("the WeCom EncodingAESKey is not 43 characters long")
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as error:
            raise ValueError("the WeCom EncodingAESKey is not base64") from error
        self._token = token
        self._key = key
        self._receive_id = receive_id.encode()
        self.replay_guard = replay_guard
        self.window = window
        self.clock = clock
        self._random_bytes = random_bytes

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The plaintext echostr to answer WeCom's GET, which checks our callback URL.

        Pass the query values URL-decoded. No replay check: answering a repeated
        verification changes nothing.
        """
        self._check(msg_signature, timestamp, nonce, echostr)
        return _utf8(self._open(echostr))

    async def decrypt(
        self, msg_signature: str, timestamp: str, nonce: str, body: str | bytes
    ) -> str:
        """The inner XML of a POSTed callback, once signature, time, receiver and replay check."""
        encrypted = parse_xml(body).findtext("Encrypt")
        if not encrypted:
            raise Malformed("the body has no Encrypt")
        self._check(msg_signature, timestamp, nonce, encrypted)
        message = _utf8(self._open(encrypted))
        parse_xml(message)  # what is handed on is XML
        if await self.replay_guard.seen(msg_signature, nonce, timestamp):
            raise Replayed(f"callback {timestamp}/{nonce} came before")
        return message

    def encrypt(self, reply_xml: str, nonce: str, timestamp: str) -> str:
        """The outer XML (Encrypt, MsgSignature, TimeStamp, Nonce) that carries `reply_xml`."""
        if not (nonce.isascii() and nonce.isalnum()):
            raise ValueError("a nonce is letters and digits")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise ValueError("a timestamp is digits (seconds since the epoch)")
        message = reply_xml.encode()
        plain = self._random_bytes(16) + struct.pack(">I", len(message))
        padder = padding.PKCS7(BLOCK * 8).padder()
        padded = padder.update(plain + message + self._receive_id) + padder.finalize()
        encryptor = self._cipher().encryptor()
        sealed = encryptor.update(padded) + encryptor.finalize()
        encrypted = base64.b64encode(sealed).decode("ascii")
        signed = signature(self._token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signed}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )

    def _check(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = signature(self._token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), msg_signature.encode()):
            raise SignatureMismatch("msg_signature does not match")
        try:
            sent = int(timestamp)
        except ValueError as error:
            raise Malformed("the timestamp is not a number") from error
        if abs(self.clock() - sent) > self.window:
            raise Stale(f"timestamp {sent} is more than {self.window:g} s from now")

    def _open(self, encrypted: str) -> bytes:
        """The message inside `encrypted`, its receive id checked."""
        try:
            sealed = base64.b64decode(encrypted, validate=True)
        except binascii.Error as error:
            raise Malformed("the encrypted text is not base64") from error
        if not sealed or len(sealed) % BLOCK:
            raise Malformed("the encrypted text is not a whole number of 32-byte blocks")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(sealed) + decryptor.finalize()
        unpadder = padding.PKCS7(BLOCK * 8).unpadder()
        try:
            plain = unpadder.update(padded) + unpadder.finalize()
        except ValueError as error:
            raise Malformed("bad padding") from error
        if len(plain) < 20:
            raise Malformed("too short for the random bytes and the length")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise Malformed("the length runs past the end")
        if not hmac.compare_digest(plain[20 + length :], self._receive_id):
            raise WrongReceiver("sealed for another receive id")
        return plain[20 : 20 + length]

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))


def _utf8(message: bytes) -> str:
    try:
        return message.decode()
    except UnicodeDecodeError as error:
        raise Malformed("the message is not UTF-8") from error
