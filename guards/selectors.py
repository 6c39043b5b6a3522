"""Reads: active parameters, the latest intel per input, as the guards see it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.dateparse import parse_datetime

from guards.domain import inputs
from guards.domain.clusters import LiquidationCluster
from guards.domain.cvd import FlowDetail, threshold_to_cents
from guards.domain.numbers import to_decimal
from guards.domain.params import DEFAULTS, WHALE_THRESHOLD, Params, ParamValue, ttl_parameter, validate_value
from guards.domain.types import Intel, Reading
from guards.intel import snapshots
from guards.models import InputAvailability, ParameterVersion

# Read on every bot request, changed rarely: cached, and dropped on every change (guards/receivers.py).
ACTIVE_PARAMETERS_KEY = "guards:active-parameters"
NOT_IN_PLAN_KEY = "guards:not-in-plan"
READ_MODEL_TTL_SECONDS = 60


def read_for_signal(symbol: str, kinds: Iterable[str]) -> dict[str, Any]:
    """Everything a decision on `symbol` reads from the cache, in ONE round trip (MGET): the active
    parameters, the not-in-plan list and the latest snapshot of each input in `kinds`. Pass it as
    `read` to the readers below; an entry it lacks (a miss, Redis down) is read as usual. The bot
    API keeps what it made of this read for at most GATE_REMEMBER_SECONDS (guards/gate_memory.py,
    docs/decisions.md)."""
    keys = [ACTIVE_PARAMETERS_KEY, NOT_IN_PLAN_KEY, *(snapshots.cache_key_for(symbol, kind) for kind in kinds)]
    found = cache.get_many(keys)
    return {key: found.get(key) for key in keys}


def active_parameters(read: dict[str, Any] | None = None) -> Params:
    """The active version of every parameter, each checked: a missing or malformed one is named
    in `Params.problems` (PARAMETER_MISSING, PARAMETER_INVALID) and whatever needs it fails open.
    Checked once when read from the table; the checked result is what the cache holds."""
    params = snapshots.cached(ACTIVE_PARAMETERS_KEY, read)
    if not isinstance(params, Params):  # missing, or an entry this code did not write
        rows = ParameterVersion.objects.filter(status=ParameterVersion.Status.ACTIVE).values_list(
            "parameter", "value", "version"
        )
        params = _checked(rows)
        cache.set(ACTIVE_PARAMETERS_KEY, params, READ_MODEL_TTL_SECONDS)
    return params


def _checked(rows) -> Params:
    active, problems = {}, {name: f"PARAMETER_MISSING ({name})" for name in DEFAULTS}
    for name, value, version in rows:
        problems.pop(name, None)
        try:
            active[name] = ParamValue(validate_value(name, value), version)
        except ValueError as exc:  # validate_value answers any JSON value with a ValueError
            active[name] = ParamValue(value, version)
            problems[name] = f"PARAMETER_INVALID ({name}: {exc})"[:200]
    return Params(active, problems)


def inputs_not_in_plan(read: dict[str, Any] | None = None) -> dict[str, str]:
    """{input kind: plan it needs} for inputs the key's plan lacks."""
    found = snapshots.cached(NOT_IN_PLAN_KEY, read)
    if found is None:
        found = dict(InputAvailability.objects.values_list("kind", "plan_required"))
        cache.set(NOT_IN_PLAN_KEY, found, READ_MODEL_TTL_SECONDS)
    return found


def intel_for(
    *, symbol: str, params: Params, kinds: tuple[str, ...] = inputs.ALL, read: dict[str, Any] | None = None
) -> Intel:
    """Everything the guards need for `symbol`, read from the cache or the latest snapshot rows.

    Never calls a market-data API (SPEC §2): fetching is the Celery tasks' job.
    """
    not_in_plan = inputs_not_in_plan(read)
    readings = {kind: _reading(symbol, kind, params, not_in_plan, read) for kind in kinds}
    return Intel(symbol, readings)


def _reading(symbol: str, kind: str, params: Params, not_in_plan: dict[str, str], read) -> Reading:
    ttl = params.ttl_seconds(kind)
    if kind in not_in_plan:
        return Reading(None, None, ttl, problem=f"NOT_IN_PLAN (needs {not_in_plan[kind] or 'a higher plan'})")
    if problem := params.problem(ttl_parameter(kind)):  # the TTL judges the data's age: without it, no data
        return Reading(None, None, ttl, problem=problem)
    payload = snapshots.latest_snapshot_payload(symbol, kind, read)
    if payload is None and kind in inputs.COINGLASS_INPUTS and _coinglass_not_configured():
        return Reading(None, None, ttl, problem="NOT_CONFIGURED (COINGLASS_API_KEY is not set)")
    if payload is None:
        return Reading(None, None, ttl)
    # The snapshot stays linked even when it fails to parse: a decision that failed open on it can be replayed.
    link = {"snapshot_id": snapshot_id} if (snapshot_id := _snapshot_id(payload.get("id"))) else {}
    source = payload["source"] if isinstance(payload.get("source"), str) else ""
    fetched_at = _aware_time(payload.get("fetched_at"))
    try:
        if fetched_at is None:
            raise ValueError(f"fetched_at {payload.get('fetched_at')!r} is not a time with a timezone")
        derived = _object(payload, "derived")
        value, detail = _PARSERS[kind](derived, payload, params)
        data_time = _data_time(derived) if kind in inputs.AGED_BY_DATA_TIME else None
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        problem = f"UNPARSEABLE ({type(exc).__name__}: {exc})"[:200]
        return Reading(None, fetched_at, ttl, source, problem=problem, detail=link)
    return Reading(value, fetched_at, ttl, source, detail=detail | link, data_time=data_time)


