"""The `--symbol S` option the market-data commands share: repeatable, any case, checked."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError

from guards.domain.pairs import normalise_pair


def add_symbol_option(parser) -> None:
    parser.add_argument(
        "--symbol",
        action="append",
        dest="symbols",
        metavar="S",
        help="exchange pair such as BTCUSDT; repeat for more (default: WATCHED_SYMBOLS)",
    )


def chosen_symbols(symbols: list[str] | None) -> list[str]:
    """The pairs asked for, normalised, or WATCHED_SYMBOLS; a clear CommandError for a bad one."""
    try:
        return [normalise_pair(s) for s in symbols] if symbols else list(settings.WATCHED_SYMBOLS)
    except ValueError as exc:
        raise CommandError(f"--symbol {exc}") from None
