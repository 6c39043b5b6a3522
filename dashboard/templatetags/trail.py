"""Filters of the audit trail and what-if pages: money to the cent, JSON as an operator reads it."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from guards.domain.params import SPECS

register = template.Library()


@register.filter
def cents(value: Any) -> str:
    """+$1,234.56 / -$0.40 / $0.00; '–' when unknown."""
    if value is None or value == "":
        return "–"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(value)
    sign = "+" if amount > 0 else "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,}"


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def shown_as(value: Any, parameter: str) -> str:
    """A parameter value in its unit (100,000 USD), as the admin shows it."""
    spec = SPECS.get(parameter)
    if isinstance(value, Decimal) and value.is_finite():  # a candidate typed in: shown as stored
        value = int(value) if value == value.to_integral_value() else float(value)
    return spec.display(value) if spec else str(value)


@register.filter
def percent(share: Any) -> str:
    """0.625 -> 62.5%; 'n/a' when there is none."""
    if share is None or share == "":
        return "n/a"
    return f"{Decimal(str(share)) * 100:.1f}%"
