"""One rate limiter shared by every process on every machine, a budget per source (SPEC §2).

Each source has a sliding 60 s budget (calls, or Binance request weight), an optional
minimum spacing between calls, and a penalty time set after a 429. With REDIS_URL the state
lives in Redis and one Lua script checks and reserves atomically, on Redis's own clock; without
it, a JSON file per source under an exclusive file lock does the same for every process of
this machine. Reservations carry small safety margins (docs/rate-limiter.md) so that the
request's arrival at the server, a few ms after the reservation, still keeps the limit.
"""

from __future__ import annotations

import fcntl
import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

WINDOW_SECONDS = 60.0
WINDOW_MARGIN_SECONDS = 0.5  # count a call for 60.5 s: no closed 60 s window can hold one too many
SPACING_MARGIN_SECONDS = 0.1  # 2.5 s spacing is kept as 2.6 s between reservations


class LimiterBusy(Exception):
    """The next slot is further away than the caller is willing to wait."""

    def __init__(self, source: str, wait_seconds: float):
        super().__init__(f"{source}: next call allowed in {wait_seconds:.1f}s")
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class Budget:
    per_minute: int  # calls (CoinGlass) or request weight (Binance) in any 60 s
    min_interval_seconds: float


def default_budget(source: str) -> Budget:
    if source == "coinglass":
        return Budget(settings.COINGLASS_CALLS_PER_MINUTE, settings.COINGLASS_MIN_INTERVAL_SECONDS)
    if source == "binance":
        return Budget(settings.BINANCE_WEIGHT_PER_MINUTE, 0.0)
    raise ValueError(f"no rate budget for source {source!r}")


def decide(
    now: float, log: list[list[float]], last: float, penalty: float, weight: int, budget: Budget, limit: int
) -> float:
    """Seconds to wait before a call of `weight` may go, 0 if it may go now (pure; the Lua
    script is the same algorithm). `log` holds [time, weight] of calls still in the window."""
    if penalty > now:
        return penalty - now
    spacing = budget.min_interval_seconds + SPACING_MARGIN_SECONDS if budget.min_interval_seconds else 0.0
    if last and last + spacing > now:
        return last + spacing - now
    used = sum(w for _, w in log)
    if used + weight <= limit:
        return 0.0
    excess = used + weight - limit
    for at, w in sorted(log):
        excess -= w
        if excess <= 0:
            return at + WINDOW_SECONDS + WINDOW_MARGIN_SECONDS - now + 0.001
    return WINDOW_SECONDS


class _Limiter:
    def acquire(self, source: str, weight: int = 1, max_wait_seconds: float | None = None) -> None:
        """Block until a call of `weight` is allowed for `source`, then reserve it."""
        budget = default_budget(source)
        if weight > budget.per_minute:
            raise ValueError(f"{source}: weight {weight} exceeds the whole budget {budget.per_minute}")
        waited = 0.0
        while (wait := self._try_reserve(source, weight, budget)) > 0:
            if max_wait_seconds is not None and waited + wait > max_wait_seconds:
                raise LimiterBusy(source, wait)
            time.sleep(min(wait, 5.0))
            waited += min(wait, 5.0)

    def limit(self, source: str) -> int:
        override = self._get_override(source)
        return override or default_budget(source).per_minute

    def _try_reserve(self, source: str, weight: int, budget: Budget) -> float:
        raise NotImplementedError

    def _get_override(self, source: str) -> int | None:
        raise NotImplementedError


