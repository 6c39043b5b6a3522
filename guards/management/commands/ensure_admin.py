"""Create the local `admin` superuser on first run and print its login (embedded default)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the superuser `admin` if it is missing and print 'admin / <password>' (kept in var/admin_password). "
        "An existing admin's password is never changed."
    )

    def handle(self, *args, **options):
        password_file = settings.VAR_DIR / "admin_password"
        User = get_user_model()
        user = User.objects.filter(username="admin").first()
        if user is None:
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser("admin", "admin@localhost", password)
            password_file.write_text(password)
            password_file.chmod(0o600)
            self.stdout.write(f"admin / {password}")
            return
        known = password_file.read_text().strip() if password_file.exists() else ""
        if known and user.check_password(known):
            self.stdout.write(f"admin / {known}")
        else:  # changed since, or created elsewhere: never print a stale password, never reset one
            self.stdout.write("admin / (your password; `manage.py changepassword admin` sets a new one)")
