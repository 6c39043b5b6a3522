"""Bot API tokens: random, shown once, stored as SHA-256 (SPEC §7)."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from django.utils import timezone

from guards.models import ApiToken

PREFIX = "tb_"
# A valid token's user is remembered in each process for at most this long, so the gate costs no
# query per request, and a revoked token (or a deactivated user) is refused within a second.
REMEMBER_SECONDS = 1.0
LAST_USED_EVERY = timedelta(minutes=1)  # at most one write a minute per token
_remembered: dict[str, tuple[float, ApiToken]] = {}  # token hash -> (monotonic expiry, row with its user)


def issue_token(*, user, name: str = "") -> tuple[str, ApiToken]:
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name, prefix=token[:10], token_hash=ApiToken.hash(token))
    return token, row


def user_for(token: str):
    """The active user a live token belongs to, or None (unknown, revoked, user deactivated)."""
    digest = ApiToken.hash(token)
    found = _remembered.get(digest)
    if found is None or found[0] <= time.monotonic():
        found = _read(digest)
        if found is None:
            return None
    row = found[1]
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row.user


def _read(digest: str) -> tuple[float, ApiToken] | None:
    _remembered.pop(digest, None)
    row = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    if len(_remembered) > 10_000:  # a handful of bots in practice; never grows without bound
        _remembered.clear()
    found = _remembered[digest] = (time.monotonic() + REMEMBER_SECONDS, row)
    return found


def forget_tokens() -> None:
    """Drops this process's remembered tokens (a revocation here takes effect at once)."""
    _remembered.clear()
