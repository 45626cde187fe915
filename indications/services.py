"""Every change of catalogue state goes through these keyword-only functions."""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from .engine.checks import (
    clinical_change_lines,
    future_study_problems,
    snapshot_changes,
    snapshot_problems,
)
from .models import (
    EDITORIAL_MODELS,
    CatalogueRelease,
    DraftApproval,
    LabelledLimit,
    Study,
)
from .review import FieldChange, approvals_for, editorial_state, field_changes
from .snapshot import build_snapshot, content_hash, sign_release, verified_baseline


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


@dataclass
class DraftReview:
    """What publishing now would release, field by field, for the reviewer's pages and the rule."""

    latest: CatalogueRelease | None
    snapshot: dict
    digest: str  # the snapshot's content hash
    approvals: list[DraftApproval]  # approvals given since the current release
    state: dict  # every editorial row now (stored with the release as the next baseline)
    draft_hash: str  # what the reviewer was shown: the current release and the draft's content
    unchanged: bool
    baseline_known: bool  # False for a release published before field-level review
    changes: list[FieldChange]
    item_changes: list[str]  # one line per added, removed or changed item of the release content
    clinical_lines: list[str]  # the clinicians' "what changed" note
    problems: list[str]  # what would block publishing
    limits: list[dict]  # the labelled limits the checks apply

    @property
    def visible_changes(self) -> list[FieldChange]:
        return [c for c in self.changes if c.visible]

    def uncleared_for(self, user) -> list[FieldChange]:
        """Changes that ``user`` may not publish alone: made by nobody else and approved by nobody else.
        When the release has no field-level baseline, or the content changed in a way no row change
        explains, the whole draft needs another reviewer's approval."""
        if self.unchanged:
            return []
        uncleared = [c for c in self.visible_changes if not c.cleared_for(user)]
        if self.baseline_known and self.visible_changes:
            return uncleared
        whole_draft = f"draft:{self.draft_hash}"
        approved = any(whole_draft in a.changes and a.approved_by_id != user.pk for a in self.approvals)
        return uncleared if approved or self.latest is None else [*uncleared, _WHOLE_DRAFT]


_WHOLE_DRAFT = FieldChange(
    model="",
    model_name="draft",
    pk="",
    record="the whole draft",
    field="",
    field_label="content",
    before=None,
    after=None,
    kind="changed",
    clinical="",
    visible=True,
)


@contextmanager
def consistent_read():
    """One transaction that sees one state of the database, so that the hash of the draft, its
    field-level review and the release made from it all describe the same draft even while editors
    keep saving: REPEATABLE READ on PostgreSQL (when this is the outermost transaction); SQLite's
    transaction already reads one state."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def draft_hash(latest: CatalogueRelease | None, digest: str, changes: list[FieldChange]) -> str:
    """What the reviewer was shown: the release compared with, the draft's content, and every change
    clinicians would see with who it is credited to (so an approval or a publication never covers a
    change, or an attribution, that was not on the page)."""
    shown = sorted(f"{c.identity}|{c.changed_by_id}" for c in changes if c.visible)
    payload = json.dumps([latest.number if latest else 0, digest, shown])
    return hashlib.sha256(payload.encode()).hexdigest()


def review_draft() -> DraftReview:
    with consistent_read():
        return _review_draft()


def _review_draft() -> DraftReview:
    latest = CatalogueRelease.objects.order_by("-number").first()
    # A release that fails its integrity check is never a baseline: raises ReleaseIntegrityError.
    baseline = verified_baseline(latest) if latest else {}
    snapshot = build_snapshot()
    digest = content_hash(snapshot)
    state = editorial_state()
    baseline_known = baseline is not None
    approvals = approvals_for(latest)
    changes = field_changes(baseline, state, approvals) if baseline_known else []
    return DraftReview(
        latest=latest,
        snapshot=snapshot,
        digest=digest,
        approvals=approvals,
        state=state,
        draft_hash=draft_hash(latest, digest, changes),
        unchanged=latest is not None and latest.content_hash == digest,
        baseline_known=baseline_known,
        changes=changes,
        item_changes=snapshot_changes(latest.snapshot if latest else None, snapshot),
        clinical_lines=clinical_change_lines(latest.snapshot if latest else None, snapshot),
        problems=catalogue_problems(snapshot),
        limits=snapshot["labelled_limits"],
    )


PUBLISH_LOCK = 0x6D656D61  # PostgreSQL advisory lock held while a release is being published


def _lock_publishing() -> None:
    """One publication at a time: on PostgreSQL an advisory lock until the transaction ends; on SQLite
    the database's single write lock, taken first (a second publication waits, or fails and is
    refused below)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PUBLISH_LOCK])
        else:  # a write that changes nothing takes SQLite's write lock before anything is read
            cursor.execute(f"UPDATE {DraftApproval._meta.db_table} SET id = id WHERE 0 = 1")


def _stale(review: DraftReview, reviewed_hash: str | None) -> list[str]:
    if reviewed_hash == review.draft_hash:
        return []
    if not reviewed_hash:
        return ["Open the publish page and review the draft: publishing needs the draft you were shown."]
    return [
        "The draft changed since you reviewed it"
        + (f" (or release {review.latest.version} was published meanwhile)" if review.latest else "")
        + ": review the difference as it is now, below, and publish again."
    ]


