"""Bot API tokens: random, shown once, stored as SHA-256 (SPEC §7)."""

import secrets

from guards.models import ApiToken

PREFIX = "tb_"


def issue_token(*, user, name: str = "") -> tuple[str, ApiToken]:
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name, prefix=token[:10], token_hash=ApiToken.hash(token))
    return token, row
