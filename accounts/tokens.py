"""API keys: how one is made and how a presented one is recognised. No key is stored."""

import hashlib
import secrets

from django.utils.crypto import constant_time_compare

from accounts.models import ApiToken, User

KEY_BYTES = 32
HINT_LENGTH = len(ApiToken.PREFIX) + 6


def key_generate() -> str:
    return ApiToken.PREFIX + secrets.token_urlsafe(KEY_BYTES)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def password_is_unchanged(*, token: ApiToken, user: User) -> bool:
    """Whether the user still has the password the token was made with (SECRET_KEY_FALLBACKS
    included, as for sessions)."""
    current = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(token.password_hash, value) for value in current)
