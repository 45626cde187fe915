"""Field-level review of the draft: every field that differs from the current release, with its value
before and after, who changed it and when (from django-simple-history), and whether a second person
made or approved it (the two-person rule).

The baseline is the editorial state stored with the (verified) release: every editorial row, field by
field, as it was when published. A change is exactly a difference from what was published, so a save
that changes nothing, or a field changed and changed back, is not a change. Each history record keeps
the fields its save changed (``indications.signals``); a change is credited to the newest save that
changed that field to its current value. A change no save explains (a script, a queryset update, raw
SQL) is credited to nobody, whoever saves the row next, and only an approval by someone else clears it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from simple_history import utils as history_utils
from simple_history.models import HistoricalRecords

from .engine.checks import word_diff
from .engine.vocabulary import CLINICAL_FIELDS, CLINICAL_MODEL_FIELDS
from .models import EDITORIAL_MODELS, CatalogueRelease, DraftApproval

EDITOR_ONLY_FIELDS = frozenset({"notes"})  # never shown to clinicians
MARKS = "_history_marks"
LONG_TEXT = 60  # longer values are shown as a word-level difference


def _json(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def _fields(model):
    concrete = [f for f in model._meta.concrete_fields if not f.primary_key]
    return concrete, list(model._meta.many_to_many)


def editorial_state() -> dict[str, Any]:
    """Every editorial row as JSON (foreign keys and many-to-many as primary keys), plus the newest
    history record of each model: what a release stores as the next review's baseline."""
    state: dict[str, Any] = {}
    marks: dict[str, int] = {}
    for model in EDITORIAL_MODELS:
        concrete, m2m = _fields(model)
        fks = [f.name for f in concrete if f.is_relation]
        rows = {}
        for obj in model.objects.select_related(*fks).prefetch_related(*(f.name for f in m2m)):
            row = {f.name: _json(f.value_from_object(obj)) for f in concrete}
            row.update({f.name: sorted(o.pk for o in getattr(obj, f.name).all()) for f in m2m})
            row["__str__"] = str(obj)
            rows[str(obj.pk)] = row
        state[model._meta.label_lower] = rows
        marks[model._meta.label_lower] = model.history.aggregate(m=Max("history_id"))["m"] or 0
    state[MARKS] = marks
    return state


def _latest_changes(model) -> dict[tuple[str, str], tuple[Any, Any]]:
    """For each (row, field): the newest history record whose save changed that field (its
    ``changed_fields``), with the value it set; for a deleted row, key (row, "") holds the deletion."""
    concrete, m2m = _fields(model)
    by_name = {f.name: f for f in concrete}
    records = list(model.history.select_related("history_user").order_by("history_id"))
    m2m_values: dict[str, dict[int, list[int]]] = {}
    for f in m2m:
        through = HistoricalRecords.m2m_models[f]
        target = history_utils.get_m2m_reverse_field_name(f) + "_id"
        values: dict[int, list[int]] = {}
        for history_id, pk in through.objects.values_list("history_id", target):
            values.setdefault(history_id, []).append(pk)
        m2m_values[f.name] = values
    latest: dict[tuple[str, str], tuple[Any, Any]] = {}
    for record in records:
        pk = str(record.id)
        if record.history_type == "-":
            latest[(pk, "")] = (record, None)
            continue
        for name in record.changed_fields or ():  # None: a record from before changes were kept
            if name in by_name:
                latest[(pk, name)] = (record, _json(getattr(record, by_name[name].attname)))
            elif name in m2m_values:
                latest[(pk, name)] = (record, sorted(m2m_values[name].get(record.history_id, [])))
    return latest


# A row reaches clinicians when it is published and so is the row it belongs to.
PARENTS = {
    "indications.caveat": ("indication", "indications.indication"),
    "indications.guideline": ("indication", "indications.indication"),
    "indications.study": ("indication", "indications.indication"),
    "indications.evidencegap": ("indication", "indications.indication"),
    "indications.drugname": ("drug", "indications.drug"),
}


def released(state: dict, label: str, row: dict | None) -> bool:
    if row is None or not row.get("is_published", True):
        return False
    if label not in PARENTS:
        return True
    fk, parent_label = PARENTS[label]
    return released(state, parent_label, state.get(parent_label, {}).get(str(row.get(fk))))


def _changed(before: dict | None, after: dict | None) -> set[str]:
    names = set(before or {}) | set(after or {})
    names.discard("__str__")
    return {n for n in names if (before or {}).get(n) != (after or {}).get(n)}


def identity(label: str, pk: str, name: str, value: Any) -> str:
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{label}:{pk}:{name}:{digest}"


