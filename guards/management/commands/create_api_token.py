from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from guards.tokens import issue_token


class Command(BaseCommand):
    help = (
        "Print a new bot API token for USERNAME (created, without a password, if missing). "
        "Only the token's hash is stored: copy it now."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label for the token, e.g. the bot's host")

    def handle(self, *args, username, name, **options):
        username = username.strip()
        if not username or len(username) > 150:
            raise CommandError("USERNAME must be 1 to 150 characters")
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            self.stderr.write(f"created user {username!r} (no password: it signs in with tokens only)")
        elif not user.is_active:
            raise CommandError(f"user {username!r} is inactive; activate it in the admin first")
        token, _ = issue_token(user=user, name=name)
        self.stdout.write(token)
