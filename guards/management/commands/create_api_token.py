from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from guards.models import ApiToken
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
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            raise CommandError("USERNAME may contain only letters, digits and @ . + - _") from None
        if len(name) > ApiToken._meta.get_field("name").max_length:
            raise CommandError(f"--name must be at most {ApiToken._meta.get_field('name').max_length} characters")
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            self.stderr.write(f"created user {username!r} (no password: it signs in with tokens only)")
        elif not user.is_active:
            raise CommandError(f"user {username!r} is inactive; activate it in the admin first")
        token, _ = issue_token(user=user, name=name)
        self.stdout.write(token)
