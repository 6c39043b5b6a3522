"""Reads: active parameters, the latest intel per input, as the guards see it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.dateparse import parse_datetime

from guards.domain import inputs
from guards.domain.clusters import LiquidationCluster
from guards.domain.cvd import FlowDetail, threshold_to_cents
from guards.domain.params import WHALE_THRESHOLD, Params, ParamValue
from guards.domain.types import Intel, Reading
from guards.models import InputAvailability, MarketSnapshot, ParameterVersion

# Read on every bot request, changed rarely: cached, and dropped on every change (guards/signals.py).
ACTIVE_PARAMETERS_KEY = "guards:active-parameters"
NOT_IN_PLAN_KEY = "guards:not-in-plan"
READ_MODEL_TTL_SECONDS = 60
ABSENT_TTL_SECONDS = 30


def active_parameters() -> Params:
    rows = cache.get(ACTIVE_PARAMETERS_KEY)
    if rows is None:
        rows = list(
            ParameterVersion.objects.filter(status=ParameterVersion.Status.ACTIVE).values_list(
                "parameter", "value", "version"
            )
        )
        cache.set(ACTIVE_PARAMETERS_KEY, rows, READ_MODEL_TTL_SECONDS)
    return Params({name: ParamValue(value, version) for name, value, version in rows})


def inputs_not_in_plan() -> dict[str, str]:
    """{input kind: plan it needs} for inputs the key's plan lacks."""
    found = cache.get(NOT_IN_PLAN_KEY)
    if found is None:
        found = dict(InputAvailability.objects.values_list("kind", "plan_required"))
        cache.set(NOT_IN_PLAN_KEY, found, READ_MODEL_TTL_SECONDS)
    return found


def snapshot_cache_key(symbol: str, kind: str) -> str:
    return f"intel:{kind}:{symbol}"


def latest_snapshot_payload(symbol: str, kind: str) -> dict[str, Any] | None:
    """The latest good snapshot of one input: from the cache, else from the snapshot table."""
    key_symbol = inputs.MARKET_WIDE_SYMBOL if kind in inputs.MARKET_WIDE else symbol
    payload = cache.get(snapshot_cache_key(key_symbol, kind))
    if payload is not None:
        return payload or None  # {} marks "no snapshot yet", so a missing input costs no query either
    row = MarketSnapshot.objects.filter(symbol=key_symbol, kind=kind).order_by("-fetched_at").first()
    if row is None:
        cache.set(snapshot_cache_key(key_symbol, kind), {}, ABSENT_TTL_SECONDS)  # store_snapshot replaces it
        return None
    return snapshot_payload(row)


def snapshot_payload(row: MarketSnapshot) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": row.source,
        "fetched_at": row.fetched_at.isoformat(),
        "derived": row.derived,
        "raw": row.raw,
    }


def intel_for(*, symbol: str, params: Params, kinds: tuple[str, ...] = inputs.ALL) -> Intel:
    """Everything the guards need for `symbol`, read from the cache or the latest snapshot rows.

    Never calls a market-data API (SPEC §2): fetching is the Celery tasks' job.
    """
    not_in_plan = inputs_not_in_plan()
    readings = {kind: _reading(symbol, kind, params, not_in_plan) for kind in kinds}
    return Intel(symbol, readings)


def _reading(symbol: str, kind: str, params: Params, not_in_plan: dict[str, str]) -> Reading:
    ttl = params.ttl_seconds(kind)
    if kind in not_in_plan:
        return Reading(None, None, ttl, problem=f"NOT_IN_PLAN (needs {not_in_plan[kind] or 'a higher plan'})")
    payload = latest_snapshot_payload(symbol, kind)
    if payload is None and kind in inputs.COINGLASS_INPUTS and _coinglass_not_configured():
        return Reading(None, None, ttl, problem="NOT_CONFIGURED (COINGLASS_API_KEY is not set)")
    if payload is None:
        return Reading(None, None, ttl)
    fetched_at = parse_datetime(payload["fetched_at"])
    try:
        value, detail = _PARSERS[kind](payload, params)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        problem = f"UNPARSEABLE ({type(exc).__name__}: {exc})"[:200]
        # The snapshot stays linked: a decision that failed open on it can still be replayed.
        return Reading(None, fetched_at, ttl, payload["source"], problem=problem, detail={"snapshot_id": payload["id"]})
    data_time = payload["derived"].get("data_time") if kind in inputs.AGED_BY_DATA_TIME else None
    return Reading(
        value,
        fetched_at,
        ttl,
        payload["source"],
        detail=detail | {"snapshot_id": payload["id"]},
        data_time=parse_datetime(data_time) if data_time else None,
    )


def _coinglass_not_configured() -> bool:
    return settings.MARKET_DATA == "live" and not settings.COINGLASS_API_KEY


def _whale_flow(payload: dict[str, Any], params: Params):
    """Split the stored flow detail at the active whale threshold (exact, SPEC §5.2); a snapshot
    of another window length is unusable (as a taker snapshot of another range is)."""
    window = payload["derived"].get("window_minutes")
    if window is not None and window != params.integer("whale_window_minutes"):
        raise ValueError(f"snapshot covers {window} min, the guard wants {params.integer('whale_window_minutes')}")
    detail = FlowDetail.from_json(payload["raw"]["detail"])
    return detail.split(threshold_to_cents(params.decimal(WHALE_THRESHOLD))), {"flow_detail": detail}


def _decimal_field(name: str):
    def parse(payload: dict[str, Any], params: Params):
        return Decimal(str(payload["derived"][name])), {}

    return parse


def _taker_share(payload: dict[str, Any], params: Params):
    """The buy share over the active `taker_window`; a snapshot of another window is unusable."""
    window = payload["derived"]["range"]
    if window != params.raw("taker_window"):
        raise ValueError(f"snapshot covers {window}, the guard wants {params.raw('taker_window')}")
    return Decimal(str(payload["derived"]["buy_share"])), {"range": window}


def _clusters(payload: dict[str, Any], params: Params):
    clusters = tuple(
        LiquidationCluster(Decimal(str(c["price"])), Decimal(str(c["intensity"])))
        for c in payload["derived"]["clusters"]
    )
    return clusters, {"current_price": payload["derived"].get("current_price")}


_PARSERS = {
    inputs.WHALE_FLOW: _whale_flow,
    inputs.FEAR_GREED: _decimal_field("value"),
    inputs.TAKER_FLOW: _taker_share,
    inputs.MAX_PAIN: _decimal_field("max_pain_price"),
    inputs.PRICE_BARS: _decimal_field("price"),
    inputs.LIQUIDATION: _clusters,
}
