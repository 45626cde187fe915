"""Template tags. Labels and texts come ready-made from the presentation step
(indications.engine.presentation); nothing clinical is formatted here.

``cite`` numbers references on printed documents; ``source_links`` writes a "Sources: a; b" line and
``evidence_map`` draws an indication's map. The last two run many times per results page, so they
are plain Python (and the map, identical for every patient of a release, is rendered once)."""

import re
from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def cite(context, *groups):
    """Reference numbers for sources and studies, e.g. {% cite flag.sources %} -> "[1, 2]"."""
    return context["refs"].cite(*groups)


@register.filter
def short_address(url: str) -> str:
    """A source's address as short as a printed sheet can give it and a clinician still open or look it
    up: "PMID 12345" for PubMed, "doi:10.1/x" for doi.org, else the address without its scheme."""
    if match := re.match(r"https?://pubmed\.ncbi\.nlm\.nih\.gov/(\d+)/?$", url):
        return f"PMID {match[1]}"
    if match := re.match(r"https?://(?:dx\.)?doi\.org/(.+)$", url):
        return f"doi:{match[1]}"
    return re.sub(r"^https?://(www\.)?", "", url).rstrip("/")


@register.simple_tag
def source_links(sources):
    """ "Sources: <a>label</a>; <a>label</a>" for a tuple of links (nothing when there are none)."""
    if not sources:
        return ""
    anchors = format_html_join(
        "; ", '<a href="{}" target="_blank" rel="noopener">{}</a>', ((s.url, s.label) for s in sources)
    )
    plural = "s" if len(sources) > 1 else ""
    return format_html('<span class="sources small">Source{}: {}</span>', plural, anchors)


@register.inclusion_tag("_includes/evidence_legend.html")
def evidence_legend(approved_uses, axes=None):
    """The key to every evidence map on a page (include it once per page: its gradient has an id).
    ``axes`` (the printed sheet's maps, drawn without text) says the maps' scales in words."""
    from indications.engine import evidence_map as drawn

    return {
        "shapes": drawn.LEGEND_SHAPES,
        "fills": drawn.LEGEND_FILLS,
        "half_id": drawn.LEGEND_ID,
        "approved_uses": approved_uses,
        "axes": axes,
    }


@lru_cache(maxsize=512)
def _drawn(evidence_map, axis_text: bool) -> str:
    return render_to_string("_includes/evidence_map.html", {"map": evidence_map, "axis_text": axis_text})


@register.simple_tag
def evidence_map(drawn_map, axis_text=True):
    """The inline SVG of an evidence map (maps are frozen values, so equal maps share one rendering).
    ``axis_text=False`` draws tick marks instead of the axes' labels, for the printed sheet: at the
    map's printed width the labels would be about 4 pt (the sheet's legend gives the scales)."""
    # mark_safe: the text was escaped by the template that drew it
    return mark_safe(_drawn(drawn_map, bool(axis_text))) if drawn_map is not None else ""


class _OncePerCatalogueNode(template.Node):
    def __init__(self, nodelist, keys):
        self.nodelist = nodelist
        self.keys = keys

    def render(self, context):
        catalogue = context.get("catalogue")
        if catalogue is None:
            return self.nodelist.render(context)
        key = ("fragment", *(k.resolve(context) for k in self.keys))
        return catalogue.memo(key, lambda: self.nodelist.render(context))


@register.tag
def once_per_catalogue(parser, token):
    """{% once_per_catalogue "name" key ... %}...{% endonce_per_catalogue %}: a fragment that depends on
    the catalogue alone (and the keys), rendered once per catalogue and then reused, e.g. the parts of
    an indication's card that are the same for every patient. Nothing of the patient may be inside."""
    keys = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    if not keys:
        raise template.TemplateSyntaxError("once_per_catalogue needs a fragment name")
    nodelist = parser.parse(("endonce_per_catalogue",))
    parser.delete_first_token()
    return _OncePerCatalogueNode(nodelist, keys)


def _field_error(field, oob: bool) -> str:
    messages = format_html_join("", '<p class="mb-0"><strong>{}</strong></p>', ((e,) for e in field.errors))
    return format_html(
        '<div id="{}_error" class="invalid-feedback field-error{}" data-error-for="{}"{}>{}</div>',
        field.auto_id,
        " d-block" if field.errors else "",
        field.html_name,
        mark_safe(' hx-swap-oob="true"') if oob else "",
        messages,
    )


@register.simple_tag
def field_error(field):
    """The error container beside a field: always present (empty when the value is fine), so that an
    htmx update can fill or empty it (field_errors_oob)."""
    return _field_error(field, oob=False)


@register.simple_tag
def field_errors_oob(form):
    """Every field's error container, swapped out of band by an htmx update: a field corrected since
    the last answer loses its message. Plain Python: it runs for every field on every update."""
    return mark_safe("".join(_field_error(field, oob=True) for field in form))
