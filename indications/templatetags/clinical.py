"""Presentation helpers for assessment templates (labels for codes; no clinical content)."""

from django import template

from ..models import Indication, Study

register = template.Library()

LABELS = {
    "strength": dict(Indication.Strength.choices),
    "efficacy": dict(Indication.Efficacy.choices),
    "recommendation": dict(Indication.Recommendation.choices),
    "status": dict(Indication.Status.choices),
    "role": dict(Indication.Role.choices),
    "design": dict(Study.Design.choices),
    "result": dict(Study.Result.choices),
    "region": {"us": "US (FDA labelling)", "eu": "EU (EMA SmPC)"},
    "formulation": {"ir": "Immediate release", "xr": "Extended release"},
    "band": {
        "normal": "normal (CrCl above 80 mL/min)",
        "mild": "mild impairment (CrCl 50–80 mL/min)",
        "moderate": "moderate impairment (CrCl 30 to under 50 mL/min)",
        "severe": "severe impairment (CrCl 5 to under 30 mL/min)",
        "no-data": "no labelled dose (CrCl under 5 mL/min or dialysis)",
        "unknown": "unknown",
    },
    "method": {
        "entered": "as entered",
        "cockcroft-gault": "Cockcroft-Gault",
        "dialysis": "on dialysis",
        "unknown": "not given",
        "child-pugh-score": "Child-Pugh score",
    },
}

SEVERITY = {
    "critical": ("✖", "Critical"),
    "warning": ("▲", "Warning"),
    "info": ("ℹ", "Info"),
}


@register.filter
def label(value, kind):
    """Human label for a catalogue code, e.g. {{ ind.evidence.efficacy|label:"efficacy" }}."""
    return LABELS.get(kind, {}).get(value, value)


@register.filter
def severity_icon(severity):
    return SEVERITY.get(severity, ("•", severity))[0]


@register.filter
def severity_label(severity):
    return SEVERITY.get(severity, ("•", str(severity).title()))[1]


@register.filter
def one_decimal(value):
    if value is None:
        return "—"
    return f"{value:.1f}"


@register.simple_tag(takes_context=True)
def cite(context, *groups):
    """Reference numbers for sources (and studies), e.g. {% cite flag.sources %} -> "[1, 2]"."""
    refs = context["refs"]
    numbers = []
    for group in groups:
        items = group if isinstance(group, (list, tuple)) else [group]
        for item in items:
            if item is None:
                continue
            if hasattr(item, "first_author"):
                label = f"{item.first_author}{' ' + str(item.year) if item.year else ''}"
                label += f", {item.citation}" if item.citation else ""
            else:
                label = item.label
            number = refs.number(label, item.url)
            if number not in numbers:
                numbers.append(number)
    return f"[{', '.join(map(str, numbers))}]" if numbers else ""
