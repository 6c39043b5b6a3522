"""One rate limiter shared by every process on every machine, a budget per source (SPEC §2).

A source has a per-minute budget (calls for CoinGlass, request weight for Binance) that no
sliding 60 s window may exceed, an optional minimum spacing between two calls, and a penalty
time after a 429 during which nobody calls it. `acquire()` checks all three and reserves the
call in one atomic step, or learns how long to wait, sleeps that long and tries again.

Backends, chosen from settings at every `get_limiter()` call:
- Redis (`REDIS_URL`): one Lua script per step, on Redis's own clock (`TIME`), so the clocks
  of the calling machines never matter.
- Embedded (no `REDIS_URL`): a JSON state file per source in `RATE_LIMIT_DIR`, read and
  written under an exclusive `flock`, on the machine's monotonic clock; shared by every
  process of this machine (gunicorn workers, Celery prefork children, beat).

Tests give a limiter its clock and its sleep (`clock=`, `sleep=`: a fake clock makes spacing,
windows and penalties exact and instant); the Redis scripts then take `now` as an argument
instead of reading `TIME`. `get_limiter()` always uses the real clocks.

A reservation is stamped when the check passes, i.e. just before `acquire()` returns; the
request reaches the server a little later, by a delay that varies from call to call. So the
spacing and the window are both kept `SAFETY_MARGIN_SECONDS` longer than the budget says
(docs/rate-limiter.md): arrival times at the server then still keep the exact limits.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger("guards.marketdata")

WINDOW_SECONDS = 60.0  # the sliding window of every per-minute budget
# Added to the spacing and to the window (seconds): covers the varying delay between the
# reservation and the request's arrival (measured in docs/rate-limiter.md: a few ms; 50 ms
# leaves room for a busy machine). Costs 2% of CoinGlass throughput: one call per 2.55 s.
SAFETY_MARGIN_SECONDS = 0.05
# Longest single sleep of a waiting caller (seconds): a raised plan limit is noticed this soon.
MAX_SLEEP_SECONDS = 5.0
KEY_PREFIX = "tradingbot:ratelimit:"
SOURCES = ("coinglass", "binance")


class LimiterBusy(Exception):
    """The next slot is further away than the caller's `max_wait_seconds`; nothing was reserved."""

    def __init__(self, wait_seconds: float, source: str = ""):
        super().__init__(wait_seconds, source)  # the arguments, so that it pickles
        self.wait_seconds = wait_seconds
        self.source = source

    def __str__(self) -> str:
        return f"{self.source or 'source'}: next call allowed in {self.wait_seconds:.2f}s"


@dataclass(frozen=True)
class Budget:
    per_minute: int  # calls (CoinGlass) or request weight (Binance) in any 60 s window
    min_interval_seconds: float  # 0: no spacing rule


def default_budget(source: str) -> Budget:
    """The source's budget from settings, read at call time (tests and operators override them)."""
    if source == "coinglass":
        return Budget(int(settings.COINGLASS_CALLS_PER_MINUTE), float(settings.COINGLASS_MIN_INTERVAL_SECONDS))
    if source == "binance":
        return Budget(int(settings.BINANCE_WEIGHT_PER_MINUTE), 0.0)
    raise ValueError(f"no rate budget for source {source!r}; known: {', '.join(SOURCES)}")


ScriptArg = str | int | float  # what a Lua script takes as ARGV


def spacing_seconds(budget: Budget) -> float:
    """The spacing actually kept between two reservations: the setting plus the safety margin."""
    return budget.min_interval_seconds + SAFETY_MARGIN_SECONDS if budget.min_interval_seconds > 0 else 0.0


def window_seconds() -> float:
    """How long a reservation counts against the budget: 60 s plus the safety margin."""
    return WINDOW_SECONDS + SAFETY_MARGIN_SECONDS


def decide(
    now: float,
    log: list[list[float]],
    last: float | None,
    penalty: float,
    weight: int,
    budget: Budget,
    limit: int,
) -> float:
    """Seconds to wait before a call of `weight` may be reserved at `now`; 0 means now.

    Pure, so it is table-tested; the Lua script `_RESERVE` is the same algorithm. `log` holds
    [reserved_at, weight] pairs, `last` the latest reservation (None: never), `penalty` the
    end of a back-off; all seconds on one clock. The answer is the largest of the penalty,
    spacing and window waits, so a retry after sleeping it normally succeeds.
    """
    if weight > limit:
        raise ValueError(f"weight {weight} exceeds the whole per-minute budget {limit}")
    wait = max(0.0, penalty - now)
    if last is not None and budget.min_interval_seconds > 0:
        wait = max(wait, last + spacing_seconds(budget) - now)
    return max(wait, _window_wait(now, log, weight, limit))


