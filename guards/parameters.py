"""Versioned parameters (SPEC §5.5): propose, approve, reject; one active version, audited."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction

from guards.domain.inputs import TTL_SECONDS
from guards.domain.params import ttl_parameter, validate_value
from guards.events import LogTag
from guards.models import ParameterChange, ParameterVersion
from guards.schedule import install_schedule

logger = logging.getLogger("guards.parameters")
APPROVE_PERMISSION = "guards.approve_parameterversion"
Status = ParameterVersion.Status
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
        _audit(version, "PROPOSED", None, value, proposer, reason)
    return version


def approve_version(
    *, version: ParameterVersion, approver, now: datetime, auto: bool = False, reason: str = ""
) -> ParameterVersion:
    """Make a proposal active and supersede the active one, atomically (exactly one active).

    A person needs the approve permission and may not approve their own proposal; `auto`
    is the optimizer's AUTO_APPROVE_OPTIMIZER path and is recorded as such.
    """
    if not auto:
        _check_approver(version, approver)
    with transaction.atomic():
        locked = ParameterVersion.objects.select_for_update().filter(parameter=version.parameter)
        proposal = locked.get(pk=version.pk)
        if proposal.status != Status.PROPOSED:
            raise ApprovalError(f"{proposal} is {proposal.status.lower()}, not proposed")
        previous = locked.filter(status=Status.ACTIVE).first()
        if previous:
            previous.status = Status.SUPERSEDED
            previous.save(update_fields=["status"])
        proposal.status, proposal.approved_by, proposal.approved_at = Status.ACTIVE, approver, now
        proposal.auto_approved = auto
        proposal.save(update_fields=["status", "approved_by", "approved_at", "auto_approved"])
        _audit(
            proposal,
            "AUTO_APPROVED" if auto else "APPROVED",
            previous.value if previous else None,
            proposal.value,
            approver,
            reason or proposal.reason,  # the approver's why, else the proposer's
        )
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


def reject_version(*, version: ParameterVersion, rejecter, reason: str = "") -> ParameterVersion:
    _check_approver(version, rejecter)
    with transaction.atomic():
        proposal = ParameterVersion.objects.select_for_update().get(pk=version.pk)
        if proposal.status != Status.PROPOSED:
            raise ApprovalError(f"{proposal} is {proposal.status.lower()}, not proposed")
        proposal.status = Status.REJECTED
        proposal.save(update_fields=["status"])
        _audit(proposal, "REJECTED", None, proposal.value, rejecter, reason)
    return proposal


def _check_approver(version: ParameterVersion, user) -> None:
    if user is None or not user.has_perm(APPROVE_PERMISSION):
        raise ApprovalError("you lack the permission to approve or reject parameter versions")
    if version.proposed_by_id is not None and version.proposed_by_id == user.pk:
        raise ApprovalError("a proposal must be approved or rejected by someone other than its proposer")


def _audit(version, action, old_value, new_value, actor, reason) -> None:
    ParameterChange.objects.create(
        parameter=version.parameter,
        version=version,
        action=action,
        old_value=old_value,
        new_value=new_value,
        actor=actor,
        reason=reason,
    )
