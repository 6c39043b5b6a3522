"""Typed market-data failures; each carries the reason code stored on data-health events.

Messages never include the API key: clients build them from status, path and `msg` only.
"""


class MarketDataError(Exception):
    reason_code = "UPSTREAM_ERROR"
    retryable = False

    def __init__(self, message: str, *, retry_after_seconds: float | None = None):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class PlanInsufficient(MarketDataError):
    reason_code = "NOT_IN_PLAN"


class AuthError(MarketDataError):
    reason_code = "AUTH_FAILED"


class RateLimited(MarketDataError):
    reason_code = "RATE_LIMITED"
    retryable = True
    from_source = True  # the source said so: every process backs off until its Retry-After


class BudgetBusy(RateLimited):
    """Our own shared limiter would make this call wait too long (a ban's pause, a full window).

    Not an answer from the source, so it never extends the source's back-off."""

    from_source = False


class NotConfigured(MarketDataError):
    """MARKET_DATA=live without COINGLASS_API_KEY: Binance inputs are live, CoinGlass ones are
    not fetched at all (no call with an empty key); their guards fail open with this reason."""

    reason_code = "NOT_CONFIGURED"


class NotFound(MarketDataError):
    reason_code = "NOT_FOUND"


class BadParameters(MarketDataError):
    reason_code = "BAD_PARAMETERS"


class ApiError(MarketDataError):
    """An answer with an error code we have no better name for (not retried)."""

    reason_code = "API_ERROR"


class UpstreamError(MarketDataError):
    """5xx, timeouts and network errors: retried with backoff, then reported."""

    reason_code = "UPSTREAM_ERROR"
    retryable = True


class Redirected(MarketDataError):
    """A 3xx: never followed (it would carry the API key elsewhere) and not retried."""

    reason_code = "REDIRECTED"


class Timeout(UpstreamError):
    reason_code = "TIMEOUT"


class Malformed(MarketDataError):
    """A 2xx answer we cannot read: HTML, invalid JSON, missing fields, empty data."""

    reason_code = "MALFORMED"


class EmptyData(Malformed):
    reason_code = "EMPTY_DATA"


class InternalError(MarketDataError):
    """A bug on our side while handling an answer: logged with its traceback, recorded as data."""

    reason_code = "INTERNAL_ERROR"