@dataclass
class FieldChange:
    model: str  # e.g. indications.renalrule
    model_name: str  # e.g. renal rule
    pk: str
    record: str  # how the row reads (after the change; before it, for a removed row)
    field: str
    field_label: str
    before: Any
    after: Any
    kind: str  # added (a new row), removed (a deleted row) or changed
    clinical: str  # "" or what kind of clinical change: dose, rating, severity, verdict effect, publication
    visible: bool  # reaches clinicians (not an editor-only note, not a row unpublished before and after)
    changed_by_id: int | None = None
    changed_by: str = ""  # username; empty: no history record explains it
    changed_at: datetime.datetime | None = None
    history_url: str = ""
    approved_by: list[str] = field(default_factory=list)
    approver_ids: list[int] = field(default_factory=list)
    identity: str = ""  # the raw value's identity, which an approval records

    @property
    def before_text(self) -> str:
        return _display(self.before)

    @property
    def after_text(self) -> str:
        return _display(self.after)

    @property
    def word_diff(self) -> list[tuple[str, str]] | None:
        """For long texts: (op, words) pieces, op one of "same", "del", "ins"."""
        before, after = self.before_text, self.after_text
        if max(len(before), len(after)) < LONG_TEXT or self.kind != "changed":
            return None
        return word_diff(before, after)

    def cleared_for(self, user) -> bool:
        """Made or approved by someone other than ``user``."""
        made_by_other = self.changed_by_id is not None and self.changed_by_id != user.pk
        return made_by_other or any(a != user.pk for a in self.approver_ids)


def _display(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _labels(model, name: str, value: Any, names: dict) -> Any:
    """A value as an editor reads it: choices by their label, related rows by their name."""
    if value is None or not name:
        return None
    f = model._meta.get_field(name)
    if f.many_to_many:
        return [names.get((f.related_model, pk), f"#{pk}") for pk in value]
    if f.is_relation:
        return names.get((f.related_model, value), f"#{value}")
    if f.choices:
        return dict(f.flatchoices).get(value, value)
    return value


def _related_names(state: dict, current: dict) -> dict:
    """(model, pk) -> str for every editorial row in either state, for showing related rows."""
    names = {}
    for model in EDITORIAL_MODELS:
        label = model._meta.label_lower
        for rows in (state.get(label, {}), current.get(label, {})):
            for pk, row in rows.items():
                names[(model, int(pk))] = row["__str__"]
    return names


def _history_url(model, pk: str) -> str:
    """The record's history in admin: every version with its differences (deleted records too)."""
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[pk])
    except NoReverseMatch:
        return ""


def field_changes(baseline: dict, current: dict, approvals=()) -> list[FieldChange]:
    """Every field that differs between the baseline (the release) and now.

    A row clinicians saw in the release, or will see now, is compared as released: its released
    values against its values now, or against nothing when it was not released (a row published, or
    whose parent is published, for the first time shows every field, empty ones included, however
    long ago it was edited). Rows unpublished before and after are compared too, marked as not seen by
    clinicians; a draft row deleted under a parent clinicians will now see is listed as removed.

    Each field is credited to the newest save that changed it and set its current value (for a row
    already released, a save after the release); a removal to what took the row away since the
    release (its deletion, unpublishing, a move to another parent, or its parent's removal); anything
    else, or a removal with several authors, to no one.
    """
    marks = baseline.get(MARKS, {})
    names = _related_names(baseline, current)
    latest = {model._meta.label_lower: _latest_changes(model) for model in EDITORIAL_MODELS}
    approved: dict[str, list] = {}
    for approval in approvals:
        for item in approval.changes:
            approved.setdefault(item, []).append(approval)
    changes: list[FieldChange] = []

    def add(model, pk, name, before, after, kind, visible, record, row):
        label = model._meta.label_lower
        field_label = str(model._meta.get_field(name).verbose_name) if name else "the whole record"
        change = FieldChange(
            model=label,
            model_name=str(model._meta.verbose_name),
            pk=pk,
            record=row.get("__str__", f"#{pk}"),
            field=name,
            field_label=field_label,
            before=_labels(model, name, before, names) if name else None,
            after=_labels(model, name, after, names) if name else None,
            kind=kind,
            clinical=_clinical(model, name, kind),
            visible=visible and name not in EDITOR_ONLY_FIELDS,
            identity=identity(label, pk, name, [kind, before, after]),
            history_url=_history_url(model, pk),
        )
        if record is not None:
            change.changed_by_id = record.history_user_id
            change.changed_by = record.history_user.get_username() if record.history_user else ""
            change.changed_at = record.history_date
        for approval in approved.get(change.identity, ()):
            change.approver_ids.append(approval.approved_by_id)
            change.approved_by.append(approval.approved_by.get_username())
        changes.append(change)

    for model in EDITORIAL_MODELS:
        label = model._meta.label_lower
        mark = marks.get(label, 0)
        concrete, m2m = _fields(model)
        known = {f.name for f in (*concrete, *m2m)}  # a field a later migration removed is ignored
        before_rows, after_rows = baseline.get(label, {}), current.get(label, {})
        for pk in sorted(set(before_rows) | set(after_rows), key=int):
            base, now = before_rows.get(pk), after_rows.get(pk)
            was, is_ = released(baseline, label, base), released(current, label, now)
            visible = was or is_
            before, after = (base if was else None, now if is_ else None) if visible else (base, now)
            if before is None and after is None:
                continue
            kind = "added" if before is None else "removed" if after is None else "changed"
            fields = {n for n in _changed(before, after) if n in known}
            if kind == "added":  # every field of a row released for the first time, empty ones too
                fields = known & set(after)
            elif kind == "removed":
                fields = {n for n in fields if before.get(n) not in (None, "", [])}
            remover = _remover(latest, marks, baseline, current, label, pk) if kind == "removed" else None
            for name in sorted(fields):
                if kind == "removed":
                    record = remover
                else:
                    record, value = latest[label].get((pk, name), (None, None))
                    if record is not None and (
                        value != after.get(name) or (was and record.history_id <= mark)
                    ):
                        record = None  # no recorded save explains the current value
                row = after or before
                add(
                    model,
                    pk,
                    name,
                    (before or {}).get(name),
                    (after or {}).get(name),
                    kind,
                    visible,
                    record,
                    row,
                )
        # Draft rows deleted since the release under a parent clinicians will now see.
        if label in PARENTS:
            fk, parent_label = PARENTS[label]
            for (pk, name), (record, _value) in latest[label].items():
                if name or record.history_id <= mark or pk in before_rows or pk in after_rows:
                    continue
                parent_pk = str(getattr(record, f"{fk}_id"))
                if released(current, parent_label, current.get(parent_label, {}).get(parent_pk)):
                    add(model, pk, "", None, None, "removed", True, record, {"__str__": _describe(record)})
    return changes


