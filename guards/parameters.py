"""Versioned parameters (SPEC §5.5): propose, approve, reject; one active version, audited."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from guards.domain.inputs import TTL_SECONDS
from guards.domain.params import ttl_parameter, validate_value
from guards.events import LogTag
from guards.intel.schedule import install_schedule
from guards.models import ParameterChange, ParameterVersion

logger = logging.getLogger("guards.parameters")
APPROVE_PERMISSION = "guards.approve_parameterversion"
Status = ParameterVersion.Status
Action = ParameterChange.Action
TTL_PARAMETERS = frozenset(ttl_parameter(kind) for kind in TTL_SECONDS)


class ApprovalError(Exception):
    """Why a version cannot be approved or rejected by this user now."""


def propose_version(
    *,
    parameter: str,
    value: Any,
    proposer,
    reason: str = "",
    origin: str = ParameterVersion.Origin.PERSON,
    evidence: dict | None = None,
) -> ParameterVersion:
    """File a new PROPOSED version (value validated and normalised), with its audit row."""
    value = validate_value(parameter, value)
    with transaction.atomic():
        taken = ParameterVersion.objects.select_for_update().filter(parameter=parameter)
        number = max(taken.values_list("version", flat=True), default=0) + 1
        version = ParameterVersion.objects.create(
            parameter=parameter,
            version=number,
            value=value,
            origin=origin,
            reason=reason,
            evidence=evidence or {},
            proposed_by=proposer,
        )
        _audit(version, Action.PROPOSED, active_value(parameter), value, proposer, reason)
    return version


def propose_again(*, version: ParameterVersion, proposer, reason: str) -> ParameterVersion:
    """A rollback in one step: an earlier (superseded or rejected) value filed as a new proposal,
    which then goes through the same approval by someone else."""
    if version.status not in (Status.SUPERSEDED, Status.REJECTED):
        raise ApprovalError(
            f"v{version.version} is {version.status.lower()}: only an earlier value can be proposed again"
        )
    return propose_version(
        parameter=version.parameter,
        value=version.value,
        proposer=proposer,
        reason=reason,
        evidence={"proposed_again_from_version": version.version},
    )


def _active(parameter: str) -> QuerySet[ParameterVersion]:
    """The parameter's ACTIVE version (at most one: a unique constraint)."""
    return ParameterVersion.objects.filter(parameter=parameter, status=Status.ACTIVE)


def active_version(parameter: str) -> ParameterVersion | None:
    return _active(parameter).first()


def active_value(parameter: str) -> Any:
    return _active(parameter).values_list("value", flat=True).first()


def approve_version(
    *, version: ParameterVersion, approver, now: datetime, auto: bool = False, reason: str = ""
) -> ParameterVersion:
    """Make a proposal active and supersede the active one, atomically (exactly one active).

    A person needs the approve permission and may not approve their own proposal; `auto`
    is the optimizer's AUTO_APPROVE_OPTIMIZER path and is recorded as such.
    """
    if not auto:
        _check_approver(version, approver, Action.APPROVAL_REFUSED)
    with transaction.atomic():
        locked = ParameterVersion.objects.select_for_update().filter(parameter=version.parameter)
        proposal = locked.get(pk=version.pk)
        if not (refusal := _not_proposed(proposal)):
            previous = _activate(proposal, locked, approver, now, auto)
            _audit(
                proposal,
                Action.AUTO_APPROVED if auto else Action.APPROVED,
                previous.value if previous else None,
                proposal.value,
                approver,
                reason or proposal.reason,  # the approver's why, else the proposer's
            )
    if refusal:  # recorded outside the transaction above, which changed nothing
        _refuse(proposal, approver, Action.APPROVAL_REFUSED, refusal)
    if proposal.parameter in TTL_PARAMETERS:  # the beat rows refresh each input once per its TTL
        transaction.on_commit(install_schedule)
    logger.info(
        "%s v%s active",
        proposal.parameter,
        proposal.version,
        extra={
            "tag": LogTag.HYPERPARAM,
            "parameter": proposal.parameter,
            "version": proposal.version,
            "old_value": previous.value if previous else None,
            "new_value": proposal.value,
            "approved_by": getattr(approver, "username", None),
            "auto": auto,
        },
    )
    return proposal


def _activate(proposal: ParameterVersion, locked, approver, now: datetime, auto: bool) -> ParameterVersion | None:
    """Supersede the active version and activate the proposal; returns the superseded one."""
    previous = locked.filter(status=Status.ACTIVE).first()
    if previous:
        previous.status = Status.SUPERSEDED
        previous.save(update_fields=["status"])
    proposal.status, proposal.approved_by, proposal.approved_at = Status.ACTIVE, approver, now
    proposal.auto_approved = auto
    proposal.save(update_fields=["status", "approved_by", "approved_at", "auto_approved"])
    return previous


def reject_version(*, version: ParameterVersion, rejecter, reason: str = "") -> ParameterVersion:
    _check_approver(version, rejecter, Action.REJECTION_REFUSED)
    with transaction.atomic():
        proposal = ParameterVersion.objects.select_for_update().get(pk=version.pk)
        refusal = _not_proposed(proposal)
        if not refusal:
            proposal.status = Status.REJECTED
            proposal.save(update_fields=["status"])
            _audit(proposal, Action.REJECTED, active_value(proposal.parameter), proposal.value, rejecter, reason)
    if refusal:
        _refuse(proposal, rejecter, Action.REJECTION_REFUSED, refusal)
    return proposal


def refusal_reason(version: ParameterVersion, user) -> str | None:
    """Why this user may not approve or reject this version now, or None when they may."""
    if user is None or not user.has_perm(APPROVE_PERMISSION):
        return "you lack the permission to approve or reject parameter versions"
    if version.proposed_by_id is not None and version.proposed_by_id == user.pk:
        return "a proposal must be approved or rejected by someone other than its proposer"
    return _not_proposed(version)


def _not_proposed(version: ParameterVersion) -> str | None:
    if version.status != Status.PROPOSED:
        return f"v{version.version} is {version.status.lower()}, not proposed"
    return None


def _check_approver(version: ParameterVersion, user, refused: str) -> None:
    if user is None or not user.has_perm(APPROVE_PERMISSION) or version.proposed_by_id == getattr(user, "pk", None):
        _refuse(version, user, refused, refusal_reason(version, user) or "refused")


def _refuse(version: ParameterVersion, user, action: str, why: str) -> None:
    """A refused attempt is part of the audit trail too: who tried what, and why it was refused."""
    _audit(version, action, active_value(version.parameter), version.value, user, why)
    raise ApprovalError(why)


def _audit(version, action, old_value, new_value, actor, reason) -> None:
    ParameterChange.objects.create(
        parameter=version.parameter,
        version=version,
        action=action,
        old_value=old_value,
        new_value=new_value,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
    )
