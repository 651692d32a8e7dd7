"""WeCom's callback crypto against WeCom's own sample vectors, and every refusal."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.wecom.crypto import (
    Malformed,
    MemoryReplayGuard,
    Refused,
    Replayed,
    SignatureMismatch,
    Stale,
    WeComCrypto,
    WrongReceiver,
    signature,
)
from tests.bot.wecom.vectors import (
    BILLION_LAUGHS,
    DOC_AES_KEY,
    DOC_BODY,
    DOC_CORP_ID,
    DOC_ENCRYPT,
    DOC_NONCE,
    DOC_PLAINTEXT,
    DOC_SIGNATURE,
    DOC_TIMESTAMP,
    DOC_TOKEN,
    DOC_VERIFY_ECHO,
    DOC_VERIFY_QUERY,
    SDK_AES_KEY,
    SDK_BODY,
    SDK_CORP_ID,
    SDK_NONCE,
    SDK_PLAINTEXT,
    SDK_SIGNATURE,
    SDK_TIMESTAMP,
    SDK_TOKEN,
    SDK_VERIFY,
    SDK_VERIFY_ECHO,
)


class RecordingGuard(MemoryReplayGuard):
    """A memory guard that also lists what it was asked, to show a refusal touched nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, str, str]] = []

    async def seen(self, msg_signature: str, nonce: str, timestamp: str) -> bool:
        self.asked.append((msg_signature, nonce, timestamp))
        return await super().seen(msg_signature, nonce, timestamp)


def doc_crypto(
    *,
    receive_id: str = DOC_CORP_ID,
    now: float = float(DOC_TIMESTAMP),
    guard: MemoryReplayGuard | None = None,
    window: float = 300.0,
) -> WeComCrypto:
    return WeComCrypto(
        token=DOC_TOKEN,
        encoding_aes_key=DOC_AES_KEY,
        receive_id=receive_id,
        replay_guard=guard if guard is not None else MemoryReplayGuard(clock=lambda: now),
        window=window,
        clock=lambda: now,
    )


def random_prefix(encoding_aes_key: str, encrypted: str) -> bytes:
    """The 16 random bytes a sealed text starts with: its first AES block, decrypted."""
    key = base64.b64decode(encoding_aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    return decryptor.update(base64.b64decode(encrypted)[:16])


def reseal(encrypted: bytes) -> tuple[str, str]:
    """A changed ciphertext, base64 and signed with the right token (so only AES can tell)."""
    text = base64.b64encode(encrypted).decode()
    return text, signature(DOC_TOKEN, DOC_TIMESTAMP, DOC_NONCE, text)


def body(encrypted: str) -> str:
    return f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"


# --- the official vectors ---


def test_signature_of_the_documented_callback() -> None:
    assert signature(DOC_TOKEN, DOC_TIMESTAMP, DOC_NONCE, DOC_ENCRYPT) == DOC_SIGNATURE


def test_verify_url_with_the_documented_settings() -> None:
    query = {name: values[0] for name, values in parse_qs(DOC_VERIFY_QUERY).items()}
    crypto = doc_crypto(now=float(query["timestamp"]))
    echo = crypto.verify_url(
        query["msg_signature"], query["timestamp"], query["nonce"], query["echostr"]
    )
    assert echo == DOC_VERIFY_ECHO


async def test_decrypt_the_documented_callback() -> None:
    crypto = doc_crypto()
    assert await crypto.decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_BODY) == DOC_PLAINTEXT


async def test_decrypt_takes_the_body_as_bytes_too() -> None:
    crypto = doc_crypto()
    post = DOC_BODY.encode()
    assert await crypto.decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, post) == DOC_PLAINTEXT


def test_encrypt_reproduces_the_documented_callback() -> None:
    # WeCom's sealed text starts with 16 random bytes; given the same ones, encrypt must give
    # the document's ciphertext and signature byte for byte.
    prefix = random_prefix(DOC_AES_KEY, DOC_ENCRYPT)
    crypto = WeComCrypto(
        token=DOC_TOKEN,
        encoding_aes_key=DOC_AES_KEY,
        receive_id=DOC_CORP_ID,
        replay_guard=MemoryReplayGuard(),
        random_bytes=lambda n: prefix[:n],
    )
    outer = fromstring(crypto.encrypt(DOC_PLAINTEXT, DOC_NONCE, DOC_TIMESTAMP))
    assert outer.findtext("Encrypt") == DOC_ENCRYPT
    assert outer.findtext("MsgSignature") == DOC_SIGNATURE
    assert outer.findtext("TimeStamp") == DOC_TIMESTAMP
    assert outer.findtext("Nonce") == DOC_NONCE


def sdk_crypto(now: float) -> WeComCrypto:
    return WeComCrypto(
        token=SDK_TOKEN,
        encoding_aes_key=SDK_AES_KEY,
        receive_id=SDK_CORP_ID,
        replay_guard=MemoryReplayGuard(),
        clock=lambda: now,
    )