def publish_release(
    *, user, change_summary: str, reviewed_hash: str | None = None, now=None
) -> CatalogueRelease:
    """Freeze the published rows of the editorial catalogue into the next numbered release.

    ``user`` None is the command line publishing the very first (seed) release; every later release
    is published by a named reviewer, who passes the ``reviewed_hash`` of the draft they were shown.
    Two publications at once give one release and one refusal.
    """
    try:
        with consistent_read():
            return _publish(user=user, change_summary=change_summary, reviewed_hash=reviewed_hash, now=now)
    except (IntegrityError, OperationalError) as error:
        message = str(error).lower()
        if isinstance(error, OperationalError) and "lock" not in message and "serializ" not in message:
            raise
        latest = CatalogueRelease.objects.order_by("-number").first()
        raise PublishRefused(
            [
                "Another reviewer published at the same moment"
                + (f" (release {latest.version})" if latest else "")
                + ": review the difference as it is now and publish again if it is still needed."
            ]
        ) from error


def _publish(*, user, change_summary: str, reviewed_hash: str | None, now) -> CatalogueRelease:
    now = now or timezone.now()
    _lock_publishing()
    problems: list[str] = []
    if not change_summary.strip():
        problems.append("Describe the changes in this release.")
    review = review_draft()
    latest = review.latest
    if user is None and latest is not None:
        problems.append("Only the first release may be published without a named reviewer.")
    if user is not None and not user.has_perm("indications.publish_release"):
        problems.append("You do not have permission to publish releases.")
    if user is not None:
        problems += _stale(review, reviewed_hash)
    if not settings.CATALOGUE_SIGNING_KEY_STABLE:
        problems.append(
            "Set DJANGO_SECRET_KEY (or CATALOGUE_SIGNING_KEY): releases are signed with it, and one signed"
            " with this process's throw-away key would be refused by every other process."
        )
    if review.unchanged:
        problems.append(f"Nothing has changed since release {latest.version}.")
    problems += review.problems
    if user is not None and settings.CATALOGUE_TWO_PERSON_RULE and not review.unchanged:
        uncleared = review.uncleared_for(user)
        if uncleared:
            problems.append(
                "Two-person rule: these changes were made by you (or by no one recorded) and approved by"
                " no one else, so another reviewer must approve or publish them: "
                + "; ".join(_describe(c) for c in uncleared[:20])
                + ("; …" if len(uncleared) > 20 else "")
                + "."
            )
    if problems:
        raise PublishRefused(problems)

    number = latest.number + 1 if latest else 1
    fields = {
        "number": number,
        "version": f"{timezone.localdate(now):%Y-%m-%d}.{number}",
        "content_hash": review.digest,
        "published_by_id": user.pk if user else None,
        "change_summary": change_summary.strip(),
        "clinical_changes": review.clinical_lines,
        "editorial_state_hash": content_hash(review.state),
    }
    return CatalogueRelease.objects.create(
        **fields,
        snapshot=review.snapshot,
        editorial_state=review.state,
        published_at=now,
        signature=sign_release(fields),
    )


def _describe(change: FieldChange) -> str:
    if not change.field:
        return change.record
    return f"{change.model_name} “{change.record}”: {change.field_label}"


def approve_draft(*, user, reviewed_hash: str | None) -> DraftApproval:
    with consistent_read():
        return _approve(user=user, reviewed_hash=reviewed_hash)


def _approve(*, user, reviewed_hash: str | None) -> DraftApproval:
    """A reviewer approves the draft they were shown, so that changes someone else made alone may be
    published by them. Approving one's own changes counts for nothing (the rule asks for a second
    person), so it is refused."""
    _lock_publishing()
    review = review_draft()
    problems = []
    if not user.has_perm("indications.publish_release"):
        problems.append("You do not have permission to approve changes.")
    problems += _stale(review, reviewed_hash)
    if review.latest is None or review.unchanged:
        problems.append("There is nothing to approve.")
    others = [c for c in review.visible_changes if c.changed_by_id != user.pk]
    if not others and review.baseline_known and not review.unchanged:
        problems.append("Every change in the draft is yours: another reviewer must approve them.")
    if problems:
        raise PublishRefused(problems)
    return DraftApproval.objects.create(
        base_release=review.latest,
        approved_by=user,
        draft_hash=review.draft_hash,
        changes=[c.identity for c in others] + [f"draft:{review.draft_hash}"],
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
    # The labelled limits belong to the release checks: reviewers change them, editors cannot.
    edited = [m for m in EDITORIAL_MODELS if m is not LabelledLimit]
    edit = _model_permissions(edited, ("add", "change", "delete", "view"))
    edit_limits = _model_permissions([LabelledLimit], ("add", "change", "delete"))
    view_all = _model_permissions(
        [*EDITORIAL_MODELS, *history_models, CatalogueRelease, DraftApproval], ("view",)
    )
    publish = Permission.objects.get(codename="publish_release", content_type__app_label="indications")

    # Feedback from EHRs on the CDS Hooks cards: read by reviewers and auditors, written by no one here.
    from cds_hooks.models import CardFeedback

    feedback = _model_permissions([CardFeedback], ("view",))
    roles = {
        ROLE_EDITORS: [*edit, *view_all],
        ROLE_REVIEWERS: [*edit, *edit_limits, *view_all, *feedback, publish],
        ROLE_AUDITORS: [*view_all, *feedback],
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
