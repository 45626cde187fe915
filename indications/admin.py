"""Admin for editors (pharmacists, clinical leads): the editorial catalogue and its releases."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from .engine.checks import Range, renal_range_problems
from .models import (
    CatalogueRelease,
    Caveat,
    ClinicalCode,
    Condition,
    ConditionRule,
    DoseRegimen,
    DraftApproval,
    Drug,
    DrugClass,
    DrugName,
    EvidenceGap,
    Guideline,
    HepaticRule,
    Indication,
    InteractionRule,
    LabelledLimit,
    PatientNote,
    RenalRule,
    SafetyNote,
    Source,
    StandardFlag,
    Study,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CatalogueAdmin(SimpleHistoryAdmin):
    """History (who changed what, with differences) on every editorial model.

    Every view that can write refuses a write without the matching permission (403), whatever the
    view: django-simple-history's history form saves a revert on POST with only view permission, and
    a changelist answers a bulk action it will not run with a redirect. Auditors (view only) get 403."""

    save_on_top = True

    def _require(self, request, allowed: bool) -> None:
        if request.method not in SAFE_METHODS and not allowed:
            raise PermissionDenied

    def changelist_view(self, request, extra_context=None):
        self._require(request, self.has_change_permission(request) or self.has_delete_permission(request))
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        allowed = self.has_change_permission(request) if object_id else self.has_add_permission(request)
        self._require(request, allowed)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._require(request, self.has_delete_permission(request))
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        _whole_number(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        _whole_number(object_id, version_id)
        self._require(request, self.has_change_permission(request))
        return super().history_form_view(request, object_id, version_id, extra_context)


def _whole_number(*values) -> None:
    """History URLs name rows and versions by number: anything else is not found (not a 500)."""
    if not all(str(v).isdigit() and str(v).isascii() for v in values):
        raise Http404("No such record.")


def flag_fieldset(*, required: bool, verdict: bool = True):
    fields = ("flag_code", "severity", "title", "detail", "sources")
    if verdict:
        fields = ("verdict", *fields)
    return (
        "Flag shown to clinicians, and its effect on the dose"
        + ("" if required else " (leave empty for no flag)"),
        {"fields": fields},
    )


@admin.register(Condition)
class ConditionAdmin(CatalogueAdmin):
    list_display = ("label", "slug", "display_order")
    search_fields = ("slug", "label")
    ordering = ("display_order", "label")


@admin.register(Source)
class SourceAdmin(CatalogueAdmin):
    list_display = ("label", "key", "kind", "link", "version")
    list_filter = ("kind",)
    search_fields = ("key", "label", "url")
    ordering = ("label",)

    @admin.display(description="URL")
    def link(self, obj):
        return format_html('<a href="{}" target="_blank" rel="noopener">open</a>', obj.url)


@admin.register(DrugClass)
class DrugClassAdmin(CatalogueAdmin):
    list_display = ("name", "code", "drug_count", "show_on_intake")
    list_filter = ("show_on_intake",)
    search_fields = ("code", "name")
    ordering = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_drugs=Count("drugs"))

    @admin.display(description="drugs", ordering="n_drugs")
    def drug_count(self, obj):
        return obj.n_drugs


class DrugNameInline(admin.TabularInline):
    model = DrugName
    extra = 1
    autocomplete_fields = ("source",)
    fields = ("name", "kind", "source", "is_published")


@admin.register(Drug)
class DrugAdmin(CatalogueAdmin):
    list_display = ("name", "class_list", "other_name_list", "rxnorm_code", "is_published")
    list_filter = ("is_published", "classes")
    search_fields = ("name", "other_names__name", "rxnorm_code")
    autocomplete_fields = ("classes", "components")
    inlines = (DrugNameInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("classes", "other_names", "components")

    @admin.display(description="classes or components")
    def class_list(self, obj):
        if obj.components.all():
            return "contains " + " + ".join(c.name for c in obj.components.all())
        return ", ".join(c.name for c in obj.classes.all())

    @admin.display(description="brand names and synonyms")
    def other_name_list(self, obj):
        return ", ".join(n.name for n in obj.other_names.all())


@admin.register(ClinicalCode)
class ClinicalCodeAdmin(CatalogueAdmin):
    """Codes EHRs send (CDS Hooks): what each means here. Data, not code: add your hospital's codes."""

    list_display = ("code", "system", "display", "means", "target", "is_published")
    list_filter = ("system", "means", "is_published")
    search_fields = ("code", "display", "drug__name", "condition__label")
    autocomplete_fields = ("drug", "condition", "source")
    fields = (
        "system",
        "code",
        "includes_subcodes",
        "display",
        "means",
        "drug",
        "formulation",
        "condition",
        "source",
        "is_published",
        "notes",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("drug", "condition")

    @admin.display(description="means here")
    def target(self, obj):
        if obj.drug_id:
            return obj.drug.name + (f" ({obj.get_formulation_display()})" if obj.formulation else "")
        if obj.condition_id:
            return obj.condition.label
        return obj.get_means_display()


class CaveatInline(admin.StackedInline):
    model = Caveat
    extra = 0
    autocomplete_fields = ("sources",)
    fields = ("order", "text", "sources")


class EvidenceGapInline(admin.TabularInline):
    model = EvidenceGap
    extra = 0
    fields = ("element", "reason")


class GuidelineInline(admin.StackedInline):
    model = Guideline
    extra = 0
    autocomplete_fields = ("sources",)
    fields = (("order", "is_published"), ("body", "year", "position"), "title", "statement", "sources")


class StudyInline(admin.StackedInline):
    model = Study
    extra = 0
    show_change_link = True
    classes = ("collapse",)
    fields = (
        ("first_author", "year", "key", "is_published"),
        ("design", "result", "participants"),
        ("dose", "duration"),
        "finding",
        "statistics",
        ("citation", "pmid", "doi"),
        "url",
        "order",
    )


class ReviewOverdueFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return (
            ("overdue", "Review overdue"),
            ("due-90", "Due within 90 days"),
            ("no-date", "No review date"),
        )

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(next_review_due__lt=today)
        if self.value() == "due-90":
            return queryset.filter(
                next_review_due__gte=today, next_review_due__lte=today + datetime.timedelta(days=90)
            )
        if self.value() == "no-date":
            return queryset.filter(next_review_due__isnull=True)
        return queryset


@admin.register(Indication)
class IndicationAdmin(CatalogueAdmin):
    list_display = (
        "name",
        "status",
        "category",
        "strength_of_evidence",
        "efficacy",
        "recommendation",
        "last_reviewed",
        "review_due",
        "is_published",
    )
    list_filter = (
        ReviewOverdueFilter,
        "status",
        "category",
        "strength_of_evidence",
        "efficacy",
        "recommendation",
        "is_published",
    )
    search_fields = ("name", "slug", "evidence_summary", "studies__first_author")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("augments_class", "sources")
    inlines = (GuidelineInline, CaveatInline, StudyInline, EvidenceGapInline)
    fieldsets = (
        (None, {"fields": ("name", "slug", ("category", "status", "display_order"), "is_published")}),
        (
            "Use",
            {
                "fields": (
                    "therapeutic_role",
                    "augments_class",
                    "mechanism_rationale",
                    "dose_studied",
                    ("dose_studied_min_mg_per_day", "dose_studied_max_mg_per_day"),
                )
            },
        ),
        (
            "Evidence",
            {
                "fields": (
                    ("strength_of_evidence", "efficacy", "recommendation"),
                    "evidence_summary",
                    "clinical_significance",
                    "sources",
                )
            },
        ),
        ("Review", {"fields": (("last_reviewed", "next_review_due"),)}),
    )

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False

    @admin.display(description="next review", ordering="next_review_due")
    def review_due(self, obj):
        if obj.next_review_due is None:
            return "—"
        if obj.next_review_due < timezone.localdate():
            return format_html("<strong>{} (overdue)</strong>", obj.next_review_due)
        return obj.next_review_due


@admin.register(Study)
class StudyAdmin(CatalogueAdmin):
    list_display = ("__str__", "indication", "design", "result", "participants", "link", "is_published")
    list_filter = ("indication", "design", "result", "is_published")
    search_fields = ("first_author", "citation", "finding", "pmid", "doi", "key")
    list_select_related = ("indication",)

    @admin.display(description="link")
    def link(self, obj):
        url = obj.url or obj.derived_url()
        return format_html('<a href="{}" target="_blank" rel="noopener">open</a>', url) if url else "—"


class RenalRuleFormSet(forms.BaseInlineFormSet):
    """The ranges of one regimen are validated together: they must cover 0 to no upper limit once."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        ranges = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("is_published", True):
                continue
            ranges.append(
                Range(
                    data["crcl_min_ml_min"],
                    data["lower_inclusive"],
                    data.get("crcl_max_ml_min"),
                    data["upper_inclusive"],
                    data.get("band", ""),
                )
            )
        problems = renal_range_problems(ranges)
        if problems:
            raise ValidationError(problems)


class RenalRuleInline(admin.StackedInline):
    model = RenalRule
    formset = RenalRuleFormSet
    extra = 0
    autocomplete_fields = ("sources",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("band", "is_published"),
                    ("crcl_min_ml_min", "lower_inclusive", "crcl_max_ml_min", "upper_inclusive"),
                    ("dose_effect", "start_mg_per_day", "max_mg_per_day"),
                    "regimen_text",
                    "titration",
                    "summary",
                )
            },
        ),
        flag_fieldset(required=False, verdict=False),
    )


@admin.register(DoseRegimen)
class DoseRegimenAdmin(CatalogueAdmin):
    list_display = (
        "__str__",
        "start_mg_per_day",
        "max_mg_per_day",
        "ir_equivalent_max_mg_per_day",
        "regimen",
        "step_days",
    )
    autocomplete_fields = ("sources",)
    inlines = (RenalRuleInline,)


@admin.register(HepaticRule)
class HepaticRuleAdmin(CatalogueAdmin):
    list_display = ("__str__", "summary", "flag_code", "severity", "verdict", "is_published")
    list_filter = ("region", "child_pugh_class", "severity", "verdict", "is_published")
    search_fields = ("summary", "title", "detail")
    autocomplete_fields = ("sources",)
    fieldsets = (
        (None, {"fields": (("region", "child_pugh_class", "is_published"), "summary")}),
        flag_fieldset(required=False),
    )


@admin.register(ConditionRule)
class ConditionRuleAdmin(CatalogueAdmin):
    list_display = ("__str__", "flag_code", "severity", "verdict", "title", "is_published")
    list_filter = ("condition", "region", "severity", "verdict", "is_published")
    search_fields = ("title", "detail", "flag_code")
    autocomplete_fields = ("sources",)
    fieldsets = ((None, {"fields": (("condition", "region", "is_published"),)}), flag_fieldset(required=True))


@admin.register(InteractionRule)
class InteractionRuleAdmin(CatalogueAdmin):
    list_display = ("__str__", "flag_code", "severity", "verdict", "title", "is_published")
    list_filter = ("region", "severity", "verdict", "drug_class", "is_published")
    search_fields = ("title", "detail", "flag_code", "drug_class__name")
    autocomplete_fields = ("drug_class", "also_requires_class", "sources")
    list_select_related = ("drug_class", "also_requires_class")
    fieldsets = (
        (None, {"fields": (("drug_class", "also_requires_class"), ("region", "is_published"))}),
        flag_fieldset(required=True),
    )


@admin.register(StandardFlag)
class StandardFlagAdmin(CatalogueAdmin):
    list_display = ("flag_code", "region", "severity", "verdict", "title", "is_published")
    list_filter = ("region", "severity", "verdict", "is_published")
    search_fields = ("title", "detail", "flag_code")
    autocomplete_fields = ("sources",)
    fieldsets = ((None, {"fields": (("region", "is_published"),)}), flag_fieldset(required=True))


@admin.register(SafetyNote)
class SafetyNoteAdmin(CatalogueAdmin):
    list_display = ("__str__", "order", "on_summary_sheet", "region", "is_published")
    list_filter = ("is_published", "on_summary_sheet")
    search_fields = ("text", "key")
    autocomplete_fields = ("sources",)
    fields = (("key", "order", "is_published"), ("on_summary_sheet", "region"), "text", "sources")


@admin.register(PatientNote)
class PatientNoteAdmin(CatalogueAdmin):
    """Plain-language notes for the patient sheet (reading age about 11), each with its source."""

    list_display = ("__str__", "topic", "order", "region", "is_published")
    list_filter = ("topic", "region", "is_published")
    search_fields = ("text", "key")
    autocomplete_fields = ("sources",)
    fields = (("key", "topic", "order", "is_published"), "region", "text", "sources")


@admin.register(LabelledLimit)
class LabelledLimitAdmin(CatalogueAdmin):
    """What the labelling allows per formulation (the publishing checks use it). Reviewers change it;
    editors can only read it."""

    list_display = ("__str__", "max_mg_per_day", "strengths_mg", "min_step_days")
    autocomplete_fields = ("sources",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the application only: readable here, every write refused with 403."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if request.method not in SAFE_METHODS:
            raise PermissionDenied
        return super().changelist_view(request, extra_context)


@admin.register(DraftApproval)
class DraftApprovalAdmin(ReadOnlyAdmin):
    """Approvals are made on the publish page; here they can only be read."""

    list_display = ("approved_by", "approved_at", "base_release")
    readonly_fields = ("base_release", "approved_by", "approved_at", "draft_hash", "changes")
    list_select_related = ("approved_by", "base_release")

    def get_queryset(self, request):
        return super().get_queryset(request).defer("base_release__snapshot", "base_release__editorial_state")


@admin.register(CatalogueRelease)
class CatalogueReleaseAdmin(ReadOnlyAdmin):
    """Releases are immutable: readable here, published through the publish page."""

    list_display = ("version", "published_at", "published_by", "change_summary")
    readonly_fields = (
        "number",
        "version",
        "published_at",
        "published_by",
        "change_summary",
        "content_hash",
        "signature",
        "contents",
    )
    exclude = ("snapshot", "editorial_state")
    search_fields = ("version", "change_summary")
    list_select_related = ("published_by",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("snapshot", "editorial_state")

    @admin.display(description="published indications")
    def contents(self, obj):
        return format_html_join(
            "",
            "<div>{} ({}, evidence {})</div>",
            ((i["name"], i["status"], i["evidence"]["strength"]) for i in obj.snapshot["indications"]),
        )
