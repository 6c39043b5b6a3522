"""Filters the dashboard's pages share: money, ages and the navigation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def usd(value: Any) -> str:
    """$1,234,567 (whole dollars); a signed figure keeps its sign: -$12,000."""
    if value is None or value == "":
        return "–"
    amount = Decimal(str(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.0f}"


@register.filter
def signed_usd(value: Any) -> str:
    """+$1,234 or -$1,234 (a CVD's direction at a glance)."""
    if value is None or value == "":
        return "–"
    return ("+" if Decimal(str(value)) > 0 else "") + usd(value)


@register.filter
def price(value: Any) -> str:
    """101,000.00: a price with thousands separators and two decimals (more below 1)."""
    if value is None or value == "":
        return "–"
    amount = Decimal(str(value))
    return f"{amount:,.2f}" if abs(amount) >= 1 else f"{amount:,.6f}"


@register.filter
def number(value: Any) -> str:
    """1,200: a whole count with thousands separators."""
    return "–" if value is None or value == "" else f"{int(value):,}"


@register.filter
def age(seconds: int | None) -> str:
    """45 s, 12 min, 3 h 05 min, 2 d 4 h; 'never' for no data."""
    if seconds is None:
        return "never"
    if seconds < 0:
        return "in the future"
    if seconds < 90:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 90:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{hours // 24} d {hours % 24} h"


@register.simple_tag(takes_context=True)
def nav_link(context: template.Context, path: str, label: str) -> str:
    """A navigation link, marked as the current page when the request's path is under `path`."""
    request = context.get("request")
    current = request is not None and (request.path == path if path == "/" else request.path.startswith(path))
    marker = mark_safe(' class="current" aria-current="page"') if current else ""
    return format_html('<a href="{}"{}>{}</a>', path, marker, label)