def _window_wait(now: float, log: list[list[float]], weight: int, limit: int) -> float:
    """Seconds until enough of the oldest reservations leave the window for `weight` to fit."""
    live = sorted(entry for entry in log if entry[0] + window_seconds() > now)
    excess = sum(w for _, w in live) + weight - limit
    wait = 0.0
    for at, w in live:
        if excess <= 0:
            break
        excess -= w
        wait = at + window_seconds() - now
    return wait


def _positive_int(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, not {value!r}")
    return value


def _check_penalty(seconds: float) -> float:
    seconds = float(seconds)
    if not math.isfinite(seconds):
        raise ValueError(f"penalty must be a finite number of seconds, not {seconds!r}")
    return seconds


def _usage(used: int, limit: int, budget: Budget, penalized_until: float | None, backend: str) -> dict:
    """The dashboard's view; `penalized_until` is a Unix time (seconds) or None."""
    return {
        "used_last_60s": int(used),
        "limit_per_minute": int(limit),
        "min_interval_seconds": budget.min_interval_seconds,
        "penalized_until": penalized_until,
        "backend": backend,
    }


Clock = Callable[[], float]  # seconds on a clock that never steps back
Sleep = Callable[[float], None]


class _Limiter:
    backend = ""

    def __init__(self, clock: Clock | None = None, sleep: Sleep | None = None):
        self.clock = clock  # None: the backend's own (file: this machine's monotonic clock; Redis: TIME)
        self.sleep = sleep or time.sleep

    def _monotonic(self) -> float:
        return self.clock() if self.clock else time.monotonic()

    def acquire(self, source: str, weight: int = 1, max_wait_seconds: float | None = None) -> None:
        """Block until a call of `weight` is allowed for `source`, and reserve it.

        Raises LimiterBusy (nothing reserved) as soon as the wait would end later than
        `max_wait_seconds` (seconds) from now; ValueError for an unknown source or a weight
        larger than the whole budget (it could never go).
        """
        budget = default_budget(source)
        _positive_int(weight, "weight")
        deadline = None if max_wait_seconds is None else self._monotonic() + max_wait_seconds
        while (wait := self._try_reserve(source, weight, budget)) > 0:
            if deadline is not None and self._monotonic() + wait > deadline:
                raise LimiterBusy(wait, source)
            self.sleep(min(wait, MAX_SLEEP_SECONDS))

    def _try_reserve(self, source: str, weight: int, budget: Budget) -> float:
        """Reserve now and return 0, or return the seconds to wait (nothing reserved)."""
        raise NotImplementedError

    def penalize(self, source: str, seconds: float) -> None:
        """No call for `source` from any process until now + `seconds`; a longer penalty stays."""
        raise NotImplementedError

    def finished(self, source: str) -> None:
        """A call of `source` has had its answer: the spacing runs from now, not from its start.

        A call whose connection set-up was slow (DNS, TLS) reaches the server late; timing the
        next one from this call's end keeps two arrivals at least the spacing apart."""
        if default_budget(source).min_interval_seconds > 0:
            self._mark_last(source)

    def _mark_last(self, source: str) -> None:
        raise NotImplementedError

    def set_calls_per_minute(self, source: str, n: int) -> None:
        """The plan's per-minute budget replaces the settings' one for every process, until changed."""
        raise NotImplementedError

    def usage(self, source: str) -> dict:
        """{"used_last_60s", "limit_per_minute", "min_interval_seconds", "penalized_until", "backend"}."""
        raise NotImplementedError


# --- Embedded: a state file per source under flock ----------------------------------------------


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


_BOOT_ID = _boot_id()
# CLOCK_MONOTONIC is one clock for every process of a Linux machine and never jumps (an NTP
# step of the wall clock would otherwise open or close the budget); it restarts at boot, so
# the state is tagged with the boot id. Elsewhere: the wall clock.
CLOCK_ID, _clock = (f"monotonic:{_BOOT_ID}", time.monotonic) if _BOOT_ID else ("wall", time.time)


class FileLimiter(_Limiter):
    """The embedded default: shared by all processes of one machine (RATE_LIMIT_DIR must be local)."""

    backend = "file"

    def __init__(self, directory: Path, clock: Clock | None = None, sleep: Sleep | None = None):
        super().__init__(clock, sleep)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.clock_id = CLOCK_ID if clock is None else "injected"  # state of another clock is dropped

    def _locked(self, source: str, change: Callable[[dict, float], tuple]):
        """Run `change(state, now) -> (result, new_state or None)` under the source's lock."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{source}.json"
        with open(self.directory / f"{source}.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            now = self.clock() if self.clock else _clock()
            result, new_state = change(self._load(path, now), now)
            if new_state is not None:
                self._store(path, new_state)
            return result

    @staticmethod
    def _store(path: Path, state: dict) -> None:
        """Replace the state file whole (write, then rename), so no reader sees half of it."""
        tmp = path.with_name(f"{path.name}.tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, path)

    def _load(self, path: Path, now: float) -> dict:
        """The state; fresh after a reboot (the plan limit is kept); fail-safe when unreadable."""
        try:
            state = json.loads(path.read_text())
            if not isinstance(state, dict):
                raise ValueError("not a JSON object")
        except FileNotFoundError:
            return {"clock": self.clock_id}
        except ValueError as exc:
            # Unknown past: pause the source one full window rather than risk a burst.
            logger.warning("rate-limit state %s unreadable (%s): pausing it one window", path, exc)
            state = {"clock": self.clock_id, "penalty": now + window_seconds()}
            self._store(path, state)
            return state
        if state.get("clock") != self.clock_id:
            return {"clock": self.clock_id, "limit": state.get("limit")}
        return state

    def _try_reserve(self, source: str, weight: int, budget: Budget) -> float:
        def change(state: dict, now: float):
            log = [e for e in state.get("log", []) if e[0] + window_seconds() > now]
            limit = state.get("limit") or budget.per_minute
            wait = decide(now, log, state.get("last"), state.get("penalty", 0.0), weight, budget, limit)
            if wait > 0:
                return wait, None
            return 0.0, {**state, "log": [*log, [now, weight]], "last": now}

        return self._locked(source, change)

    def penalize(self, source: str, seconds: float) -> None:
        default_budget(source)
        seconds = _check_penalty(seconds)

        def change(state: dict, now: float):
            return None, {**state, "penalty": max(state.get("penalty", 0.0), now + seconds)}

        self._locked(source, change)

    def set_calls_per_minute(self, source: str, n: int) -> None:
        default_budget(source)
        n = _positive_int(n, "calls per minute")
        self._locked(source, lambda state, now: (None, {**state, "limit": n}))

    def _mark_last(self, source: str) -> None:
        self._locked(source, lambda state, now: (None, {**state, "last": max(state.get("last") or now, now)}))

    def usage(self, source: str) -> dict:
        budget = default_budget(source)

        def read(state: dict, now: float):
            used = sum(w for at, w in state.get("log", []) if at > now - WINDOW_SECONDS)
            penalty = state.get("penalty", 0.0)
            until = time.time() + (penalty - now) if penalty > now else None
            limit = state.get("limit") or budget.per_minute
            return _usage(used, limit, budget, until, self.backend), None

        return self._locked(source, read)


# --- Redis: one Lua script per step, on Redis's clock ------------------------------------------

# KEYS: 1 log (sorted set: member "<token>:<weight>", score = reserved at), 2 last reservation,
# 3 penalty end, 4 plan limit. ARGV: 1 weight, 2 default limit, 3 spacing incl. margin (s),
# 4 window incl. margin (s), 5 unique token, 6 now (s; empty: Redis's TIME). Returns "0" (reserved),
# "-1" (weight larger than the limit: can never go) or the seconds to wait. Same algorithm as decide().
_NOW = """
local function clock(arg)
  if arg and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""
_RESERVE = (
    _NOW
    + """
local now = clock(ARGV[6])
local weight = tonumber(ARGV[1])
local limit = tonumber(redis.call('GET', KEYS[4]) or ARGV[2])
if weight > limit then return '-1' end
local wait = tonumber(redis.call('GET', KEYS[3]) or '0') - now
local spacing = tonumber(ARGV[3])
local last = redis.call('GET', KEYS[2])
if spacing > 0 and last then wait = math.max(wait, tonumber(last) + spacing - now) end
local span = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now - span))
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local excess = weight - limit
for i = 1, #entries, 2 do excess = excess + tonumber(string.match(entries[i], ':(%d+)$')) end
local i = 1
while excess > 0 do
  excess = excess - tonumber(string.match(entries[i], ':(%d+)$'))
  wait = math.max(wait, tonumber(entries[i + 1]) + span - now)
  i = i + 2
end
if wait > 0 then return string.format('%.6f', wait) end
local stamp = string.format('%.6f', now)
local ttl = math.ceil(math.max(span, spacing) * 1000) + 1000
redis.call('ZADD', KEYS[1], stamp, ARGV[5] .. ':' .. ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], stamp, 'PX', ttl)
return '0'
"""
)

# KEYS: 1 penalty end. ARGV: 1 seconds, 2 now. Keeps the later of the current and the new end.
_PENALIZE = (
    _NOW
    + """
local untl = clock(ARGV[2]) + tonumber(ARGV[1])
if untl > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], string.format('%.6f', untl), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""
)

# KEYS: 1 last reservation. ARGV: 1 expiry (ms), 2 now. Moves "last" to now (never back).
_MARK_LAST = (
    _NOW
    + """
local now = clock(ARGV[2])
if now > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], string.format('%.6f', now), 'PX', tonumber(ARGV[1]))
end
return 1
"""
)

# KEYS as _RESERVE. ARGV: 1 window (s), 2 now. Returns {used weight, plan limit or '', penalty end or '', now}.
_USAGE = (
    _NOW
    + """
