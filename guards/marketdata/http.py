"""One GET with timeouts, retries with backoff on 5xx/network errors, and the shared limiter.

Source clients (coinglass.py, binance.py) add their own envelope and status mapping on top.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import requests
from django.conf import settings

from guards.marketdata import errors
from guards.marketdata.limiter import LimiterBusy, get_limiter

logger = logging.getLogger("guards.marketdata")


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON
    text: str


def get_json(
    session: requests.Session,
    url: str,
    *,
    source: str,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    weight: int = 1,
    classify: Callable[[HttpAnswer], None] | None = None,
) -> HttpAnswer:
    """GET `url` through the limiter for `source`; parse JSON; retry retryable failures.

    `classify` raises a typed error for answers that are not a success (the source's
    envelope rules); retryable ones (5xx, network, timeout) are retried HTTP_RETRIES times
    with exponential backoff, each attempt passing the limiter again.
    """
    attempts = settings.HTTP_RETRIES + 1
    for attempt in range(attempts):
        try:
            answer = _get_once(session, url, source=source, params=params, headers=headers, weight=weight)
            if classify:
                classify(answer)
            return answer
        except errors.MarketDataError as exc:
            if not exc.retryable or isinstance(exc, errors.RateLimited) or attempt == attempts - 1:
                raise
            logger.warning("retrying %s after %s", _path(url), exc.reason_code, extra={"tag": "MARKET-DATA"})
            time.sleep(min(0.5 * 2**attempt, 4.0))
    raise AssertionError("unreachable")


def _get_once(session, url, *, source, params, headers, weight) -> HttpAnswer:
    try:
        get_limiter().acquire(source, weight=weight, max_wait_seconds=settings.MARKET_DATA_MAX_WAIT_SECONDS)
    except LimiterBusy as busy:
        raise errors.BudgetBusy(
            f"{source} {_path(url)}: shared rate budget busy for {busy.wait_seconds:.0f} s",
            retry_after_seconds=busy.wait_seconds,
        ) from None
    timeout = (settings.HTTP_CONNECT_TIMEOUT_SECONDS, settings.HTTP_READ_TIMEOUT_SECONDS)
    try:
        # Never follow a redirect: requests would carry the CG-API-KEY header to wherever it points.
        response = session.get(url, params=params, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        raise errors.Timeout(f"{source} {_path(url)}: timed out") from None
    except requests.RequestException as exc:
        raise errors.UpstreamError(f"{source} {_path(url)}: {type(exc).__name__}") from None
    finally:
        get_limiter().finished(source)
    text = response.text
    if response.is_redirect:
        raise errors.Redirected(f"{source} {_path(url)}: HTTP {response.status_code} redirect, not followed")
    if response.status_code >= 500:
        raise errors.UpstreamError(f"{source} {_path(url)}: HTTP {response.status_code}")
    try:
        body = json.loads(text, parse_constant=_refuse_constant) if text else None
    except ValueError:  # not JSON, or NaN/Infinity (not JSON either, and no database stores them)
        body = _NOT_JSON
    answer = HttpAnswer(response.status_code, dict(response.headers), body, text)
    return answer


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class _NotJson:
    def __repr__(self) -> str:
        return "<not JSON>"


_NOT_JSON = _NotJson()


def is_json(answer: HttpAnswer) -> bool:
    return answer.body is not _NOT_JSON


def numeric_header(answer: HttpAnswer, name: str) -> float | None:
    """A header's number (names are case-insensitive); None when absent or not a number."""
    raw = {k.lower(): v for k, v in answer.headers.items()}.get(name.lower())
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


MAX_RETRY_AFTER_SECONDS = 3 * 86_400  # Binance's longest IP ban; anything longer is nonsense


def retry_after_seconds(answer: HttpAnswer) -> float | None:
    """Retry-After as seconds (a number or an HTTP date), capped at 3 days; None when absent or
    unusable (negative, zero, not finite), so the caller's default wait applies."""
    seconds = numeric_header(answer, "Retry-After")
    if seconds is None:
        seconds = _seconds_until_http_date({k.lower(): v for k, v in answer.headers.items()}.get("retry-after"))
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)


def _seconds_until_http_date(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return (moment - datetime.now(timezone.utc)).total_seconds()


def _path(url: str) -> str:
    """The URL's path only: never the query string, never a header."""
    return requests.utils.urlparse(url).path
