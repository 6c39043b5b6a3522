from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guards.domain.retention import retention_problem
from guards.retention import retention_days
from optimizer.effectiveness import report_table, run_effectiveness, window_days


class Command(BaseCommand):
    help = "Measure every guard now: signals checked, blocks, and what the blocked signals would have made."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help=f"how many days back to look (default {window_days()})"
        )

    def handle(self, *, days, **options):
        if days is not None and (problem := retention_problem(retention_days(), days, "--days")):
            raise CommandError(problem)
        run = run_effectiveness(now=timezone.now(), days=days)
        self.stdout.write(report_table(run))
