"""The bot API (SPEC §3, §7): token auth, 400 naming the field, thin views over services."""

from __future__ import annotations

import orjson
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from guards import evaluations, holds, tokens, trades
from guards.schemas import (
    ErrorOut,
    EvaluateIn,
    EvaluateOut,
    HealthOut,
    MinHoldIn,
    MinHoldOut,
    TradeIn,
    TradeOut,
)


class BearerToken(HttpBearer):
    def __call__(self, request: HttpRequest):
        """Ninja's own, reading the header from META instead of building request.headers (a dict of
        every header) on each bot request, and never logging a refused header's value."""
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not token:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str):
        return tokens.user_for(token)  # remembered for at most a second per process


api = NinjaAPI(
    title="Guard control plane bot API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "payload")]
    field = ".".join(loc) or "body"
    message = first.get("msg", "invalid input")
    if first.get("type") == "extra_forbidden":
        message = "is not a known field"
    return api.create_response(
        request, {"error": f"{field}: {message}", "field": field, "detail": _clean(exc.errors)}, status=400
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    """Ninja's own 4xx (e.g. a body that is not JSON) in our error shape."""
    field = "body" if exc.status_code == 400 else None
    return api.create_response(request, {"error": str(exc), "field": field, "detail": []}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request, {"error": "missing or invalid bearer token", "field": "Authorization", "detail": []}, status=401
    )


def _clean(errors: list[dict]) -> list[dict]:
    return [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors
    ]


@api.post(
    "/signals/evaluate",
    response={200: EvaluateOut, 400: ErrorOut, 401: ErrorOut},
    auth=BearerToken(),
    url_name="signals-evaluate",
    summary="May this signal trade, and how big?",  # SPEC §3
)
def evaluate_signal(request: HttpRequest, payload: EvaluateIn):
    answer = evaluations.evaluate_signal(
        signal=payload.to_signal(),
        signal_id=payload.signal_id,
        now=timezone.now(),
        remember_seconds=settings.GATE_REMEMBER_SECONDS,
    )
    # Built by the service in EvaluateOut's shape (tests/guards/test_openapi.py checks the answers against
    # it): rendered as is, without validating it again on the hot path (issue 11); JSON-native values only.
    return HttpResponse(orjson.dumps(answer), content_type="application/json")


@api.post(
    "/positions/min-hold",
    response={200: MinHoldOut, 400: ErrorOut, 401: ErrorOut},
    auth=BearerToken(),
    url_name="positions-min-hold",
    summary="How long must this position be held at least?",  # SPEC §4
)
def position_min_hold(request: HttpRequest, payload: MinHoldIn):
    return holds.decide_min_hold(position=payload.to_position(), now=timezone.now())


@api.post(
    "/trades",
    response={200: TradeOut, 201: TradeOut, 400: ErrorOut, 401: ErrorOut},
    auth=BearerToken(),
    url_name="trades",
    summary="Report a closed trade; a repeated trade_id returns the stored one",  # SPEC §5.1
)
def report_trade(request: HttpRequest, payload: TradeIn):
    trade, created = trades.record_trade(trade=payload.to_trade(), now=timezone.now())
    return Status(201 if created else 200, trades.trade_answer(trade))


@api.get("/health", response=HealthOut, url_name="health", summary="Liveness and database check")
def health(request: HttpRequest):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # a health probe reports, it does not raise
        database = "unreachable"
    return {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "market_data": settings.MARKET_DATA,
        "time": timezone.now().isoformat(),
    }
