from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guards.domain.pairs import normalise_pair
from guards.intel import ingest


class Command(BaseCommand):
    help = "Fetch every market input once, now, through the shared rate limiter."  # SPEC §8

    def add_arguments(self, parser):
        parser.add_argument(
            "--symbol",
            action="append",
            dest="symbols",
            metavar="S",
            help="exchange pair such as BTCUSDT; repeat for more (default: WATCHED_SYMBOLS)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="fetch even inputs this database holds fresh or a source refused within their TTL",
        )

    def handle(self, *args, symbols=None, force=False, **options):
        try:
            symbols = [normalise_pair(s) for s in symbols] if symbols else settings.WATCHED_SYMBOLS
        except ValueError as exc:
            raise CommandError(f"--symbol {exc}") from None
        report = ingest.fetch_intel(symbols=symbols, now=timezone.now(), force=force)
        self.stdout.write(report.summary())
