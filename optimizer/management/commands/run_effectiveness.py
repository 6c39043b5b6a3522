from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guards.retention import retention_days
from optimizer.effectiveness import report_table, run_effectiveness, window_days


class Command(BaseCommand):
    help = "Measure every guard now: signals checked, blocks, and what the blocked signals would have made."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help=f"how many days back to look (default {window_days()})"
        )

    def handle(self, *, days, **options):
        if days is not None and days <= 0:
            raise CommandError("--days must be a positive number of days")
        if days is not None and days > retention_days():
            raise CommandError(f"--days must not exceed RETENTION_DAYS ({retention_days()}): older history is pruned")
        run = run_effectiveness(now=timezone.now(), days=days)
        self.stdout.write(report_table(run))
