"""Tokens encrypted at rest: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with key rotation.

``BATON_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated. The first encrypts; every one decrypts
(``MultiFernet``). To rotate: put a new key first and keep the old one after it, run ``baton workspace rekey``
(re-encrypts every stored token with the first key), then drop the old key.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenDecryptError(RuntimeError):
    """A stored token was encrypted with none of the configured keys (or was altered)."""


class TokenCipher:
    """Encrypts and decrypts the Slack tokens of the installation store."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, token: str | None) -> str | None:
        """The Fernet token of ``token`` under the first key (None stays None)."""
        return None if token is None else self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, stored: str | None) -> str | None:
        """The plaintext of a stored value, whichever configured key encrypted it."""
        if stored is None:
            return None
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise TokenDecryptError("a stored Slack token matches none of the keys in BATON_ENCRYPTION_KEY") from None

    def rotate(self, stored: str | None) -> str | None:
        """The same plaintext re-encrypted under the first key."""
        if stored is None:
            return None
        try:
            return self._fernet.rotate(stored.encode()).decode()
        except InvalidToken:
            raise TokenDecryptError("a stored Slack token matches none of the keys in BATON_ENCRYPTION_KEY") from None
