"""Accounts in each editorial role, for the web tests (the groups come from the seeded universe)."""

import pytest
from django.contrib.auth.models import Group, User


def make_user(name: str, group: str | None) -> User:
    user = User.objects.create_user(name, password="a-long-password-123", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def editor():
    return make_user("erin-editor", "Editors")


@pytest.fixture
def reviewer():
    return make_user("rita-reviewer", "Reviewers")


@pytest.fixture
def reviewer2():
    return make_user("rob-reviewer", "Reviewers")


@pytest.fixture
def auditor():
    return make_user("alan-auditor", "Auditors")
