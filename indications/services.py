"""Every change of catalogue state goes through these keyword-only functions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .engine.checks import future_study_problems, snapshot_changes, snapshot_problems
from .models import (
    CatalogueRelease,
    Caveat,
    Condition,
    ConditionRule,
    DoseRegimen,
    Drug,
    DrugClass,
    DrugName,
    EvidenceGap,
    Guideline,
    HepaticRule,
    Indication,
    InteractionRule,
    RenalRule,
    SafetyNote,
    Source,
    StandardFlag,
    Study,
)
from .snapshot import build_snapshot, content_hash

EDITORIAL_MODELS = (
    Source,
    DrugClass,
    Drug,
    DrugName,
    Indication,
    Caveat,
    Guideline,
    EvidenceGap,
    Study,
    SafetyNote,
    DoseRegimen,
    RenalRule,
    HepaticRule,
    Condition,
    ConditionRule,
    InteractionRule,
    StandardFlag,
)


class PublishRefused(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def leaked_unpublished_studies(snapshot: dict) -> list[str]:
    """Unpublished studies named in the published text of their indication ("Sepehrmanesh 2022",
    "Sepehrmanesh et al., 2022", "Sepehrmanesh (2022)": the author's name with the year near it).
    An evidence gap's reason may name them: it says what was reviewed and why it is not used."""
    texts = {
        ind["slug"]: " ".join(
            [
                ind["evidence_summary"],
                ind["clinical_significance"],
                *(c["text"] for c in ind["caveats"]),
                *(g["statement"] for g in ind["guidelines"]),
            ]
        )
        for ind in snapshot["indications"]
    }
    problems = []
    for study in Study.objects.filter(is_published=False, indication__slug__in=texts).select_related(
        "indication"
    ):
        name = f"{study.first_author} {study.year}" if study.year else study.first_author
        year = rf"\W{{1,20}}(?:et al\.?\W{{1,5}})?{study.year}\b" if study.year else ""
        if re.search(
            rf"\b{re.escape(study.first_author)}{year}", texts[study.indication.slug], re.IGNORECASE
        ):
            problems.append(
                f"Indication “{study.indication.name}” cites the unpublished study {name}: publish the study"
                " or remove it from the text."
            )
    return problems


def catalogue_problems(snapshot: dict | None = None) -> list[str]:
    """Checks before publishing (also `manage.py check_catalogue`)."""
    snapshot = build_snapshot() if snapshot is None else snapshot
    return (
        snapshot_problems(snapshot)
        + leaked_unpublished_studies(snapshot)
        + future_study_problems(snapshot, timezone.localdate().year)
    )


def editors_since(when) -> set[int | None]:
    """Users who changed editorial content after ``when`` (None: ever). None stands for changes made
    outside admin, e.g. by loading fixtures."""
    editors: set[int | None] = set()
    for model in EDITORIAL_MODELS:
        history = model.history.all()
        if when is not None:
            history = history.filter(history_date__gt=when)
        editors.update(history.values_list("history_user_id", flat=True).distinct())
    return editors


@dataclass(frozen=True)
class PendingChanges:
    """What publishing now would release, for the reviewer's pages."""

    latest: CatalogueRelease | None
    unchanged: bool
    changes: list[str]  # one line per added, removed or changed item
    editors: list[str]  # usernames of those who edited since the latest release
    unattributed_changes: bool  # edits made outside admin (fixtures, scripts)
    problems: list[str]  # what would block publishing


def pending_changes() -> PendingChanges:
    from django.contrib.auth import get_user_model

    latest = CatalogueRelease.objects.order_by("-number").first()
    snapshot = build_snapshot()
    editor_ids = editors_since(latest.published_at if latest else None)
    users = get_user_model().objects.filter(pk__in=[i for i in editor_ids if i is not None])
    return PendingChanges(
        latest=latest,
        unchanged=latest is not None and latest.content_hash == content_hash(snapshot),
        changes=snapshot_changes(latest.snapshot if latest else None, snapshot),
        editors=sorted(u.get_username() for u in users),
        unattributed_changes=None in editor_ids,
        problems=catalogue_problems(snapshot),
    )


@transaction.atomic
def publish_release(*, user, change_summary: str, now=None) -> CatalogueRelease:
    """Freeze the published rows of the editorial catalogue into the next numbered release.

    ``user`` None is the command line publishing the very first (seed) release; every later release
    is published by a named reviewer.
    """
    now = now or timezone.now()
    problems: list[str] = []
    if not change_summary.strip():
        problems.append("Describe the changes in this release.")
    latest = CatalogueRelease.objects.select_for_update().order_by("-number").first()
    if user is None and latest is not None:
        problems.append("Only the first release may be published without a named reviewer.")
    if user is not None and not user.has_perm("indications.publish_release"):
        problems.append("You do not have permission to publish releases.")

    snapshot = build_snapshot()
    digest = content_hash(snapshot)
    if latest is not None and latest.content_hash == digest:
        problems.append(f"Nothing has changed since release {latest.version}.")
    problems += catalogue_problems(snapshot)

    if user is not None and settings.CATALOGUE_TWO_PERSON_RULE:
        editors = editors_since(latest.published_at if latest else None)
        if editors == {user.pk}:
            problems.append(
                "Two-person rule: you are the only editor of these changes, so another reviewer must"
                " publish them."
            )
    if problems:
        raise PublishRefused(problems)

    number = latest.number + 1 if latest else 1
    return CatalogueRelease.objects.create(
        number=number,
        version=f"{timezone.localdate(now):%Y-%m-%d}.{number}",
        snapshot=snapshot,
        content_hash=digest,
        published_at=now,
        published_by=user,
        change_summary=change_summary.strip(),
    )


ROLE_EDITORS = "Editors"
ROLE_REVIEWERS = "Reviewers"
ROLE_AUDITORS = "Auditors"
DEMO_PASSWORD = "demo-password-change-me"


def _model_permissions(models, actions):
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    content_types = ContentType.objects.get_for_models(*models).values()
    codenames = [f"{action}_{ct.model}" for ct in content_types for action in actions]
    return list(Permission.objects.filter(content_type__in=content_types, codename__in=codenames))


@transaction.atomic
def setup_roles(*, demo: bool = False) -> dict[str, list[str]]:
    """Create or refresh the three editorial groups (idempotent). With ``demo``, also demo accounts."""
    from django.contrib.auth.models import Group, Permission, User

    history_models = [m.history.model for m in EDITORIAL_MODELS]
    edit = _model_permissions(EDITORIAL_MODELS, ("add", "change", "delete", "view"))
    view_all = _model_permissions([*EDITORIAL_MODELS, *history_models, CatalogueRelease], ("view",))
    publish = Permission.objects.get(codename="publish_release", content_type__app_label="indications")

    roles = {
        ROLE_EDITORS: [*edit, *view_all],
        ROLE_REVIEWERS: [*edit, *view_all, publish],
        ROLE_AUDITORS: view_all,
    }
    for name, permissions in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)

    created: list[str] = []
    if demo:
        for username, group_name in (
            ("editor", ROLE_EDITORS),
            ("reviewer", ROLE_REVIEWERS),
            ("reviewer2", ROLE_REVIEWERS),
            ("auditor", ROLE_AUDITORS),
        ):
            user, made = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            if made:
                user.set_password(DEMO_PASSWORD)
                user.save()
                created.append(username)
            user.groups.add(Group.objects.get(name=group_name))
    return {"groups": list(roles), "demo_users_created": created}
