import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guards import ingest

SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")


class Command(BaseCommand):
    help = "Fetch every market input once, now, through the shared rate limiter (SPEC §8)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--symbol",
            action="append",
            dest="symbols",
            metavar="S",
            help="exchange pair such as BTCUSDT; repeat for more (default: WATCHED_SYMBOLS)",
        )
        parser.add_argument("--force", action="store_true", help="fetch even inputs still fresh in the cache")

    def handle(self, *args, symbols=None, force=False, **options):
        symbols = [s.upper() for s in symbols] if symbols else settings.WATCHED_SYMBOLS
        if bad := [s for s in symbols if not SYMBOL.match(s)]:
            raise CommandError(f"--symbol {bad[0]!r} is not an exchange pair name such as BTCUSDT")
        report = ingest.fetch_intel(symbols=symbols, now=timezone.now(), force=force)
        self.stdout.write(report.summary())
