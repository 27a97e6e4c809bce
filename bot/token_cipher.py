"""Bot tokens at rest: Fernet-encrypted (``cryptography``) when ``DIGESTBOT_SECRET_KEY`` is set.

The key is one or more Fernet keys, comma-separated, newest first (``MultiFernet``): new tokens
are encrypted with the first, and every key listed still decrypts, so a key can be rotated by
putting the new one in front and dropping the old one once ``digestbot`` has re-saved the
tokens (a reinstall does). Generate a key with::

    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"

Without a key tokens are stored as they are, and the Slack adapter logs a warning once at start.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.errors import SlackConfigError

__all__ = ["TokenCipher"]

KEY_HELP = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class TokenCipher:
    """Encrypts and decrypts tokens; with no key, a pass-through that says so (``enabled``)."""

    def __init__(self, keys: str | None) -> None:
        self._fernet: MultiFernet | None = None
        if keys:
            try:
                fernets = [Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()]
            except ValueError:
                raise SlackConfigError(
                    "DIGESTBOT_SECRET_KEY must be a Fernet key (32 url-safe base64-encoded "
                    f"bytes; several comma-separated, newest first); make one with: {KEY_HELP}"
                ) from None
            self._fernet = MultiFernet(fernets)

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def encrypt(self, token: str) -> tuple[str, bool]:
        """``(stored value, encrypted?)``."""
        if self._fernet is None:
            return token, False
        return self._fernet.encrypt(token.encode()).decode("ascii"), True

    def decrypt(self, stored: str, encrypted: bool) -> str:
        if not encrypted:
            return stored
        if self._fernet is None:
            raise SlackConfigError(
                "the Slack bot tokens in the database are encrypted but DIGESTBOT_SECRET_KEY is "
                "not set: set it to the key they were stored with"
            )
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode()
        except InvalidToken:
            raise SlackConfigError(
                "DIGESTBOT_SECRET_KEY does not decrypt the stored Slack bot tokens: put the key "
                "they were stored with in the list (newest first, comma-separated)"
            ) from None
