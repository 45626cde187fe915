"""Template helpers for the reviewer's pages."""

from django import template

register = template.Library()


@register.filter
def id_in(obj, ids) -> bool:
    """Whether this very object (not an equal one) is among ``ids`` (a set of ``id()`` values)."""
    return id(obj) in ids
