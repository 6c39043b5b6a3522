from django.core.management.base import BaseCommand
from django.utils import timezone

from guards.intel import ingest
from guards.management.symbols import add_symbol_option, chosen_symbols


class Command(BaseCommand):
    help = "Fetch every market input once, now, through the shared rate limiter."  # SPEC §8

    def add_arguments(self, parser):
        add_symbol_option(parser)
        parser.add_argument(
            "--force",
            action="store_true",
            help="fetch even inputs this database holds fresh or a source refused within their TTL",
        )

    def handle(self, *args, symbols=None, force=False, **options):
        report = ingest.fetch_intel(symbols=chosen_symbols(symbols), now=timezone.now(), force=force)
        self.stdout.write(report.summary())
