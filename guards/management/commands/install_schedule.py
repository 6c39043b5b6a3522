from django.core.management.base import BaseCommand

from guards.intel.schedule import install_schedule


class Command(BaseCommand):
    help = (
        "Bring the Celery beat rows in line with WATCHED_SYMBOLS and the rate budget (migrate does this too). "
        "Rows an operator edited are kept unless --reset."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="also reset rows an operator has edited")

    def handle(self, *args, reset=False, **options):
        changed = install_schedule(replace=reset)
        self.stdout.write("\n".join(changed) if changed else "schedule already up to date")
