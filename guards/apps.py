from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GuardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "guards"

    def ready(self) -> None:
        from guards import checks, receivers  # noqa: F401 (checks registers itself)
        from guards.cache_keys import ensure_identity_after_migrate
        from guards.intel.schedule import install_schedule_after_migrate

        post_migrate.connect(install_schedule_after_migrate, sender=self)
        post_migrate.connect(ensure_identity_after_migrate, sender=self)
        receivers.connect()