local now = clock(ARGV[2])
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%.6f', now - tonumber(ARGV[1])), '+inf')
local used = 0
for i = 1, #entries do used = used + tonumber(string.match(entries[i], ':(%d+)$')) end
return {tostring(used), redis.call('GET', KEYS[4]) or '', redis.call('GET', KEYS[3]) or '', string.format('%.6f', now)}
"""
)


class RedisLimiter(_Limiter):
    """Shared by every machine: check and reservation are one Lua script on Redis's clock.

    Fails closed: with Redis unreachable, acquire() raises redis's ConnectionError rather
    than calling without the shared budget.
    """

    backend = "redis"

    def __init__(self, url: str, clock: Clock | None = None, sleep: Sleep | None = None):
        import redis

        super().__init__(clock, sleep)
        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
        self._reserve = self.redis.register_script(_RESERVE)
        self._penalize = self.redis.register_script(_PENALIZE)
        self._mark = self.redis.register_script(_MARK_LAST)
        self._usage = self.redis.register_script(_USAGE)

    def _now(self) -> str:
        """The injected clock's now for the scripts, or '' for Redis's own TIME."""
        return repr(self.clock()) if self.clock else ""

    @staticmethod
    def keys(source: str) -> list[str]:
        """log, last, penalty, limit; the {source} hash tag keeps them in one Redis Cluster slot."""
        base = f"{KEY_PREFIX}{{{source}}}"
        return [f"{base}:log", f"{base}:last", f"{base}:penalty", f"{base}:limit"]

    def _try_reserve(self, source: str, weight: int, budget: Budget) -> float:
        args: list[ScriptArg] = [
            weight,
            budget.per_minute,
            spacing_seconds(budget),
            window_seconds(),
            uuid.uuid4().hex,
            self._now(),
        ]
        wait = float(self._reserve(keys=self.keys(source), args=args))
        if wait < 0:
            raise ValueError(f"{source}: weight {weight} exceeds the whole per-minute budget")
        return wait

    def penalize(self, source: str, seconds: float) -> None:
        default_budget(source)
        seconds = _check_penalty(seconds)
        if seconds > 0:
            self._penalize(keys=[self.keys(source)[2]], args=[repr(seconds), self._now()])

    def set_calls_per_minute(self, source: str, n: int) -> None:
        default_budget(source)
        self.redis.set(self.keys(source)[3], _positive_int(n, "calls per minute"))

    def _mark_last(self, source: str) -> None:
        expiry_ms = math.ceil(max(window_seconds(), spacing_seconds(default_budget(source))) * 1000) + 1000
        args: list[ScriptArg] = [expiry_ms, self._now()]
        self._mark(keys=[self.keys(source)[1]], args=args)

    def usage(self, source: str) -> dict:
        budget = default_budget(source)
        args: list[ScriptArg] = [WINDOW_SECONDS, self._now()]
        used, limit, penalty, now = (raw.decode() for raw in self._usage(keys=self.keys(source), args=args))
        until = None
        if penalty and float(penalty) > float(now):  # a Unix time: Redis's clock is one, an injected one need not be
            until = float(penalty) if self.clock is None else time.time() + float(penalty) - float(now)
        return _usage(int(used), int(limit) if limit else budget.per_minute, budget, until, self.backend)


_instances: dict[tuple[str, str], _Limiter] = {}
_instances_lock = threading.Lock()


def get_limiter() -> _Limiter:
    """The Redis limiter when settings.REDIS_URL is set, else the file one in RATE_LIMIT_DIR.

    Settings are read at every call (tests override them); one instance per URL or directory.
    """
    url = settings.REDIS_URL
    key = ("redis", url) if url else ("file", str(settings.RATE_LIMIT_DIR))
    with _instances_lock:
        if key not in _instances:
            _instances[key] = RedisLimiter(url) if url else FileLimiter(Path(key[1]))
        return _instances[key]
