"""Encrypted reasoning: the reasoning keys, and sealing reasoning text into `encrypted_content`.

Owns the key material and the token format. A key is 32 random bytes, configured as base64
(REASONING_KEYS: comma-separated; the first seals, every one opens). No message, repr or
error raised here ever contains a key or a token's plaintext.

Why AES-256-GCM (cryptography's AESGCM) and not Fernet/MultiFernet:

- a token must be bound to its tenant. GCM authenticates associated data natively: the
  tenant is never written into the token, and a token opened for another tenant fails the
  tag check exactly as a tampered one does. Fernet has no associated data (the tenant would
  have to travel inside the ciphertext and be compared after decryption);
- one keyed primitive with 256-bit keys (Fernet is AES-128-CBC plus HMAC-SHA256) and 37 bytes
  of overhead (Fernet: 57 plus CBC padding);
- rotation without trial decryption: each token names its key by a key id, so opening picks
  that key directly, where MultiFernet tries every key in turn.

Token, URL-safe base64 (with padding) of:

    version (1 byte, = 1) | key id (8 bytes) | nonce (12 bytes) | ciphertext | GCM tag (16)

- key id: the first 8 bytes of SHA-256("portico reasoning key id" NUL key). It names a key
  and reveals nothing about it.
- nonce: 12 random bytes per token. NIST SP 800-38D bounds random 96-bit nonces to 2^32
  tokens per key (billions of reasoning items); rotating the key starts a fresh count.
- associated data: "portico reasoning" NUL, then the version and key id (so neither can be
  swapped), then the tenant in UTF-8 ("" until authentication exists).
- plaintext: the reasoning text in UTF-8. Tokens carry no expiry: dropping a key from the
  setting retires every token it sealed.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
KEY_BYTES = 32
KEY_ID_BYTES = 8
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 1 + KEY_ID_BYTES
_AAD_LABEL = b"portico reasoning\x00"
_KEY_ID_LABEL = b"portico reasoning key id\x00"

KEYS_FORMAT = (
    "expects comma-separated base64 keys of 32 random bytes each "
    "(make one with: openssl rand -base64 32)"
)


class Unreadable(ValueError):
    """Encrypted content that does not open; the message says why, in a few words."""


def new_key() -> str:
    """A fresh random key, as the setting spells it."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def _b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional; binascii.Error/ValueError if not."""
    text = text.strip()
    text += "=" * (-len(text) % 4)
    return base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)


def parse_keys(text: str) -> list[bytes]:
    """The keys of a REASONING_KEYS value, in order ("" is none). A bad one is a ValueError
    that says which (by position), never what."""
    if not text.strip():
        return []
    keys = []
    for position, word in enumerate(text.split(","), 1):
        try:
            key = _b64decode(word) if word.strip() else b""
        except ValueError:  # bad base64 (binascii.Error), or a character outside ASCII
            key = b""
        if len(key) != KEY_BYTES:
            raise ValueError(f"{KEYS_FORMAT}; key {position} is not")
        keys.append(key)
    return keys


def check_keys(text: str) -> None:
    """The setting's check: ValueError (without the value) when `text` is not a key list."""
    parse_keys(text)


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(_KEY_ID_LABEL + key).digest()[:KEY_ID_BYTES]


class Sealer:
    """Seals with the first key; opens with any of them."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a Sealer needs at least one key")
        self._ciphers: dict[bytes, AESGCM] = {}
        for key in keys:
            self._ciphers.setdefault(key_id(key), AESGCM(key))
        self._current = key_id(keys[0])

    @classmethod
    def from_setting(cls, text: str) -> Sealer | None:
        """The sealer for a REASONING_KEYS value; None when it names no key."""
        keys = parse_keys(text)
        return cls(keys) if keys else None

    def __repr__(self) -> str:
        return f"Sealer({len(self._ciphers)} keys)"

    @staticmethod
    def _aad(header: bytes, tenant: str) -> bytes:
        return _AAD_LABEL + header + tenant.encode("utf-8", "surrogatepass")

    def seal(self, text: str, tenant: str) -> str:
        """`text` as a token that only this server's keys open, and only for `tenant`."""
        header = bytes([VERSION]) + self._current
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(
            nonce, text.encode("utf-8", "surrogatepass"), self._aad(header, tenant)
        )
        return base64.urlsafe_b64encode(header + nonce + sealed).decode("ascii")

    def open(self, token: str, tenant: str) -> str:
        """The text `token` seals for `tenant`; Unreadable when it does not open."""
        try:
            raw = _b64decode(token)
        except ValueError:
            raise Unreadable("it is not base64") from None
        if len(raw) < HEADER_BYTES + NONCE_BYTES + TAG_BYTES:
            raise Unreadable("it is too short (truncated?)")
        header, nonce, sealed = (
            raw[:HEADER_BYTES],
            raw[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES],
            raw[HEADER_BYTES + NONCE_BYTES :],
        )
        if header[0] != VERSION:
            raise Unreadable("its format version is unknown")
        cipher = self._ciphers.get(header[1:])
        if cipher is None:
            raise Unreadable("it was sealed with a key this server does not hold")
        try:
            plain = cipher.decrypt(nonce, sealed, self._aad(header, tenant))
        except InvalidTag:
            raise Unreadable(
                "it failed authentication (altered, truncated, or sealed for another tenant)"
            ) from None
        return plain.decode("utf-8", "surrogatepass")