class FileLimiter(_Limiter):
    """The embedded default: state files under an exclusive flock, shared by local processes."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _locked(self, source: str, change):
        path = self.directory / f"{source}.json"
        with open(self.directory / f"{source}.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(path.read_text()) if path.exists() and path.stat().st_size else {}
                result, new_state = change(state, time.time())
                if new_state is not None:
                    tmp = path.with_suffix(".tmp")
                    tmp.write_text(json.dumps(new_state))
                    tmp.replace(path)
                return result
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _try_reserve(self, source: str, weight: int, budget: Budget) -> float:
        def change(state, now):
            log = [e for e in state.get("log", []) if e[0] > now - WINDOW_SECONDS - WINDOW_MARGIN_SECONDS]
            limit = state.get("limit") or budget.per_minute
            wait = decide(now, log, state.get("last", 0.0), state.get("penalty", 0.0), weight, budget, limit)
            if wait > 0:
                return wait, None
            return 0.0, {**state, "log": log + [[now, weight]], "last": now}

        return self._locked(source, change)

    def penalize(self, source: str, seconds: float) -> None:
        default_budget(source)
        self._locked(source, lambda s, now: (None, {**s, "penalty": max(s.get("penalty", 0.0), now + seconds)}))

    def set_calls_per_minute(self, source: str, calls: int) -> None:
        default_budget(source)
        self._locked(source, lambda s, now: (None, {**s, "limit": int(calls)}))

    def _get_override(self, source: str) -> int | None:
        return self._locked(source, lambda s, now: (s.get("limit"), None))

    def usage(self, source: str) -> dict:
        budget = default_budget(source)

        def read(state, now):
            used = sum(w for at, w in state.get("log", []) if at > now - WINDOW_SECONDS)
            penalty = state.get("penalty", 0.0)
            limit = state.get("limit") or budget.per_minute
            return _usage(used, limit, budget, penalty if penalty > now else None), None

        return self._locked(source, read)


_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local penalty = tonumber(redis.call('GET', KEYS[3]) or '0')
if penalty > now then return tostring(penalty - now) end
local spacing = tonumber(ARGV[3])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if spacing > 0 and last + spacing > now then return tostring(last + spacing - now) end
local window = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. tostring(now - window))
local limit = tonumber(redis.call('GET', KEYS[4]) or ARGV[2])
local weight = tonumber(ARGV[1])
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do used = used + tonumber(string.match(entries[i], ':(%d+)$')) end
if used + weight > limit then
  local excess = used + weight - limit
  for i = 1, #entries, 2 do
    excess = excess - tonumber(string.match(entries[i], ':(%d+)$'))
    if excess <= 0 then return tostring(tonumber(entries[i + 1]) + window - now + 0.001) end
  end
  return tostring(window)
end
redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. ARGV[1])
redis.call('SET', KEYS[2], tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 5)
redis.call('EXPIRE', KEYS[2], math.ceil(window) + 5)
return '0'
"""


_PENALIZE = """
local t = redis.call('TIME')
local untl = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
if untl > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(untl), 'EX', math.ceil(tonumber(ARGV[1])) + 5)
end
return 1
"""


class RedisLimiter(_Limiter):
    """Shared by every machine: the check and the reservation are one Lua script on Redis time."""

    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._reserve = self.redis.register_script(_RESERVE)
        self._penalize = self.redis.register_script(_PENALIZE)

    @staticmethod
    def _keys(source: str) -> list[str]:
        base = f"tradingbot:ratelimit:{source}"
        return [f"{base}:log", f"{base}:last", f"{base}:penalty", f"{base}:limit"]

    def _try_reserve(self, source: str, weight: int, budget: Budget) -> float:
        spacing = budget.min_interval_seconds + SPACING_MARGIN_SECONDS if budget.min_interval_seconds else 0
        args = [weight, budget.per_minute, spacing, WINDOW_SECONDS + WINDOW_MARGIN_SECONDS, uuid.uuid4().hex]
        return float(self._reserve(keys=self._keys(source), args=args))

    def penalize(self, source: str, seconds: float) -> None:
        """No call for `source` until now + seconds (Redis time); a longer penalty is kept."""
        default_budget(source)
        self._penalize(keys=[self._keys(source)[2]], args=[seconds])

    def set_calls_per_minute(self, source: str, calls: int) -> None:
        default_budget(source)
        self.redis.set(self._keys(source)[3], int(calls))

    def _get_override(self, source: str) -> int | None:
        raw = self.redis.get(self._keys(source)[3])
        return int(raw) if raw else None

    def usage(self, source: str) -> dict:
        budget = default_budget(source)
        seconds_now, micros = self.redis.time()
        now = seconds_now + micros / 1e6
        log_key, _, penalty_key, _ = self._keys(source)
        members = self.redis.zrangebyscore(log_key, now - WINDOW_SECONDS, "+inf")
        used = sum(int(m.decode().rsplit(":", 1)[1]) for m in members)
        penalty = float(self.redis.get(penalty_key) or 0)
        return _usage(used, self.limit(source), budget, penalty if penalty > now else None)


def _usage(used: int, limit: int, budget: Budget, penalized_until: float | None) -> dict:
    return {
        "used_last_60s": used,
        "limit_per_minute": limit,
        "min_interval_seconds": budget.min_interval_seconds,
        "penalized_until": penalized_until,
    }


_instances: dict[tuple, _Limiter] = {}
_lock = threading.Lock()


def get_limiter() -> _Limiter:
    """The Redis limiter when REDIS_URL is set, else the file-locked one (read at call time)."""
    key = ("redis", settings.REDIS_URL) if settings.REDIS_URL else ("file", str(settings.RATE_LIMIT_DIR))
    with _lock:
        if key not in _instances:
            _instances[key] = RedisLimiter(key[1]) if key[0] == "redis" else FileLimiter(Path(key[1]))
        return _instances[key]
