"""Per-input fetch functions: call the market, parse with the pure domain, return (derived, raw).

`derived` is what the guards read; `raw` is enough to recompute it (SPEC §2). Each function
raises a typed MarketDataError (or MalformedPayload) on failure; ingest.run_fetch records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import IntegrityError, transaction

from guards import selectors
from guards.domain import inputs
from guards.domain.clusters import clusters_to_json, find_clusters, parse_heatmap, top_clusters
from guards.domain.cvd import FlowDetail, TakerOrder, detail_floor_cents, group_taker_orders, threshold_to_cents
from guards.domain.numbers import coin_of
from guards.domain.params import WHALE_THRESHOLD
from guards.domain.sentiment import latest_fear_greed, nearest_max_pain, taker_buy_share
from guards.marketdata import errors
from guards.marketdata.sources import MarketData
from guards.models import PriceBar, TradeCursor, WhaleFlowBucket

MINUTE_MS = 60_000
BUCKET_RETENTION = timedelta(hours=25)  # the longest window (1440 min) plus its current minute, with room
HEATMAP_RANGE = "3d"
# How old a source's own latest timestamp may be before the fetch counts as stale. Only minute
# prices are judged: the daily Fear & Greed and the heatmap's candle interval vary too much
# by plan and range to call an old point wrong (their times are kept in `data_time`).
# Whale flow is judged by how far its reading has got: a backlog (more trades than a fetch may
# read) leaves the window's summary behind the market.
STALE_AFTER = {inputs.PRICE_BARS: timedelta(minutes=10), inputs.WHALE_FLOW: timedelta(minutes=10)}


def data_time_fields(kind: str, data_time: datetime, now: datetime) -> dict[str, str]:
    """The data's own time, and a note when it is older than the kind allows. Such an answer is
    still stored (it is what the source has) but the fetch is recorded as `stale`."""
    fields = {"data_time": data_time.isoformat()}
    if kind in STALE_AFTER and (age := now - data_time) > STALE_AFTER[kind]:
        fields["stale_reason"] = f"newest data point is {age} old (limit {STALE_AFTER[kind]})"
    return fields


# --- Whale and retail flow (aggTrades, incremental by fromId) ---------------------------------


@dataclass(frozen=True)
class NewOrders:
    """What one read of aggTrades found, and where the next read resumes."""

    orders: list[TakerOrder]  # complete taker orders, oldest first (the trailing one held back)
    resume_from: int | None  # aggregate id the next read starts at
    old_resume: int | None  # the cursor as this read found it (for the conditional update)
    caught_up: bool  # False: the page limit stopped the read before the present (a backlog)
    last_trade_ms: int | None  # time of the newest row read
    rewalked_from: datetime | None = None  # read by time from here: stored minutes from here are replaced


def fetch_whale_flow(*, market: MarketData, symbol: str, now: datetime) -> tuple[dict, dict]:
    """Read new aggTrades since the cursor, store them as minute buckets, summarise the window."""
    params = selectors.active_parameters()
    threshold_cents = threshold_to_cents(params.decimal(WHALE_THRESHOLD))
    window_start = _minute_floor(now) - timedelta(minutes=params.integer("whale_window_minutes"))
    source = market.source_of(inputs.WHALE_FLOW)
    read = _read_new_orders(market, symbol, source, window_start, now, settings.BINANCE_AGGTRADES_MAX_PAGES)
    _store_buckets(symbol, source, read, detail_floor_cents(threshold_cents), now)
    data_time = now if read.caught_up else _utc_ms(read.last_trade_ms or int(window_start.timestamp() * 1000))
    if not read.caught_up and data_time < window_start:
        _skip_backlog(symbol, read.resume_from)
    detail, minutes = _window_detail(symbol, source, window_start)
    split = detail.split(max(threshold_cents, detail.floor_cents))
    derived = split.as_usd() | {
        "window_start": window_start.isoformat(),
        "window_minutes": params.integer("whale_window_minutes"),
        "minutes_covered": minutes,
        "threshold_version": params.version(WHALE_THRESHOLD),
        "divergent": split.divergent,
        "caught_up": read.caught_up,
        **data_time_fields(inputs.WHALE_FLOW, data_time, now),
    }
    return derived, {"detail": detail.to_json(), "window_start": window_start.isoformat()}


def _read_new_orders(
    market, symbol: str, source: str, window_start: datetime, now: datetime, max_pages: int
) -> NewOrders:
    """Page forward from the cursor (or from the window start); hold back the trailing order,
    whose remaining fills may not be published yet, so grouping stays exact across fetches."""
    cursor = TradeCursor.objects.filter(symbol=symbol).first()
    old_resume = cursor.resume_from if cursor else None
    resume = old_resume if cursor and _cursor_usable(cursor, symbol, source, window_start, now) else None
    start_ms, now_ms = int(window_start.timestamp() * 1000), int(now.timestamp() * 1000)
    trades, page_from, caught_up = [], resume, False
    for _ in range(max_pages):
        if page_from is None:  # no cursor yet: walk the window by time spans (< 1 h each, Binance's rule)
            if start_ms > now_ms:
                caught_up = True
                break
            end_ms = min(start_ms + 3_600_000 - 1, now_ms)
            page = market.agg_trades(symbol, start_ms=start_ms, end_ms=end_ms)
            start_ms = end_ms + 1
            if len(page) < 1000 and end_ms == now_ms:
                trades.extend(page)
                caught_up = True
                break
        else:
            page = market.agg_trades(symbol, from_id=page_from)
            if len(page) < 1000:
                trades.extend(page)
                caught_up = True
                break
        trades.extend(page)
        page_from = page[-1].agg_id + 1 if page else None
    orders = group_taker_orders(trades)
    last_ms = trades[-1].time_ms if trades else None
    rewalked_from = window_start if resume is None else None
    if not orders:
        return NewOrders([], resume, old_resume, caught_up, last_ms, rewalked_from)
    return NewOrders(orders[:-1], orders[-1].first_agg_id, old_resume, caught_up, last_ms, rewalked_from)


def _cursor_usable(cursor: TradeCursor, symbol: str, source: str, window_start: datetime, now: datetime) -> bool:
    """A cursor counts if it was moved within the window (up to now) and points into the same market: after
    a switch between simulated and live, the other source's trade ids mean nothing."""
    if not window_start <= cursor.updated_at <= now:  # moved before the window, or by a later reading
        return False
    latest = WhaleFlowBucket.objects.filter(symbol=symbol).order_by("-minute_start").values_list("source", flat=True)
    return latest.first() in (None, source)


