"""Bench-only Django settings for bench/gate.py: the product's settings and URLs, plus two anchor
endpoints that exist only here (never in the product's URLconf), served by the same gunicorn:

- `/bench/anchor/memory`: parses the signal and decides in memory (the stack's limit);
- `/bench/anchor/durable`: the same, plus one round trip that commits an evaluation row and its
  3 event rows in ONE statement before answering (the limit for a decision stored before it is
  answered, in autocommit: the statement is its own durable transaction).

Used as DJANGO_SETTINGS_MODULE=gate_site with bench/ on PYTHONPATH; the module is also the URLconf.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gate_site")

from tradingbot.settings import *  # noqa: E402,F403

ROOT_URLCONF = "gate_site"


def _decide(request):
    body = json.loads(request.body)
    allowed = body["direction"] == "LONG"
    return body, {
        "signal_id": body["signal_id"],
        "allowed": allowed,
        "size_multiplier": 1.0,
        "final_size": float(body["base_size"]) if allowed else 0.0,
        "blocked_by": None if allowed else "WHALE_INTENT_FILTER",
        "reason": "anchor",
        "guards": [{"guard": g, "decision": "allow", "reason": "anchor", "data": {}} for g in _GUARDS],
        "thresholds": {"whale_cvd_threshold_usd": {"value": 100000, "version": 1}},
    }


_GUARDS = ("TAKER_AGGRESSION", "WHALE_INTENT_FILTER", "FEAR_GREED_MULTIPLIER")

_DURABLE_SQL = """
WITH e AS (
  INSERT INTO guards_evaluation (signal_id, symbol, direction, strategy, base_size, price, allowed,
    size_multiplier, final_size, blocked_by, reason, response, replay, shadow_status, evaluated_at)
  VALUES (%s, %s, %s, %s, %s, NULL, %s, 1, %s, %s, 'anchor', %s, '{}', '', now())
  RETURNING id, symbol, evaluated_at
)
INSERT INTO guards_guardevent (event_type, guard, decision, reason, symbol, evaluation_id, position_id,
  inputs, parameters, position, created_at)
SELECT g.guard, g.guard, 'allow', 'anchor', e.symbol, e.id, '', %s, '{}', g.position, e.evaluated_at
FROM e CROSS JOIN (VALUES (%s, 0), (%s, 1), (%s, 2)) AS g(guard, position)
"""


def anchor_memory(request):
    from django.http import JsonResponse

    return JsonResponse(_decide(request)[1])


def anchor_durable(request):
    from django.db import connection
    from django.http import JsonResponse

    body, answer = _decide(request)
    with connection.cursor() as cursor:
        cursor.execute(
            _DURABLE_SQL,
            [
                body["signal_id"],
                body["symbol"],
                body["direction"],
                body.get("strategy", ""),
                body["base_size"],
                answer["allowed"],
                answer["final_size"],
                answer["blocked_by"] or "",
                json.dumps(answer),
                json.dumps({"data": {}, "sources": {}}),
                *_GUARDS,
            ],
        )
    return JsonResponse(answer)


def _urlpatterns():
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    from tradingbot.urls import urlpatterns as product

    return [
        path("bench/anchor/memory", csrf_exempt(anchor_memory)),
        path("bench/anchor/durable", csrf_exempt(anchor_durable)),
        *product,
    ]


def __getattr__(name: str):  # the URLconf is built when Django first asks, after setup
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)
