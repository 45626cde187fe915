"""What each save of an editorial row actually changed, kept on its history record.

django-simple-history stores the row as it is after a save; the field-level review needs to know
which fields that save changed, compared with the row in the database just before it, not with the
previous history record (a queryset update or raw SQL in between leaves no record, and would otherwise
be credited to whoever saves the row next). Before each save the row's stored values are read; before
each many-to-many change the current set is read; when simple-history creates the record, the fields
that differ are written to ``changed_fields``.
"""

from __future__ import annotations

from functools import partial

from django.db.models.signals import m2m_changed, pre_save
from simple_history.signals import pre_create_historical_record

BEFORE_SAVE = "_values_before_save"
M2M_PENDING = "_m2m_change_pending"


def _concrete(model):
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def remember_row(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    fields = _concrete(sender)
    values = sender._base_manager.filter(pk=instance.pk).values(*(f.attname for f in fields)).first()
    setattr(instance, BEFORE_SAVE, values)


def remember_set(sender, instance, action, reverse, attr, **kwargs):
    if reverse or action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    setattr(instance, M2M_PENDING, (attr, set(getattr(instance, attr).values_list("pk", flat=True))))


def record_changed_fields(sender, instance, history_instance, **kwargs):
    pending = instance.__dict__.pop(M2M_PENDING, None)
    if pending is not None:  # this record was made for a many-to-many change
        attr, before = pending
        after = set(getattr(instance, attr).values_list("pk", flat=True))
        history_instance.changed_fields = [attr] if after != before else []
        return
    fields = _concrete(type(instance))
    if history_instance.history_type == "-":
        history_instance.changed_fields = []
        return
    if history_instance.history_type == "+":
        history_instance.changed_fields = [f.name for f in fields]
        return
    before = instance.__dict__.pop(BEFORE_SAVE, None)
    if before is None:  # a record no save of ours preceded (e.g. the other side of a many-to-many)
        history_instance.changed_fields = []
        return
    history_instance.changed_fields = [
        f.name for f in fields if before[f.attname] != getattr(instance, f.attname)
    ]


def connect(models) -> None:
    for model in models:
        pre_save.connect(remember_row, sender=model, dispatch_uid=f"remember-row-{model._meta.label}")
        pre_create_historical_record.connect(
            record_changed_fields,
            sender=model.history.model,
            dispatch_uid=f"changed-fields-{model._meta.label}",
        )
        for field in model._meta.many_to_many:
            m2m_changed.connect(
                partial(remember_set, attr=field.name),
                sender=field.remote_field.through,
                weak=False,
                dispatch_uid=f"remember-set-{model._meta.label}-{field.name}",
            )
