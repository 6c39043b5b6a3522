"""The ordered guard chain of SPEC §3: first block ends it; unusable data fails open."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from guards.domain.params import Params, ttl_parameter
from guards.domain.rules import CONTRACTS
from guards.domain.spec import GuardContract
from guards.domain.types import Decision, GuardResult, Intel, Signal

Evaluate = Callable[[Signal, Intel], GuardResult]


@dataclass(frozen=True)
class GuardStep:
    name: str
    needs: tuple[str, ...]
    evaluate: Evaluate
    problem: str | None = None  # a parameter the rule needs is unusable: the step fails open with it


# Every guard on signals, by name (guards/domain/rules: one contract per module).
GUARDS: dict[str, GuardContract] = {contract.name: contract for contract in CONTRACTS}
# What each guard's events record: its rule's parameters and the TTLs that judged its data.
GUARD_PARAMS: dict[str, tuple[str, ...]] = {
    c.name: c.parameter_names + tuple(ttl_parameter(kind) for kind in c.needs) for c in CONTRACTS
}

# Every input some guard may read, whatever the order: read together in one cache round trip.
ANY_GUARD_NEEDS: tuple[str, ...] = tuple(dict.fromkeys(kind for c in CONTRACTS for kind in c.needs))


def build_steps(params: Params) -> list[GuardStep]:
    """The chain in the order of the `guard_order` parameter, each rule bound to the parameters.

    An unusable `guard_order` reads as the default order (Params.raw); a rule whose own
    parameter is unusable becomes a step that fails open with that parameter's problem.
    """
    return [_step(GUARDS[name], params) for name in params.raw("guard_order") if name in GUARDS]


def _step(contract: GuardContract, params: Params) -> GuardStep:
    problem = params.problem(*contract.parameter_names)
    return GuardStep(contract.name, contract.needs, partial(_run, contract, params), problem)


def _run(contract: GuardContract, params: Params, signal: Signal, intel: Intel) -> GuardResult:
    return contract.evaluate(signal, intel, params)


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


def replay_record(steps: Sequence[GuardStep], intel: Intel, params: Params, now: datetime) -> dict[str, Any]:
    """Everything the chain read, JSON-ready, so a decision can be replayed exactly at other
    parameter values (SPEC §5.2, §5.4): the order it ran, why each guard could not decide
    (skipped guards included), the decimal inputs and every guard parameter with its version.
    The whale flow is the evaluation's snapshot (its FlowDetail splits at any threshold)."""
    return {
        "guard_order": [step.name for step in steps],
        "problems": {step.name: step.problem or intel.unusable(step.needs, now) for step in steps},
        "values": {kind: str(r.value) for kind, r in intel.readings.items() if isinstance(r.value, Decimal)},
        "parameters": params.stamp(*dict.fromkeys(p for step in steps for p in GUARD_PARAMS[step.name])),
    }


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