def _snapshot_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _aware_time(value: Any) -> datetime | None:
    """An ISO time with a timezone, or None for anything else (missing, naive, garbage)."""
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well-formed but impossible, e.g. month 13
        return None
    return parsed if parsed is not None and parsed.utcoffset() is not None else None


def _object(payload: dict[str, Any], name: str) -> dict[str, Any]:
    if not isinstance(found := payload.get(name), dict):
        raise TypeError(f"{name} is not an object")
    return found


def _data_time(derived: dict[str, Any]) -> datetime | None:
    if derived.get("data_time") is None:
        return None
    if (found := _aware_time(derived["data_time"])) is None:
        raise ValueError(f"data_time {derived['data_time']!r} is not a time with a timezone")
    return found


def _coinglass_not_configured() -> bool:
    return settings.MARKET_DATA == "live" and not settings.COINGLASS_API_KEY


def _whale_flow(derived: dict[str, Any], payload: dict[str, Any], params: Params):
    """Split the stored flow detail at the active whale threshold (exact, SPEC §5.2); a snapshot
    of another window length is unusable (as a taker snapshot of another range is)."""
    window = derived.get("window_minutes")
    if window is not None and window != params.integer("whale_window_minutes"):
        raise ValueError(f"snapshot covers {window} min, the guard wants {params.integer('whale_window_minutes')}")
    detail = FlowDetail.from_json(_object(payload, "raw")["detail"])
    return detail.split(threshold_to_cents(params.decimal(WHALE_THRESHOLD))), {"flow_detail": detail}


# What a stored number may be: finite, and in its range (a NaN or an index of 1e9 is damage, not data).
MAX_PRICE = Decimal("1e15")
MAX_INTENSITY_USD = Decimal("1e30")


def _bounded(value: Any, what: str, low: Decimal, high: Decimal, *, above_low: bool = False) -> Decimal:
    number = to_decimal(value, what)  # MalformedPayload (a ValueError) for bool, None, text, NaN, Infinity
    if number < low or (above_low and number == low) or number > high:
        raise ValueError(f"{what} {value!r} is outside {'(' if above_low else '['}{low}, {high}]")
    return number


def _number_field(name: str, low: Decimal, high: Decimal, *, above_low: bool = False):
    def parse(derived: dict[str, Any], payload: dict[str, Any], params: Params):
        return _bounded(derived[name], name, low, high, above_low=above_low), {}

    return parse


def _taker_share(derived: dict[str, Any], payload: dict[str, Any], params: Params):
    """The buy share over the active `taker_window`; a snapshot of another window is unusable."""
    window = derived["range"]
    if window != params.raw("taker_window"):
        raise ValueError(f"snapshot covers {window!r}, the guard wants {params.raw('taker_window')}")
    return _bounded(derived["buy_share"], "buy_share", Decimal(0), Decimal(1)), {"range": window}


def _clusters(derived: dict[str, Any], payload: dict[str, Any], params: Params):
    if not isinstance(derived["clusters"], list) or not all(isinstance(c, dict) for c in derived["clusters"]):
        raise TypeError("clusters is not a list of objects")
    clusters = tuple(
        LiquidationCluster(
            _bounded(c["price"], "cluster price", Decimal(0), MAX_PRICE, above_low=True),
            _bounded(c["intensity"], "cluster intensity", Decimal(0), MAX_INTENSITY_USD),
        )
        for c in derived["clusters"]
    )
    return clusters, {"current_price": _shown_price(derived.get("current_price"))}


def _shown_price(value: Any) -> str | None:
    """The heatmap's own price, shown beside the clusters and never computed with: a bad one is left out."""
    try:
        return str(_bounded(value, "current_price", Decimal(0), MAX_PRICE, above_low=True))
    except ValueError:
        return None


_PARSERS = {
    inputs.WHALE_FLOW: _whale_flow,
    inputs.FEAR_GREED: _number_field("value", Decimal(0), Decimal(100)),
    inputs.TAKER_FLOW: _taker_share,
    inputs.MAX_PAIN: _number_field("max_pain_price", Decimal(0), MAX_PRICE, above_low=True),
    inputs.PRICE_BARS: _number_field("price", Decimal(0), MAX_PRICE, above_low=True),
    inputs.LIQUIDATION: _clusters,
}
