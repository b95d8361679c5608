"""sealing.py in-process: keys, the token format, rotation, and every way a token fails."""

from __future__ import annotations

import base64
import os

import pytest

from frontend import sealing
from frontend.config import BY_NAME, SettingError
from frontend.sealing import Sealer, Unreadable

OLD, NEW = os.urandom(32), os.urandom(32)
TEXT = "Let me think about this: 2 + 2 is 4. Émoji too: 🤔"


def opened(sealer: Sealer, token: str, tenant: str = "") -> str:
    return sealer.open(token, tenant)


def unreadable(sealer: Sealer, token: str, tenant: str = "") -> str:
    with pytest.raises(Unreadable) as caught:
        sealer.open(token, tenant)
    return str(caught.value)


def raw(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token))


def b64(data: bytes | bytearray) -> str:
    return base64.urlsafe_b64encode(bytes(data)).decode()


# --- round trip and format ---------------------------------------------------------------


def test_a_sealed_text_opens_to_itself() -> None:
    sealer = Sealer([NEW])
    token = sealer.seal(TEXT, "")
    assert opened(sealer, token) == TEXT
    assert TEXT.split()[0] not in token  # not plaintext, not plain base64 of it
    assert base64.b64encode(TEXT.encode()).decode()[:8] not in token


def test_the_token_is_url_safe_base64_of_version_key_id_nonce_and_sealed_text() -> None:
    sealer = Sealer([NEW])
    token = sealer.seal(TEXT, "")
    data = raw(token)
    assert data[0] == sealing.VERSION
    assert bytes(data[1:9]) == sealing.key_id(NEW)
    overhead = 1 + sealing.KEY_ID_BYTES + sealing.NONCE_BYTES + sealing.TAG_BYTES
    assert len(data) == len(TEXT.encode()) + overhead
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


def test_every_seal_uses_a_fresh_nonce() -> None:
    sealer = Sealer([NEW])
    assert sealer.seal(TEXT, "") != sealer.seal(TEXT, "")


def test_an_empty_text_and_a_lone_surrogate_survive() -> None:
    sealer = Sealer([NEW])
    assert opened(sealer, sealer.seal("", "")) == ""
    assert opened(sealer, sealer.seal("a\ud800b", "")) == "a\ud800b"


def test_the_key_id_names_the_key_without_revealing_it() -> None:
    assert sealing.key_id(NEW) != sealing.key_id(OLD)
    assert len(sealing.key_id(NEW)) == 8
    assert sealing.key_id(NEW) not in NEW


# --- rotation ----------------------------------------------------------------------------


def test_the_first_key_seals_and_an_older_second_key_still_opens() -> None:
    before = Sealer([OLD]).seal(TEXT, "t")
    rotated = Sealer([NEW, OLD])
    assert opened(rotated, before, "t") == TEXT
    after = rotated.seal(TEXT, "t")
    assert bytes(raw(after)[1:9]) == sealing.key_id(NEW)
    assert opened(Sealer([NEW]), after, "t") == TEXT


def test_a_retired_key_no_longer_opens() -> None:
    before = Sealer([OLD]).seal(TEXT, "")
    assert "key this server does not hold" in unreadable(Sealer([NEW]), before)


# --- failures ----------------------------------------------------------------------------


def test_another_tenants_token_fails() -> None:
    sealer = Sealer([NEW])
    token = sealer.seal(TEXT, "tenant-a")
    assert "authentication" in unreadable(sealer, token, "tenant-b")
    assert "authentication" in unreadable(sealer, token, "")


@pytest.mark.parametrize("position", [0, 5, 9, 21, 30, -1])
def test_any_flipped_bit_fails(position: int) -> None:
    sealer = Sealer([NEW])
    data = raw(sealer.seal(TEXT, ""))
    data[position] ^= 0x01
    unreadable(sealer, b64(data))


def test_a_truncated_token_fails() -> None:
    sealer = Sealer([NEW])
    data = raw(sealer.seal(TEXT, ""))
    assert "authentication" in unreadable(sealer, b64(data[:-1]))
    assert "too short" in unreadable(sealer, b64(data[:20]))
    assert "too short" in unreadable(sealer, "")


def test_a_header_swapped_to_another_held_key_fails() -> None:
    sealer = Sealer([NEW, OLD])
    data = raw(sealer.seal(TEXT, ""))
    data[1:9] = sealing.key_id(OLD)
    assert "authentication" in unreadable(sealer, b64(data))


def test_an_unknown_version_fails() -> None:
    sealer = Sealer([NEW])
    data = raw(sealer.seal(TEXT, ""))
    data[0] = 2
    assert "version" in unreadable(sealer, b64(data))


@pytest.mark.parametrize(
    "garbage",
    ["not base64 at all!", "gAAAAABpM0Yj-...=", "é" * 60, base64.b64encode(b"x" * 80).decode()],
)
def test_garbage_fails(garbage: str) -> None:
    message = unreadable(Sealer([NEW]), garbage)
    assert garbage not in message


def test_plain_base64_of_the_text_is_not_accepted() -> None:
    plain = base64.urlsafe_b64encode(TEXT.encode()).decode()
    unreadable(Sealer([NEW]), plain)


# --- keys as configured ------------------------------------------------------------------


def test_keys_parse_in_order_in_either_base64_alphabet_with_or_without_padding() -> None:
    standard = base64.b64encode(NEW).decode()
    urlsafe = base64.urlsafe_b64encode(OLD).decode().rstrip("=")
    assert sealing.parse_keys(f" {standard} ,{urlsafe}") == [NEW, OLD]
    assert sealing.parse_keys("") == sealing.parse_keys("  ") == []
    assert Sealer.from_setting("") is None
    assert repr(Sealer.from_setting(standard)) == "Sealer(1 keys)"


def test_a_new_key_is_32_random_bytes() -> None:
    first, second = sealing.new_key(), sealing.new_key()
    assert first != second
    assert [len(k) for k in sealing.parse_keys(f"{first},{second}")] == [32, 32]


@pytest.mark.parametrize(
    "value",
    [
        "c2VjcmV0",  # base64, but 6 bytes
        base64.b64encode(b"k" * 31).decode(),
        base64.b64encode(b"k" * 33).decode(),
        "not a key at all",
        sealing.new_key() + ",",
        sealing.new_key() + ",s3cr3t-kéy",
    ],
)
def test_a_bad_key_is_named_by_position_never_by_value(value: str) -> None:
    setting = BY_NAME["REASONING_KEYS"]
    with pytest.raises(SettingError) as caught:
        setting.parse(value, setting.env)
    message = str(caught.value)
    assert message.startswith("PORTICO_REASONING_KEYS expects comma-separated base64 keys")
    assert "key 1 is not" in message or "key 2 is not" in message
    for word in value.split(","):
        assert not word or word not in message


def test_a_good_key_list_is_the_settings_value() -> None:
    setting = BY_NAME["REASONING_KEYS"]
    value = f"{sealing.new_key()},{sealing.new_key()}"
    assert setting.parse(value) == value