def test_verify_url_of_the_python_sample() -> None:
    crypto = sdk_crypto(float(SDK_VERIFY[1]))
    assert crypto.verify_url(*SDK_VERIFY) == SDK_VERIFY_ECHO


async def test_decrypt_the_python_sample() -> None:
    crypto = sdk_crypto(float(SDK_TIMESTAMP))
    message = await crypto.decrypt(SDK_SIGNATURE, SDK_TIMESTAMP, SDK_NONCE, SDK_BODY)
    assert message == SDK_PLAINTEXT


# --- round trip ---


async def test_encrypt_then_decrypt_round_trips() -> None:
    crypto = doc_crypto(now=1_700_000_000)
    reply = "<xml><Content><![CDATA[收到，已转给物业。]]></Content></xml>"
    outer = fromstring(crypto.encrypt(reply, "n0nce", "1700000042"))
    assert outer.findtext("TimeStamp") == "1700000042"
    signed = outer.findtext("MsgSignature")
    encrypted = outer.findtext("Encrypt")
    assert signed and encrypted
    message = await crypto.decrypt(signed, "1700000042", "n0nce", body(encrypted))
    assert message == reply


async def test_two_encryptions_differ_and_both_open() -> None:
    crypto = doc_crypto(now=1_700_000_000)
    first = fromstring(crypto.encrypt("<xml/>", "a1", "1700000000"))
    second = fromstring(crypto.encrypt("<xml/>", "a2", "1700000000"))
    assert first.findtext("Encrypt") != second.findtext("Encrypt")
    for outer, nonce in ((first, "a1"), (second, "a2")):
        signed, encrypted = outer.findtext("MsgSignature"), outer.findtext("Encrypt")
        assert signed and encrypted
        assert await crypto.decrypt(signed, "1700000000", nonce, body(encrypted)) == "<xml/>"


# --- refusals: each one raised before the replay guard hears of the callback ---


async def test_a_forged_signature_is_refused_and_nothing_is_remembered() -> None:
    guard = RecordingGuard()
    crypto = doc_crypto(guard=guard)
    forged = "0" * 40
    with pytest.raises(SignatureMismatch):
        await crypto.decrypt(forged, DOC_TIMESTAMP, DOC_NONCE, DOC_BODY)
    with pytest.raises(SignatureMismatch):  # the signature covers the nonce
        await crypto.decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, "1372623150", DOC_BODY)
    with pytest.raises(SignatureMismatch):
        crypto.verify_url(forged, DOC_TIMESTAMP, DOC_NONCE, DOC_ENCRYPT)
    with pytest.raises(SignatureMismatch):  # not even ASCII
        await crypto.decrypt("签名", DOC_TIMESTAMP, DOC_NONCE, DOC_BODY)
    assert guard.asked == []
    # The genuine callback still goes through: the forgeries left no trace.
    assert await crypto.decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_BODY) == DOC_PLAINTEXT


async def test_another_corp_id_is_refused() -> None:
    guard = RecordingGuard()
    crypto = doc_crypto(receive_id="ww0000000000000000", guard=guard)
    with pytest.raises(WrongReceiver):
        await crypto.decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_BODY)
    with pytest.raises(WrongReceiver):
        crypto.verify_url(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_ENCRYPT)
    assert guard.asked == []


async def test_a_tampered_ciphertext_is_refused() -> None:
    guard = RecordingGuard()
    crypto = doc_crypto(guard=guard)
    sealed = bytearray(base64.b64decode(DOC_ENCRYPT))
    sealed[0] ^= 0x01  # block 1 -> flips the high byte of the length in block 2
    tampered = base64.b64encode(sealed).decode()
    with pytest.raises(SignatureMismatch):  # as it would arrive: under the old signature
        await crypto.decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, body(tampered))
    # Even re-signed by someone who has the token but not the key, AES gives it away.
    text, signed = reseal(bytes(sealed))
    with pytest.raises(Malformed, match="length"):
        await crypto.decrypt(signed, DOC_TIMESTAMP, DOC_NONCE, body(text))
    sealed = bytearray(base64.b64decode(DOC_ENCRYPT))
    sealed[-17] ^= 0x01  # the last byte of the next-to-last block -> the last padding byte
    text, signed = reseal(bytes(sealed))
    with pytest.raises(Malformed, match="padding"):
        await crypto.decrypt(signed, DOC_TIMESTAMP, DOC_NONCE, body(text))
    text, signed = reseal(base64.b64decode(DOC_ENCRYPT)[:-16])
    with pytest.raises(Malformed, match="32-byte"):
        await crypto.decrypt(signed, DOC_TIMESTAMP, DOC_NONCE, body(text))
    assert guard.asked == []


async def test_a_replayed_callback_is_refused() -> None:
    crypto = doc_crypto()
    assert await crypto.decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_BODY) == DOC_PLAINTEXT
    with pytest.raises(Replayed):
        await crypto.decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_BODY)


