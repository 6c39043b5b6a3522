from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from optimizer.runs import PARAMETERS, run_optimizer, table_text


class Command(BaseCommand):
    help = "Run the optimizer once now: each parameter's candidate table, stored, and a proposal when worth one."

    def add_arguments(self, parser):
        parser.add_argument(
            "--parameter",
            choices=PARAMETERS,
            default=None,
            help="only this parameter (default: every replayable parameter, each its own run)",
        )

    def handle(self, *, parameter, **options):
        try:
            runs = run_optimizer(now=timezone.now(), parameters=[parameter] if parameter else PARAMETERS)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write("\n\n".join(table_text(run) for run in runs))
