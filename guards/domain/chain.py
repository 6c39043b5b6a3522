"""The ordered guard chain of SPEC §3: first block ends it; unusable data fails open."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from guards.domain.params import Params, ttl_parameter
from guards.domain.rules import fear_greed, taker_aggression, whale_intent
from guards.domain.types import Decision, GuardResult, Intel, Signal

Evaluate = Callable[[Signal, Intel], GuardResult]


@dataclass(frozen=True)
class GuardStep:
    name: str
    needs: tuple[str, ...]
    evaluate: Evaluate
    problem: str | None = None  # a parameter the rule needs is unusable: the step fails open with it


# Registry: guard name -> (rule module, the parameter names it is bound with).
GUARDS = {
    taker_aggression.NAME: taker_aggression,
    whale_intent.NAME: whale_intent,
    fear_greed.NAME: fear_greed,
}

_RULE_PARAMS: dict[str, tuple[str, ...]] = {
    taker_aggression.NAME: ("taker_min_share", "taker_window"),
    whale_intent.NAME: ("whale_cvd_threshold_usd", "whale_window_minutes"),
    fear_greed.NAME: ("fear_greed_cutoff", "fear_greed_multiplier"),
}
# What each guard's events record: its rule's parameters and the TTLs that judged its data.
GUARD_PARAMS: dict[str, tuple[str, ...]] = {
    name: params + tuple(ttl_parameter(kind) for kind in GUARDS[name].NEEDS) for name, params in _RULE_PARAMS.items()
}


def build_steps(params: Params) -> list[GuardStep]:
    """The chain in the order of the `guard_order` parameter, each rule bound to its parameters.

    An unusable `guard_order` reads as the default order (Params.raw); a rule whose own
    parameter is unusable becomes a step that fails open with that parameter's problem.
    """
    bound = {
        taker_aggression.NAME: partial(taker_aggression.evaluate, min_share=params.decimal("taker_min_share")),
        whale_intent.NAME: whale_intent.evaluate,
        fear_greed.NAME: partial(
            fear_greed.evaluate,
            cutoff=params.decimal("fear_greed_cutoff"),
            multiplier=params.decimal("fear_greed_multiplier"),
        ),
    }
    return [
        GuardStep(name, GUARDS[name].NEEDS, bound[name], params.problem(*_RULE_PARAMS[name]))
        for name in params.raw("guard_order")
        if name in GUARDS
    ]


@dataclass(frozen=True)
class ChainResult:
    results: tuple[GuardResult, ...]
    size_multiplier: Decimal

    @property
    def blocked_by(self) -> str | None:
        return next((r.guard for r in self.results if r.decision is Decision.BLOCK), None)

    @property
    def allowed(self) -> bool:
        return self.blocked_by is None

    @property
    def reason(self) -> str:
        if blocker := next((r for r in self.results if r.decision is Decision.BLOCK), None):
            return blocker.reason
        resized = [r.reason for r in self.results if r.decision is Decision.RESIZE]
        return "; ".join(resized) if resized else "all guards allow"

    def final_size(self, base_size: Decimal) -> Decimal:
        return base_size * self.size_multiplier


def run_chain(steps: Sequence[GuardStep], signal: Signal, intel: Intel, now: datetime) -> ChainResult:
    """Run each guard in order. After a block, later guards are recorded as skipped.

    A guard whose parameters or inputs are missing, unparseable, or (inputs) older than 2x TTL
    fails open (allows).
    A blocked signal has multiplier 0; otherwise the product of every resize.
    """
    results: list[GuardResult] = []
    for step in steps:
        if any(r.decision is Decision.BLOCK for r in results):
            results.append(GuardResult.skipped(step.name))
        elif problem := step.problem or intel.unusable(step.needs, now):
            results.append(GuardResult.fail_open(step.name, problem))
        else:
            results.append(step.evaluate(signal, intel))
    multiplier = Decimal("1")
    for r in results:
        multiplier *= r.size_multiplier if r.decision in (Decision.RESIZE, Decision.BLOCK) else 1
    return ChainResult(tuple(results), multiplier)
