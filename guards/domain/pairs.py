"""Exchange pair names (SPEC §8: symbols such as BTCUSDT), one rule for the API, the settings
and the commands."""

import re

PAIR = re.compile(r"[A-Z0-9]{2,20}")
NOT_A_PAIR = "is not an exchange pair name such as BTCUSDT (A-Z, 0-9)"


def normalise_pair(raw: str) -> str:
    """The pair as exchanges name it: blanks dropped, upper case. ValueError when it is not one."""
    pair = raw.strip().upper()
    if not PAIR.fullmatch(pair):
        raise ValueError(f"{raw!r} {NOT_A_PAIR}")
    return pair