def _skip_backlog(symbol: str, resume_from: int | None) -> None:
    """The backlog is older than the whole window: drop the cursor so the next fetch reads the
    window by time. Nothing at or after the window start has been stored, so nothing counts twice."""
    if resume_from is not None:  # no cursor yet: nothing to drop
        TradeCursor.objects.filter(symbol=symbol, resume_from=resume_from).delete()


def _store_buckets(symbol, source, read: NewOrders, floor_cents, now) -> None:
    """Add orders to minute buckets and move the cursor, atomically and only if no other worker
    moved it first (a conditional update, so concurrent fetches never count a trade twice)."""
    if read.resume_from is None:
        return
    with transaction.atomic():
        if not _advance_cursor(symbol, read.old_resume, read.resume_from, now):
            return
        if read.rewalked_from:  # the window is read again from its start: what was stored there goes
            WhaleFlowBucket.objects.filter(symbol=symbol, minute_start__gte=read.rewalked_from).delete()
        by_minute: dict[datetime, list[TakerOrder]] = {}
        for order in read.orders:
            by_minute.setdefault(_utc_ms(order.time_ms // MINUTE_MS * MINUTE_MS), []).append(order)
        _add_to_buckets(symbol, source, by_minute, floor_cents)
        WhaleFlowBucket.objects.filter(symbol=symbol, minute_start__lt=now - BUCKET_RETENTION).delete()


def _advance_cursor(symbol: str, old_resume: int | None, resume_from: int, now: datetime) -> bool:
    if old_resume is None:
        try:  # create, never update: a fetch that raced us here has stored its orders already
            with transaction.atomic():
                TradeCursor.objects.create(symbol=symbol, resume_from=resume_from, updated_at=now)
            return True
        except IntegrityError:
            return False
    return bool(
        TradeCursor.objects.filter(symbol=symbol, resume_from=old_resume).update(
            resume_from=resume_from, updated_at=now
        )
    )


def _add_to_buckets(symbol: str, source: str, by_minute: dict[datetime, list[TakerOrder]], floor_cents: int) -> None:
    """Add each minute's orders to its bucket: one read of the buckets already there, one upsert."""
    existing = {b.minute_start: b for b in WhaleFlowBucket.objects.filter(symbol=symbol, minute_start__in=by_minute)}
    rows = []
    for minute_start, orders in by_minute.items():
        part, count = FlowDetail.from_orders(orders, floor_cents), len(orders)
        if bucket := existing.get(minute_start):
            old = FlowDetail(
                bucket.buy_total_cents, bucket.sell_total_cents, bucket.floor_cents, tuple(bucket.large_orders)
            )
            part, count = FlowDetail.combine([old, part]), count + bucket.order_count
        rows.append(
            WhaleFlowBucket(
                symbol=symbol,
                minute_start=minute_start,
                source=source,
                buy_total_cents=part.buy_total_cents,
                sell_total_cents=part.sell_total_cents,
                floor_cents=part.floor_cents,
                large_orders=list(part.large_orders),
                order_count=count,
            )
        )
    WhaleFlowBucket.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["symbol", "minute_start"],
        update_fields=["source", "buy_total_cents", "sell_total_cents", "floor_cents", "large_orders", "order_count"],
    )


def _window_detail(symbol: str, source: str, window_start: datetime) -> tuple[FlowDetail, int]:
    buckets = WhaleFlowBucket.objects.filter(symbol=symbol, source=source, minute_start__gte=window_start)
    fields = buckets.values_list("buy_total_cents", "sell_total_cents", "floor_cents", "large_orders")
    parts = [FlowDetail(buy, sell, floor, tuple(large)) for buy, sell, floor, large in fields]
    return FlowDetail.combine(parts), len(parts)


def _minute_floor(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


# --- Minute prices (klines) -------------------------------------------------------------------


def fetch_price_bars(*, market: MarketData, symbol: str, now: datetime) -> tuple[dict, dict]:
    """Fetch 1-minute bars since the last stored one (at most 1500) and upsert them in one query."""
    last = PriceBar.objects.filter(symbol=symbol, open_time__lte=now).order_by("-open_time").first()
    start = last.open_time if last else now - timedelta(hours=6)
    bars = market.klines(symbol, start_ms=int(start.timestamp() * 1000))
    if not bars:
        raise errors.EmptyData(f"klines: no bars since {start.isoformat()}")
    source = market.source_of(inputs.PRICE_BARS)
    PriceBar.objects.bulk_create(
        [
            PriceBar(
                symbol=symbol,
                open_time=_utc_ms(b.open_time_ms),
                open=b.open,
                high=b.high,
                low=b.low,
                close=b.close,
                source=source,
            )
            for b in bars
        ],
        update_conflicts=True,
        unique_fields=["symbol", "open_time"],
        update_fields=["high", "low", "close"],
    )
    latest = bars[-1]
    derived = {
        "price": str(latest.close),
        "bars_fetched": len(bars),
        **data_time_fields(inputs.PRICE_BARS, _utc_ms(latest.open_time_ms), now),
    }
    return derived, {
        "last_bar": [latest.open_time_ms, *(str(v) for v in (latest.open, latest.high, latest.low, latest.close))]
    }


def _utc_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=dt_timezone.utc)


# --- CoinGlass inputs -------------------------------------------------------------------------


def fetch_liquidation(*, market: MarketData, symbol: str, now: datetime) -> tuple[dict, dict]:
    """Every high-concentration cluster of the latest heatmap column, plus the top 2 at fetch time."""
    heatmap = parse_heatmap(market.heatmap(coin_of(symbol), HEATMAP_RANGE))
    clusters = find_clusters(heatmap)
    window = selectors.active_parameters().decimal("cluster_window_pct")
    top = top_clusters(clusters, heatmap.current_price, window_pct=window)
    latest = heatmap.latest_column
    levels = [[str(heatmap.y_axis[y]), str(usd)] for x, y, usd in heatmap.cells if x == latest]
    derived = {
        "current_price": str(heatmap.current_price),
        "clusters": clusters_to_json(clusters),
        "top": [
            {
                "price": str(c.price),
                "side": c.side,
                "distance_pct": str(round(c.distance_pct, 4)),
                "intensity": str(c.intensity),
            }
            for c in top
        ],
        "range": HEATMAP_RANGE,
        **data_time_fields(inputs.LIQUIDATION, _utc_ms(heatmap.candle_times_ms[-1]), now),
    }
    return derived, {"latest_column_levels": levels, "latest_candle_ms": heatmap.candle_times_ms[-1]}


def fetch_fear_greed(*, market: MarketData, symbol: str, now: datetime) -> tuple[dict, dict]:
    reading = latest_fear_greed(market.fear_greed())
    at = datetime.fromtimestamp(reading.time_ms / 1000, tz=dt_timezone.utc)
    derived = {"value": str(reading.value), "time": at.isoformat(), **data_time_fields(inputs.FEAR_GREED, at, now)}
    return derived, {"latest": [reading.time_ms, str(reading.value)]}


def fetch_taker_flow(*, market: MarketData, symbol: str, now: datetime) -> tuple[dict, dict]:
    window = selectors.active_parameters().raw("taker_window")
    data = market.taker_buy_sell(coin_of(symbol), window)
    share = taker_buy_share(data)
    keep = ("buy_vol_usd", "sell_vol_usd", "buy_ratio", "sell_ratio")
    raw = {k: data[k] for k in keep if isinstance(data, dict) and k in data}
    return {"buy_share": str(share), "range": window}, raw  # exact: the guard compares it with a boundary


def fetch_max_pain(*, market: MarketData, symbol: str, now: datetime) -> tuple[dict, dict]:
    rows = market.max_pain(coin_of(symbol))
    nearest = nearest_max_pain(rows, today=now.date())
    raw = {
        "rows": [
            {"date": r.get("date"), "max_pain_price": r.get("max_pain_price")} for r in rows if isinstance(r, dict)
        ]
    }
    return {"max_pain_price": str(nearest.price), "expiry": nearest.expiry.isoformat()}, raw


FETCHERS = {
    inputs.WHALE_FLOW: fetch_whale_flow,
    inputs.PRICE_BARS: fetch_price_bars,
    inputs.LIQUIDATION: fetch_liquidation,
    inputs.FEAR_GREED: fetch_fear_greed,
    inputs.TAKER_FLOW: fetch_taker_flow,
    inputs.MAX_PAIN: fetch_max_pain,
}
