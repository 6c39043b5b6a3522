"""Template context shared by every page (admin included)."""

from django.conf import settings


def market_data(request):
    """Where market data comes from, so every page can say when it is simulated (SPEC §2)."""
    return {"market_data_mode": settings.MARKET_DATA}