async def test_a_stale_timestamp_is_refused() -> None:
    sent = float(DOC_TIMESTAMP)
    for now in (sent + 301, sent - 301):
        guard = RecordingGuard()
        with pytest.raises(Stale):
            await doc_crypto(now=now, guard=guard).decrypt(
                DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_BODY
            )
        with pytest.raises(Stale):
            doc_crypto(now=now).verify_url(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_ENCRYPT)
        assert guard.asked == []
    for now in (sent + 300, sent - 300):  # the window's edges are inside
        crypto = doc_crypto(now=now)
        assert await crypto.decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_BODY)
    with pytest.raises(Stale):  # the window is a parameter
        await doc_crypto(now=sent + 61, window=60).decrypt(
            DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_BODY
        )


async def test_a_timestamp_that_is_not_a_number_is_malformed() -> None:
    crypto = doc_crypto()
    signed = signature(DOC_TOKEN, "yesterday", DOC_NONCE, DOC_ENCRYPT)
    with pytest.raises(Malformed, match="timestamp"):
        await crypto.decrypt(signed, "yesterday", DOC_NONCE, DOC_BODY)


@pytest.mark.parametrize(
    "post",
    [
        "not xml at all",
        "<xml><Encrypt>",
        "<xml><ToUserName>wx5823bf96d3bd56c7</ToUserName></xml>",
        "<xml><Encrypt></Encrypt></xml>",
    ],
)
async def test_a_body_without_an_encrypted_text_is_malformed(post: str) -> None:
    with pytest.raises(Malformed):
        await doc_crypto().decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, post)


async def test_bad_base64_is_malformed() -> None:
    crypto = doc_crypto()
    text = DOC_ENCRYPT[:40] + "!" + DOC_ENCRYPT[41:]
    signed = signature(DOC_TOKEN, DOC_TIMESTAMP, DOC_NONCE, text)
    with pytest.raises(Malformed, match="base64"):
        await crypto.decrypt(signed, DOC_TIMESTAMP, DOC_NONCE, body(text))


async def test_a_sealed_message_that_is_not_xml_is_malformed() -> None:
    guard = RecordingGuard()
    crypto = doc_crypto(now=1_700_000_000, guard=guard)
    outer = fromstring(crypto.encrypt("hello, not XML", "n1", "1700000000"))
    signed, encrypted = outer.findtext("MsgSignature"), outer.findtext("Encrypt")
    assert signed and encrypted
    with pytest.raises(Malformed, match="not XML"):
        await crypto.decrypt(signed, "1700000000", "n1", body(encrypted))
    assert guard.asked == []


async def test_an_xml_bomb_is_refused_by_defusedxml() -> None:
    with pytest.raises(Malformed) as refused:
        await doc_crypto().decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, BILLION_LAUGHS)
    assert isinstance(refused.value.__cause__, DefusedXmlException)


def test_every_refusal_is_a_refused() -> None:
    for refusal in (SignatureMismatch, Stale, Malformed, WrongReceiver, Replayed):
        assert issubclass(refusal, Refused)


# --- settings and inputs that are ours, not WeCom's ---


@pytest.mark.parametrize("key", ["", DOC_AES_KEY[:-1], DOC_AES_KEY + "A", DOC_AES_KEY[:-1] + "*"])
def test_a_bad_encoding_aes_key_is_a_setting_error(key: str) -> None:
    with pytest.raises(ValueError, match="EncodingAESKey"):
        WeComCrypto(
            token=DOC_TOKEN,
            encoding_aes_key=key,
            receive_id=DOC_CORP_ID,
            replay_guard=MemoryReplayGuard(),
        )


def test_an_empty_token_is_a_setting_error() -> None:
    with pytest.raises(ValueError, match="token"):
        WeComCrypto(
            token="",
            encoding_aes_key=DOC_AES_KEY,
            receive_id=DOC_CORP_ID,
            replay_guard=MemoryReplayGuard(),
        )


@pytest.mark.parametrize(("nonce", "timestamp"), [("a]]>b", "1"), ("", "1"), ("n", "1.5")])
def test_encrypt_refuses_a_nonce_or_timestamp_that_would_break_the_xml(
    nonce: str, timestamp: str
) -> None:
    with pytest.raises(ValueError):
        doc_crypto().encrypt("<xml/>", nonce, timestamp)


async def test_the_memory_guard_forgets_after_its_ttl() -> None:
    now = [1000.0]
    guard = MemoryReplayGuard(ttl=600, clock=lambda: now[0])
    assert not await guard.seen("s", "n", "1000")
    now[0] = 1600.0
    assert await guard.seen("s", "n", "1000")
    assert not await guard.seen("s2", "n", "1600")
    now[0] = 1601.0
    assert not await guard.seen("s", "n", "1000")  # forgotten: Stale refuses it by now
    assert await guard.seen("s2", "n", "1600")
