import json
import os
import sys
from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from optimizer.models import OptimizerRun
from optimizer.runs import to_json


class Command(BaseCommand):
    help = "Write the stored optimizer runs as JSON Lines (one run per line, oldest first) to stdout."

    def add_arguments(self, parser):
        parser.add_argument("--since", default=None, help="only runs at or after this ISO 8601 time (UTC if no zone)")

    def handle(self, *, since, **options):
        runs = OptimizerRun.objects.order_by("ran_at", "id")
        if since is not None:
            try:
                start = parse_datetime(since.strip())
            except ValueError:
                start = None
            if start is None:
                raise CommandError(f"--since {since!r} is not an ISO 8601 time, e.g. 2026-11-30T00:00:00Z")
            runs = runs.filter(ran_at__gte=make_aware(start, UTC) if is_naive(start) else start)
        try:
            for run in runs.iterator():
                self.stdout.write(json.dumps(to_json(run), sort_keys=True))
        except BrokenPipeError:  # `... | head`: the reader has what it wanted; no traceback at exit either
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
