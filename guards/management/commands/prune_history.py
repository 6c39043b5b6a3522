from django.core.management.base import BaseCommand
from django.utils import timezone

from guards import retention


class Command(BaseCommand):
    help = (
        "Delete the history older than RETENTION_DAYS (decisions, guard events, snapshots, data-health "
        "records, whale-flow minutes, price bars) in short batches; beat runs it daily. "
        "Trades, parameters, the audit trail, runs and tokens are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")

    def handle(self, *args, dry_run=False, **options):
        days = retention.retention_days()
        report = retention.prune_history(now=timezone.now(), dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"History older than {days} days (before {report.cutoff:%Y-%m-%d %H:%M} UTC), {verb}:")
        tables = [t for t in retention.TABLES if t != retention.TRADES_UNLINKED]
        width = max(len(t) for t in tables)
        for table in tables:
            self.stdout.write(f"  {table:<{width}}  {report.rows[table]:>12,}")
        unlinked = report.rows[retention.TRADES_UNLINKED]
        self.stdout.write(
            f"Trades are kept; {unlinked:,} {'would lose' if dry_run else 'lost'} the link to their decision."
        )
