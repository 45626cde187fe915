"""Template tags for printed documents: numbered references. Labels and texts come ready-made from
the presentation step (indications.engine.presentation); nothing clinical is formatted here."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def cite(context, *groups):
    """Reference numbers for sources and studies, e.g. {% cite flag.sources %} -> "[1, 2]"."""
    return context["refs"].cite(*groups)