def _describe(record) -> str:
    try:
        return str(record.instance)
    except ObjectDoesNotExist:  # it names a row deleted too
        return f"#{record.id}"


def _remover(latest, marks, baseline, current, label, pk):
    """What took a released row away since the release: its deletion, its unpublishing, its move to
    another parent, or the removal of the parent it was released under. None when no recorded save
    explains it, or when several people's saves did."""

    def after_mark(record, model_label):
        return record if record is not None and record.history_id > marks.get(model_label, 0) else None

    base, now = baseline[label][pk], current.get(label, {}).get(pk)
    if now is None:
        return after_mark(latest[label].get((pk, ""), (None, None))[0], label)
    causes = []
    if not now.get("is_published", True):
        record, value = latest[label].get((pk, "is_published"), (None, None))
        causes.append(after_mark(record, label) if value is False else None)
    if label in PARENTS:
        fk, parent_label = PARENTS[label]
        if now.get(fk) != base.get(fk):  # moved to another parent
            record, value = latest[label].get((pk, fk), (None, None))
            causes.append(after_mark(record, label) if value == now.get(fk) else None)
        parent_pk = str(base.get(fk))
        if not released(current, parent_label, current.get(parent_label, {}).get(parent_pk)):
            causes.append(_remover(latest, marks, baseline, current, parent_label, parent_pk))
    if not causes or None in causes or len({c.history_user_id for c in causes}) > 1:
        return None
    return max(causes, key=lambda c: c.history_id)


# Models whose rows, added or removed, change what clinicians are told.
ROW_MODELS = frozenset(
    {
        "indications.indication",
        "indications.study",
        "indications.caveat",
        "indications.guideline",
        "indications.evidencegap",
        "indications.safetynote",
        "indications.patientnote",
        "indications.drug",
        "indications.drugname",
        "indications.renalrule",
        "indications.hepaticrule",
        "indications.conditionrule",
        "indications.interactionrule",
        "indications.standardflag",
        "indications.clinicalcode",
        "indications.doseregimen",
        "indications.labelledlimit",
    }
)


def _clinical(model, name: str, kind: str) -> str:
    label = model._meta.label_lower
    if (label, name) in CLINICAL_MODEL_FIELDS:
        return CLINICAL_MODEL_FIELDS[(label, name)]
    if name in CLINICAL_FIELDS:
        return CLINICAL_FIELDS[name]
    if name == "is_published" or (kind != "changed" and model._meta.label_lower in ROW_MODELS):
        return "publication"
    return ""


def approvals_for(release: CatalogueRelease | None):
    if release is None:
        return []
    return list(DraftApproval.objects.filter(base_release=release).select_related("approved_by"))
