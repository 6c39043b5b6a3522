"""Who may do what in the admin: the roles the migration ships, tried through the admin itself.

Each cell performs the action over HTTP as that user and checks what it changed in the
database (or whether the page was shown), so a role that merely hides a button but lets a
crafted POST through fails here.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from guards.models import ApiToken, ParameterVersion
from guards.parameters import approve_version, propose_version
from guards.tokens import issue_token

pytestmark = pytest.mark.django_db
ADMIN = "/admin/guards/parameterversion/"
WHALE = "whale_cvd_threshold_usd"
ROLES = ("anonymous", "staff", "proposer", "approver", "auditor", "superuser")


def make_user(role):
    User = get_user_model()
    if role == "anonymous":
        return None
    if role == "superuser":
        return User.objects.create_superuser(role, f"{role}@example.com", f"pw-{role}-1")
    user = User.objects.create_user(role, password=f"pw-{role}-1", is_staff=True)
    if role != "staff":
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def other():
    """Someone else: proposes the versions the user under test is asked to decide."""
    return get_user_model().objects.create_superuser("other", "other@example.com", "pw-other-1")


def view_events(client, user, other):
    return client.get("/admin/guards/guardevent/").status_code == 200


def propose(client, user, other):
    client.post(f"{ADMIN}add/?parameter={WHALE}", {"value": "120000", "reason": "matrix"})
    return ParameterVersion.objects.filter(parameter=WHALE, value=120000).exists()


def approve_own(client, user, other):
    if user is None:
        return False  # nobody to own a proposal
    mine = propose_version(parameter=WHALE, value=130000, proposer=user, reason="mine")
    client.post(f"{ADMIN}{mine.pk}/approve/", {"reason": "matrix"})
    return ParameterVersion.objects.get(pk=mine.pk).status == "ACTIVE"


def approve_anothers(client, user, other):
    theirs = propose_version(parameter=WHALE, value=140000, proposer=other, reason="theirs")
    client.post(f"{ADMIN}{theirs.pk}/approve/", {"reason": "matrix"})
    return ParameterVersion.objects.get(pk=theirs.pk).status == "ACTIVE"


def roll_back(client, user, other):
    second = make_user_once("second")
    newer = propose_version(parameter=WHALE, value=150000, proposer=other, reason="newer")
    approve_version(version=newer, approver=second, now=timezone.now(), reason="ok")
    first = ParameterVersion.objects.get(parameter=WHALE, version=1)  # now superseded
    client.post(f"{ADMIN}{first.pk}/propose-again/", {"reason": "roll back"})
    return ParameterVersion.objects.filter(parameter=WHALE, status="PROPOSED", value=first.value).exists()


def revoke_token(client, user, other):
    _, row = issue_token(user=other, name="bot")
    client.post("/admin/guards/apitoken/", {"action": "revoke", "_selected_action": [row.pk]})
    return ApiToken.objects.get(pk=row.pk).revoked_at is not None


def edit_beat_row(client, user, other):
    every = IntervalSchedule.objects.create(every=300, period=IntervalSchedule.SECONDS)
    task = PeriodicTask.objects.create(name="matrix row", task="guards.fetch_input", interval=every, enabled=True)
    client.post("/admin/django_celery_beat/periodictask/", {"action": "disable_tasks", "_selected_action": [task.pk]})
    disabled = not PeriodicTask.objects.get(pk=task.pk).enabled
    client.post(
        f"/admin/django_celery_beat/periodictask/{task.pk}/change/",
        {"name": "matrix row", "task": "guards.fetch_input", "interval": every.pk, "args": "[]", "kwargs": "{}"},
    )
    return disabled or PeriodicTask.objects.get(pk=task.pk).enabled is not True


def make_user_once(username):
    User = get_user_model()
    return User.objects.filter(username=username).first() or User.objects.create_superuser(
        username, f"{username}@example.com", f"pw-{username}-1"
    )


ACTIONS = {
    "view events": view_events,
    "propose": propose,
    "approve own": approve_own,
    "approve another's": approve_anothers,
    "roll back": roll_back,
    "revoke a token": revoke_token,
    "edit a beat row": edit_beat_row,
}
# Four eyes hold for everyone, the superuser included: nobody approves their own proposal.
ALLOWED = {
    "anonymous": set(),
    "staff": set(),
    "proposer": {"view events", "propose", "roll back"},
    "approver": {"view events", "approve another's"},
    "auditor": {"view events"},
    "superuser": {"view events", "propose", "approve another's", "roll back", "revoke a token", "edit a beat row"},
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, other, role, action):
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    assert ACTIONS[action](client, user, other) is (action in ALLOWED[role]), json.dumps([role, action])


def test_the_approver_and_the_auditor_read_the_audit_trail(client):
    for role in ("approver", "auditor", "proposer"):
        client.force_login(make_user(role))
        assert client.get("/admin/guards/parameterchange/").status_code == 200, role


def test_the_roles_are_the_migrations_groups():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == {
        "proposer",
        "approver",
        "auditor",
    }


@pytest.mark.parametrize("role", ["proposer", "approver", "auditor"])
def test_every_role_reads_the_evidence_behind_a_proposal(client, role):
    client.force_login(make_user(role))
    for page in ("optimizerrun", "effectivenessrun", "effectivenessreport"):
        assert client.get(f"/admin/optimizer/{page}/").status_code == 200, page
