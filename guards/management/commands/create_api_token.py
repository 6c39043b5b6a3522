from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from guards.tokens import issue_token


class Command(BaseCommand):
    help = "Create a bot API token for USERNAME and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label for the token, e.g. the bot's host")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}; create it first (createsuperuser or the admin)")
        token, _ = issue_token(user=user, name=name)
        self.stdout.write(token)
