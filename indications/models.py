"""The editorial catalogue (the working copy editors change in admin) and its immutable releases.

Clinicians, the API, the summary sheet and the CDS Hooks service never read the editorial tables
directly: they read the latest ``CatalogueRelease``, a frozen snapshot made by publishing (see
``indications.snapshot`` and ``indications.services``). Rows marked unpublished (``is_published``
False) are drafts, such as facts still awaiting verification, and are never part of a release.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, URLValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .engine import vocabulary as vocab
from .engine.checks import is_search_url, made_of_strengths, titration_step_problems

http_url = URLValidator(
    schemes=["http", "https"],
    message="Enter a web address starting with http:// or https://.",
    code="http_url",  # its own code, so a model form keeps this message
)
digits_only = RegexValidator(r"^[0-9]+$", "Use digits only.")
doi_format = RegexValidator(
    r"^10\.\d{4,9}/\S+$", "A DOI starts with 10. followed by a prefix and a suffix, e.g. 10.1000/xyz123."
)


def not_a_search(url: str) -> None:
    if url and is_search_url(url):
        raise ValidationError(
            "This is a link to a search: link the document itself (a PMID, a DOI, a DailyMed setid page).",
            code="search_url",
        )


class HttpURLField(models.URLField):
    default_validators = [http_url, not_a_search]

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})


class ChangedFields(models.Model):
    """Added to every history record: the fields that save actually changed, compared with the row as
    it was in the database just before (``indications.signals``). A save that changes nothing records
    none; a change written without a save (a queryset update, raw SQL) is credited to no one, not to
    whoever saves the row next. Empty (null) for records made before this was kept."""

    changed_fields = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


REGION_CHOICES = vocab.choices(vocab.REGIONS)
RULE_REGION_CHOICES = vocab.choices(vocab.RULE_REGIONS)


class PublishedQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class CatalogueManager(models.Manager.from_queryset(PublishedQuerySet)):
    """Looks rows up by ``Model.NATURAL_KEY`` so fixtures can name rows instead of numbering them
    (and ``loaddata`` updates a row instead of duplicating it)."""

    def get_by_natural_key(self, *values):
        return self.get(**dict(zip(self.model.NATURAL_KEY, values, strict=True)))


class NaturalKeyMixin:
    NATURAL_KEY: tuple[str, ...] = ()

    def natural_key(self):
        values = []
        for lookup in self.NATURAL_KEY:
            value = self
            for part in lookup.split("__"):
                value = getattr(value, part) if value is not None else None
            values.append(value)
        return tuple(values)


class Source(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("key",)

    class Kind(models.TextChoices):
        US_LABEL = "us-label", "US label (FDA)"
        EU_SMPC = "eu-smpc", "EU SmPC (EMA)"
        STUDY = "study", "Study"
        GUIDELINE = "guideline", "Guideline"
        REVIEW = "review", "Review or commentary"

    key = models.SlugField(
        max_length=80, unique=True, help_text="Short stable identifier, e.g. us-namenda-label."
    )
    label = models.CharField(max_length=300, help_text="What the clinician sees as the link text.")
    url = HttpURLField(max_length=500, help_text="A page a clinician can open (PubMed, DOI, DailyMed, EMA).")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    version = models.CharField(
        max_length=200,
        blank=True,
        help_text="Label version, guideline date or the date the page was checked.",
    )
    notes = models.TextField(blank=True, help_text="For editors only; never shown to clinicians.")
    history = HistoricalRecords(bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class DrugClass(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("code",)
    code = models.SlugField(max_length=60, unique=True, help_text="Rules refer to this code, e.g. ssri.")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    show_on_intake = models.BooleanField(
        "tick boxes on the intake form",
        default=False,
        help_text="Show this class's drugs as tick boxes on the intake form (e.g. SSRIs).",
    )
    history = HistoricalRecords(bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "drug classes"

    def __str__(self) -> str:
        return self.name


class Drug(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("name",)
    name = models.CharField(max_length=120, unique=True, help_text="Generic (INN) name, lower case.")
    rxnorm_code = models.CharField(
        "RxNorm ingredient code",
        max_length=20,
        blank=True,
        validators=[digits_only],
        help_text="RxCUI of the ingredient (TTY=IN), where known.",
    )
    classes = models.ManyToManyField(DrugClass, related_name="drugs", blank=True)
    components = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="products",
        blank=True,
        help_text=(
            "For a combination product: the drugs it contains. Each component is checked as if it had"
            " been listed; the product's own classes are ignored."
        ),
    )
    is_published = models.BooleanField(
        "published",
        default=False,
        help_text="Untick to keep the drug out of releases (it will then be reported as not recognised).",
    )
    notes = models.TextField(blank=True, help_text="For editors only.")
    history = HistoricalRecords(m2m_fields=["classes", "components"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        self.name = " ".join(self.name.split()).lower()


class DrugName(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("name",)

    class Kind(models.TextChoices):
        BRAND = "brand", "Brand name"
        SYNONYM = "synonym", "Synonym or combination product"

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="other_names")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BRAND)
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where this name was checked (a label or an official list). Required to publish a brand.",
    )
    is_published = models.BooleanField(
        "published", default=False, help_text="Untick for names awaiting verification."
    )
    history = HistoricalRecords(bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="drugname_unique_lower_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        self.name = " ".join(self.name.split())
        if Drug.objects.filter(name__iexact=self.name).exclude(pk=self.drug_id).exists():
            raise ValidationError({"name": f"“{self.name}” is already the generic name of another drug."})


class FlagFields(models.Model):
    """What the clinician is shown when a rule fires."""

    flag_code = models.SlugField(
        max_length=60,
        blank=True,
        help_text=(
            "Public flag code (see the API contract), e.g. renal-severe. Empty: the rule raises no flag."
        ),
    )
    severity = models.CharField(max_length=10, choices=vocab.choices(vocab.SEVERITIES), blank=True)
    title = models.CharField(max_length=200, blank=True, help_text="One line, under 140 characters.")
    detail = models.TextField(blank=True, help_text="What it means for this patient and what to do.")
    sources = models.ManyToManyField(Source, related_name="+", blank=True)

    flag_required = True

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        parts = {
            "flag_code": self.flag_code,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
        }
        given = [k for k, v in parts.items() if v]
        if self.flag_required or given:
            missing = {k: "Required when the rule raises a flag." for k, v in parts.items() if not v}
            if missing:
                raise ValidationError(missing)
        if self.title and len(self.title) > 140:
            raise ValidationError(
                {"title": "Keep the title under 140 characters (it becomes an EHR card summary)."}
            )


class VerdictEffect(models.Model):
    """What a rule that fires does to the patient's dose verdict (catalogue data, checked at publishing)."""

    verdict = models.CharField(
        "effect on the dose verdict",
        max_length=20,
        choices=vocab.choices(vocab.RULE_VERDICTS),
        default="standard",
        help_text=(
            "The dose box follows the most restrictive effect of every rule that fires. “Not recommended”"
            " shows no dose at all; a critical flag must be at least “use with caution”."
        ),
    )

    class Meta:
        abstract = True


class Condition(NaturalKeyMixin, models.Model):
    """A patient condition a clinician can tick (the API's condition vocabulary)."""

    NATURAL_KEY = ("slug",)
    slug = models.SlugField(
        max_length=60, unique=True, help_text="Public identifier used by the API; never rename or remove."
    )
    label = models.CharField(max_length=120, help_text="What the clinician ticks, e.g. Seizure disorder.")
    display_order = models.PositiveSmallIntegerField(default=100)
    history = HistoricalRecords(bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["display_order", "label"]

    def __str__(self) -> str:
        return self.label


class Indication(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("slug",)

    slug = models.SlugField(
        max_length=60, unique=True, help_text="Public identifier used by the API; never rename."
    )
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=20, choices=vocab.choices(vocab.CATEGORIES))
    status = models.CharField(max_length=20, choices=vocab.choices(vocab.STATUSES), default="off-label")
    therapeutic_role = models.CharField(max_length=30, choices=vocab.choices(vocab.ROLES))
    augments_class = models.ForeignKey(
        DrugClass,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=(
            "For augmentation evidence: the drug class memantine was added to"
            " (clinicians are warned when none is taken)."
        ),
    )
    mechanism_rationale = models.TextField(blank=True)
    dose_studied = models.CharField(max_length=300, blank=True)
    dose_studied_min_mg_per_day = models.PositiveSmallIntegerField(
        "lowest daily dose studied (mg, IR-equivalent)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="The lowest target daily dose in the studies, as immediate-release mg/day.",
    )
    dose_studied_max_mg_per_day = models.PositiveSmallIntegerField(
        "highest daily dose studied (mg, IR-equivalent)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "The highest target daily dose in the studies, as immediate-release mg/day. Clinicians are"
            " warned when it is above their patient's maximum dose."
        ),
    )
    strength_of_evidence = models.CharField(max_length=4, choices=vocab.choices(vocab.STRENGTHS))
    efficacy = models.CharField(max_length=30, choices=vocab.choices(vocab.EFFICACY))
    recommendation = models.CharField(max_length=30, choices=vocab.choices(vocab.RECOMMENDATIONS))
    evidence_summary = models.TextField(
        help_text="Plain summary; state negative trials as plainly as positive ones."
    )
    clinical_significance = models.TextField(
        blank=True,
        help_text=(
            "One or two sentences: what the size of the effect means for a patient (e.g. a Y-BOCS change"
            " against the usual 25–35% response threshold), or that it is unknown. Required to publish an"
            " off-label use."
        ),
    )
    sources = models.ManyToManyField(Source, related_name="indications", blank=True)
    last_reviewed = models.DateField()
    next_review_due = models.DateField(null=True, blank=True)
    display_order = models.PositiveSmallIntegerField(default=100)
    is_published = models.BooleanField(
        "published", default=False, help_text="Untick to keep it out of releases."
    )
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.therapeutic_role == "ssri-augmentation" and not self.augments_class_id:
            raise ValidationError(
                {"augments_class": "Augmentation evidence needs the drug class it augments."}
            )
        if self.next_review_due and self.last_reviewed and self.next_review_due <= self.last_reviewed:
            raise ValidationError({"next_review_due": "The next review must fall after the last review."})
        low, high = self.dose_studied_min_mg_per_day, self.dose_studied_max_mg_per_day
        if (low is None) != (high is None):
            raise ValidationError(
                {
                    "dose_studied_max_mg_per_day": (
                        "Give both the lowest and the highest dose studied, or neither."
                    )
                }
            )
        if low is not None and high is not None and low > high:
            raise ValidationError(
                {"dose_studied_max_mg_per_day": "The highest dose studied cannot be below the lowest."}
            )


class Caveat(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("indication__slug", "order")
    indication = models.ForeignKey(Indication, on_delete=models.CASCADE, related_name="caveats")
    text = models.TextField()
    sources = models.ManyToManyField(
        Source,
        related_name="+",
        blank=True,
        help_text="What a clinician can open to check this caveat (at least one to publish).",
    )
    order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["indication", "order"], name="caveat_unique_order")]

    def __str__(self) -> str:
        return self.text[:80]


class Guideline(NaturalKeyMixin, models.Model):
    """What one guideline or consensus statement says about memantine for one indication; or, with
    position "none-found", that no position was found and what was reviewed."""

    NATURAL_KEY = ("indication__slug", "order")
    indication = models.ForeignKey(Indication, on_delete=models.CASCADE, related_name="guidelines")
    body = models.CharField(max_length=120, help_text="Who issued it, e.g. NICE, WHO, CANMAT.")
    title = models.CharField(
        max_length=300, help_text="e.g. NG97 Dementia. For none-found: what was searched."
    )
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1950), MaxValueValidator(2100)]
    )
    position = models.CharField(max_length=30, choices=vocab.choices(vocab.GUIDELINE_POSITIONS))
    statement = models.TextField(
        help_text=(
            "What it says about memantine, in its words where possible. For none-found: what was reviewed"
            " and what could not be checked."
        )
    )
    sources = models.ManyToManyField(
        Source, related_name="+", help_text="The guideline itself (or, for none-found, what was reviewed)."
    )
    order = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField(
        "published", default=False, help_text="Untick for positions awaiting verification."
    )
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["indication", "order"], name="guideline_unique_order")]

    def __str__(self) -> str:
        return f"{self.body} {self.title} ({self.get_position_display()})"


class EvidenceGap(NaturalKeyMixin, models.Model):
    """An element of an off-label entry that could not be verified, said to the clinician with its
    reason instead of being filled with an unverified fact (e.g. no published dose for a use)."""

    NATURAL_KEY = ("indication__slug", "element")
    indication = models.ForeignKey(Indication, on_delete=models.CASCADE, related_name="evidence_gaps")
    element = models.CharField(max_length=20, choices=vocab.choices(vocab.GAP_ELEMENTS))
    reason = models.TextField(
        help_text="What was reviewed and why the element could not be verified; what would close the gap."
    )
    history = HistoricalRecords(bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["element"]
        constraints = [
            models.UniqueConstraint(fields=["indication", "element"], name="evidence_gap_unique_element")
        ]

    def __str__(self) -> str:
        return f"{self.indication}: {self.get_element_display()}"


class SafetyNote(NaturalKeyMixin, models.Model):
    """The adverse-effect profile and label warnings, shown with every use (off-label ones too)."""

    NATURAL_KEY = ("key",)
    key = models.SlugField(max_length=60, unique=True)
    text = models.TextField(help_text="One statement with its numbers, as the label gives them.")
    sources = models.ManyToManyField(Source, related_name="+", help_text="At least one, to publish.")
    order = models.PositiveSmallIntegerField(default=0)
    on_summary_sheet = models.BooleanField(
        "print on the summary sheet",
        default=False,
        help_text="The sheet prints only these (it must fit two pages); screens and the API show all.",
    )
    region = models.CharField(
        max_length=4,
        choices=RULE_REGION_CHOICES,
        default=vocab.ANY_REGION,
        help_text="The sheet prints a note only for its own labelling region (or any region).",
    )
    is_published = models.BooleanField("published", default=False)
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.text[:80]


class PatientNote(NaturalKeyMixin, models.Model):
    """A plain-language statement for the patient and carer, printed on the patient sheet (reading
    age about 11: short sentences, common words). Its topic decides where the sheet prints it."""

    NATURAL_KEY = ("key",)
    key = models.SlugField(max_length=60, unique=True)
    topic = models.CharField(max_length=24, choices=vocab.choices(vocab.PATIENT_TOPICS))
    text = models.TextField(
        help_text="Short sentences and everyday words; any dose in digits. What the source says, plainly."
    )
    sources = models.ManyToManyField(Source, related_name="+", help_text="At least one, to publish.")
    order = models.PositiveSmallIntegerField(default=0)
    region = models.CharField(
        max_length=4,
        choices=RULE_REGION_CHOICES,
        default=vocab.ANY_REGION,
        help_text="The sheet prints a note only for its own labelling region (or any region).",
    )
    is_published = models.BooleanField("published", default=False)
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["topic", "order", "key"]

    def __str__(self) -> str:
        return self.text[:80]


class Study(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("key", "indication__slug")

    indication = models.ForeignKey(Indication, on_delete=models.CASCADE, related_name="studies")
    key = models.SlugField(max_length=80, help_text="e.g. ghaleiha-2013; unique within the indication.")
    first_author = models.CharField("first author or short name", max_length=80)
    year = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1950), MaxValueValidator(2100)],
        help_text="Empty when the source gives no year.",
    )
    citation = models.CharField(
        max_length=200, blank=True, help_text="Journal, volume and page, e.g. J Psychiatr Res 47:175."
    )
    design = models.CharField(max_length=30, choices=vocab.choices(vocab.STUDY_DESIGNS))
    participants = models.PositiveIntegerField(
        null=True, blank=True, help_text="Number randomised or analysed; empty if not known."
    )
    dose = models.CharField(max_length=200, blank=True)
    duration = models.CharField(max_length=100, blank=True)
    result = models.CharField(max_length=20, choices=vocab.choices(vocab.STUDY_RESULTS))
    finding = models.CharField(
        max_length=400, help_text="One line: what the study found, negative results stated plainly."
    )
    statistics = models.CharField(
        max_length=400,
        blank=True,
        help_text=(
            'The effect with its CI and/or p as reported; or say that none was reported (e.g. "case series:'
            ' no statistical testing", "not reported in the abstract"). Required to publish.'
        ),
    )
    pmid = models.CharField("PMID", max_length=12, blank=True, validators=[digits_only])
    doi = models.CharField("DOI", max_length=120, blank=True, validators=[doi_format])
    url = HttpURLField(
        "link",
        max_length=500,
        blank=True,
        help_text=(
            "Only for a draft without PMID or DOI (e.g. a registry record while its identity is checked):"
            " a study with a PMID or DOI always links to PubMed or doi.org."
        ),
    )
    order = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField(
        "published", default=False, help_text="Untick for facts awaiting verification."
    )
    history = HistoricalRecords(bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["order", "year"]
        verbose_name_plural = "studies"
        constraints = [
            models.UniqueConstraint(fields=["indication", "key"], name="study_unique_key_per_indication")
        ]

    def __str__(self) -> str:
        return f"{self.first_author} {self.year or ''}".strip()

    def save(self, *args, **kwargs):
        # A study with a PMID or DOI always opens on PubMed or doi.org: the link cannot point elsewhere,
        # and correcting the PMID corrects the link.
        self.url = self.derived_url() or self.url
        super().save(*args, **kwargs)

    def derived_url(self) -> str:
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return ""

    def clean(self):
        if self.is_published:
            errors = {}
            if self.year and self.year > timezone.localdate().year:
                errors["year"] = "A published study cannot be dated in the future."
            if not (self.pmid or self.doi):
                errors["is_published"] = (
                    "A published study needs a PMID or a DOI: keep it unpublished until its identity is"
                    " confirmed."
                )
            if not self.statistics.strip():
                errors["statistics"] = (
                    "Give the statistics as reported, or say that none were reported, before publishing."
                )
            if not self.year:
                errors["year"] = "A published study needs its year."
            if errors:
                raise ValidationError(errors)


def labelled_limit_errors(formulation: str, **doses: int | None) -> dict[str, str]:
    """Early feedback in admin: doses above the labelled maximum or not made of the strengths. The
    publishing checks apply the same limits to the whole draft (engine.checks.dose_limit_problems)."""
    limit = LabelledLimit.objects.filter(formulation=formulation).first()
    if limit is None:
        return {}
    strengths = [int(s) for s in limit.strengths_mg.split(",")]
    errors = {}
    for name, dose in doses.items():
        if dose is None:
            continue
        if dose > limit.max_mg_per_day:
            errors[name] = f"Above the labelled maximum for this formulation ({limit.max_mg_per_day} mg/day)."
        elif not made_of_strengths(dose, strengths):
            errors[name] = f"Not made of the available strengths ({limit.strengths_mg} mg)."
    return errors


class DoseRegimen(NaturalKeyMixin, models.Model):
    """The labelled regimen for one region and formulation; its renal rules are edited with it."""

    NATURAL_KEY = ("region", "formulation")

    region = models.CharField(max_length=4, choices=REGION_CHOICES)
    formulation = models.CharField(max_length=4, choices=vocab.choices(vocab.FORMULATIONS))
    start_mg_per_day = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    max_mg_per_day = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    ir_equivalent_max_mg_per_day = models.PositiveSmallIntegerField(
        "IR-equivalent of the maximum (mg/day)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "For extended release: the immediate-release daily dose its maximum corresponds to in the label"
            " (28 mg XR = 20 mg IR). Used to compare a patient's maximum with doses studied. Immediate"
            " release: leave empty."
        ),
    )
    regimen = models.CharField(max_length=200, help_text="The maintenance regimen, e.g. 10 mg twice daily.")
    titration = models.TextField()
    titration_steps = models.TextField(
        blank=True,
        help_text=(
            "The titration for the patient's calendar, one step per line, each a regimen in words with"
            " doses in digits: “5 mg once a day”, “5 mg in the morning and 10 mg in the evening”. From the"
            " starting dose up to the maximum, as the label gives them. Empty: the sheet prints no calendar."
        ),
    )
    step_days = models.PositiveSmallIntegerField(
        "days per step",
        default=7,
        blank=True,  # a form that leaves it out keeps the default; cleared, it is refused (clean)
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="The shortest time on each step before the next, in days (the labels: at least 1 week).",
    )
    sources = models.ManyToManyField(Source, related_name="+")
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["region", "formulation"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "formulation"], name="regimen_unique_region_formulation"
            ),
            models.CheckConstraint(
                condition=models.Q(max_mg_per_day__gte=models.F("start_mg_per_day")),
                name="regimen_max_gte_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_region_display()} · {self.get_formulation_display()}"

    def steps(self) -> list[str]:
        """The titration steps, one a line (blank lines ignored)."""
        return [line.strip() for line in self.titration_steps.splitlines() if line.strip()]

    def clean(self):
        errors = labelled_limit_errors(
            self.formulation, start_mg_per_day=self.start_mg_per_day, max_mg_per_day=self.max_mg_per_day
        )
        if self.region == "eu" and self.formulation == "xr":
            errors["formulation"] = "The EU labelling has no extended-release product."
        if self.start_mg_per_day and self.max_mg_per_day and self.max_mg_per_day < self.start_mg_per_day:
            errors["max_mg_per_day"] = "The maximum must be at least the starting dose."
        if self.formulation != "ir" and not self.ir_equivalent_max_mg_per_day:
            errors["ir_equivalent_max_mg_per_day"] = "Give the immediate-release equivalent of the maximum."
        if self.step_days is None:
            errors["step_days"] = "Give the shortest time on each step, in days (the labels: 7)."
        else:
            limit = LabelledLimit.objects.filter(formulation=self.formulation).first()
            if limit is not None and self.step_days < limit.min_step_days:
                errors["step_days"] = (
                    f"Shorter than the labelled interval between dose increases ({limit.min_step_days} days)."
                )
        if self.titration_steps.strip() and self.start_mg_per_day and self.max_mg_per_day:
            limit = LabelledLimit.objects.filter(formulation=self.formulation).first()
            problems = titration_step_problems(
                self.steps(),
                start_mg_per_day=self.start_mg_per_day,
                max_mg_per_day=self.max_mg_per_day,
                strengths=[int(s) for s in limit.strengths_mg.split(",")] if limit else [],
            )
            if problems:
                errors["titration_steps"] = problems
        if errors:
            raise ValidationError(errors)


class RenalRule(NaturalKeyMixin, FlagFields):
    """One creatinine-clearance range of a regimen, and what it does to the dose."""

    NATURAL_KEY = ("regimen__region", "regimen__formulation", "band")

    regimen = models.ForeignKey(DoseRegimen, on_delete=models.CASCADE, related_name="renal_rules")
    band = models.CharField(max_length=10, choices=vocab.choices(vocab.BANDS))
    crcl_min_ml_min = models.FloatField("CrCl from (mL/min)", validators=[MinValueValidator(0)])
    lower_inclusive = models.BooleanField("includes lower limit", default=True)
    crcl_max_ml_min = models.FloatField(
        "CrCl to (mL/min)", null=True, blank=True, help_text="Empty: no upper limit."
    )
    upper_inclusive = models.BooleanField("includes upper limit", default=False)
    dose_effect = models.CharField(
        max_length=20, choices=vocab.choices(vocab.DOSE_EFFECTS), default="standard"
    )
    start_mg_per_day = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Adjusted start; empty keeps the standard start."
    )
    max_mg_per_day = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Adjusted maximum daily dose."
    )
    regimen_text = models.CharField(
        "regimen", max_length=200, blank=True, help_text="Adjusted regimen, e.g. 5 mg twice daily."
    )
    titration = models.TextField(blank=True, help_text="Adjusted titration; empty keeps the standard one.")
    summary = models.CharField(
        max_length=300,
        help_text="One line for the dose box, e.g. “Severe renal impairment: maximum 10 mg/day”.",
    )
    is_published = models.BooleanField("published", default=False)
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    flag_required = False

    class Meta:
        ordering = ["regimen", "crcl_min_ml_min"]

    def __str__(self) -> str:
        return f"{self.regimen}: {self.get_band_display()}"

    def clean(self):
        super().clean()
        errors = {}
        if (
            self.crcl_max_ml_min is not None
            and self.crcl_min_ml_min is not None
            and self.crcl_max_ml_min <= self.crcl_min_ml_min
        ):
            errors["crcl_max_ml_min"] = "The upper limit must be above the lower limit."
        if self.dose_effect == vocab.DOSE_ADJUSTED:
            if self.max_mg_per_day is None:
                errors["max_mg_per_day"] = "An adjusted dose needs a maximum daily dose."
            if not self.regimen_text:
                errors["regimen_text"] = "An adjusted dose needs its regimen text."
        if self.dose_effect == vocab.DOSE_NONE and self.max_mg_per_day is not None:
            errors["max_mg_per_day"] = "“No labelled dose” cannot have a maximum dose."
        if self.start_mg_per_day and self.max_mg_per_day and self.max_mg_per_day < self.start_mg_per_day:
            errors["max_mg_per_day"] = "The maximum must be at least the starting dose."
        if (
            self.regimen_id
            and self.start_mg_per_day
            and self.start_mg_per_day > self.regimen.start_mg_per_day
        ):
            errors["start_mg_per_day"] = (
                f"A renal start cannot be above the regimen's start ({self.regimen.start_mg_per_day} mg/day)."
            )
        if self.regimen_id:
            errors.update(
                labelled_limit_errors(
                    self.regimen.formulation,
                    start_mg_per_day=self.start_mg_per_day,
                    max_mg_per_day=self.max_mg_per_day,
                )
            )
        if self.regimen_id and self.max_mg_per_day and self.max_mg_per_day > self.regimen.max_mg_per_day:
            errors["max_mg_per_day"] = (
                f"A renal maximum cannot exceed the regimen's maximum ({self.regimen.max_mg_per_day} mg/day)."
            )
        if errors:
            raise ValidationError(errors)


class HepaticRule(NaturalKeyMixin, VerdictEffect, FlagFields):
    NATURAL_KEY = ("region", "child_pugh_class")

    region = models.CharField(max_length=4, choices=REGION_CHOICES)
    child_pugh_class = models.CharField(max_length=1, choices=vocab.choices(vocab.CHILD_PUGH_CLASSES))
    summary = models.CharField(max_length=300, help_text="One line for the dose box.")
    is_published = models.BooleanField("published", default=False)
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    flag_required = False

    class Meta:
        ordering = ["region", "child_pugh_class"]
        constraints = [
            models.UniqueConstraint(fields=["region", "child_pugh_class"], name="hepatic_unique_region_class")
        ]

    def __str__(self) -> str:
        return f"{self.get_region_display()} · Child-Pugh {self.child_pugh_class}"


class ConditionRule(NaturalKeyMixin, VerdictEffect, FlagFields):
    NATURAL_KEY = ("condition__slug", "region")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="rules")
    region = models.CharField(max_length=4, choices=RULE_REGION_CHOICES, default=vocab.ANY_REGION)
    is_published = models.BooleanField("published", default=False)
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["condition", "region"]
        constraints = [models.UniqueConstraint(fields=["condition", "region"], name="condition_rule_unique")]

    def __str__(self) -> str:
        return f"{self.condition} · {self.get_region_display()}"


class InteractionRule(NaturalKeyMixin, VerdictEffect, FlagFields):
    NATURAL_KEY = ("drug_class__code", "also_requires_class__code", "region")
    drug_class = models.ForeignKey(DrugClass, on_delete=models.PROTECT, related_name="interaction_rules")
    also_requires_class = models.ForeignKey(
        DrugClass,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For combinations: the rule fires only when a drug of this class is also taken.",
    )
    region = models.CharField(max_length=4, choices=RULE_REGION_CHOICES, default=vocab.ANY_REGION)
    is_published = models.BooleanField("published", default=False)
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["drug_class__name", "region"]
        constraints = [
            models.UniqueConstraint(
                fields=["drug_class", "region"],
                condition=models.Q(also_requires_class__isnull=True),
                name="interaction_rule_unique_single",
            ),
            models.UniqueConstraint(
                fields=["drug_class", "also_requires_class", "region"],
                condition=models.Q(also_requires_class__isnull=False),
                name="interaction_rule_unique_combination",
            ),
        ]

    def __str__(self) -> str:
        extra = f" + {self.also_requires_class}" if self.also_requires_class_id else ""
        return f"{self.drug_class}{extra} · {self.get_region_display()}"

    def clean(self):
        super().clean()
        if self.also_requires_class_id and self.also_requires_class_id == self.drug_class_id:
            raise ValidationError({"also_requires_class": "Choose a different class (or leave it empty)."})


class StandardFlag(NaturalKeyMixin, VerdictEffect, FlagFields):
    """Texts for the flags the engine raises by mechanism rather than by a rule row."""

    NATURAL_KEY = ("flag_code", "region")

    region = models.CharField(max_length=4, choices=RULE_REGION_CHOICES, default=vocab.ANY_REGION)
    is_published = models.BooleanField("published", default=False)
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["flag_code", "region"]
        verbose_name = "flag text"
        verbose_name_plural = "flag texts"
        constraints = [models.UniqueConstraint(fields=["flag_code", "region"], name="standard_flag_unique")]

    def __str__(self) -> str:
        return f"{self.flag_code} · {self.get_region_display()}"

    def clean(self):
        super().clean()
        if self.flag_code and self.flag_code not in vocab.STANDARD_FLAG_CODES:
            raise ValidationError(
                {"flag_code": f"Flag texts exist for: {', '.join(vocab.STANDARD_FLAG_CODES)}."}
            )


class LabelledLimit(NaturalKeyMixin, models.Model):
    """What the labelling allows for one formulation: the publishing checks refuse any regimen or renal
    rule dose above its maximum or not made of its strengths. Reviewers change it (editors cannot), and
    a change is one more field under the two-person rule, shown with the checks on the publish page."""

    NATURAL_KEY = ("formulation",)
    formulation = models.CharField(max_length=4, choices=vocab.choices(vocab.FORMULATIONS), unique=True)
    max_mg_per_day = models.PositiveSmallIntegerField(
        "labelled maximum (mg/day)", validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    strengths_mg = models.CharField(
        "available strengths (mg)",
        max_length=100,
        validators=[RegexValidator(r"^\d+(, \d+)*$", "Strengths as numbers separated by “, ”, e.g. 5, 10.")],
        help_text="Every daily dose must be made of these, e.g. “5, 10” (5 mg steps) or “7, 14, 21, 28”.",
    )
    min_step_days = models.PositiveSmallIntegerField(
        "shortest titration step (days)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="The labels raise the dose at intervals of at least one week: 7.",
    )
    sources = models.ManyToManyField(Source, related_name="+", help_text="The label that states them.")
    history = HistoricalRecords(m2m_fields=["sources"], bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["formulation"]

    def __str__(self) -> str:
        return f"{self.get_formulation_display()}: at most {self.max_mg_per_day} mg/day"


class ClinicalCode(NaturalKeyMixin, models.Model):
    """A code an EHR sends (CDS Hooks, FHIR) and what it means in this catalogue: a drug (product codes;
    a drug's ingredient code is on the drug), a condition, or dialysis and end-stage kidney disease.
    Data, so that editors add the codes their hospitals use without a code change."""

    NATURAL_KEY = ("system", "code")
    system = models.CharField(max_length=12, choices=vocab.choices(vocab.CODE_SYSTEMS))
    code = models.CharField(
        max_length=40,
        validators=[RegexValidator(r"^[0-9A-Za-z.\-]+$", "Letters, digits, dots and hyphens only.")],
    )
    includes_subcodes = models.BooleanField(
        "also matches the codes below it",
        default=False,
        help_text="ICD-10 only: G40 also matches G40.909. SNOMED CT and RxNorm codes match exactly.",
    )
    display = models.CharField(
        max_length=300, help_text="The code system's own words for the code, as read in the source."
    )
    means = models.CharField(max_length=12, choices=vocab.choices(vocab.CODE_MEANINGS))
    drug = models.ForeignKey(
        Drug, on_delete=models.PROTECT, null=True, blank=True, related_name="codes", help_text="For a drug."
    )
    formulation = models.CharField(
        max_length=4,
        choices=vocab.choices(vocab.FORMULATIONS),
        blank=True,
        help_text="For a memantine product: its formulation (an order for it is assessed as such).",
    )
    condition = models.ForeignKey(
        Condition,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="codes",
        help_text="For a condition.",
    )
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where the code and its meaning were checked (required to publish).",
    )
    is_published = models.BooleanField(
        "published", default=False, help_text="Untick for codes awaiting checking."
    )
    notes = models.TextField(blank=True, help_text="For editors only.")
    history = HistoricalRecords(bases=[ChangedFields])
    objects = CatalogueManager()

    class Meta:
        ordering = ["system", "code"]
        constraints = [models.UniqueConstraint(fields=["system", "code"], name="clinicalcode_unique_code")]

    def __str__(self) -> str:
        return f"{self.get_system_display()} {self.code}: {self.display}"

    def clean(self):
        self.code = self.code.strip()
        problems = {}
        wanted = {"drug": self.drug_id, "condition": self.condition_id}
        for meaning, target in wanted.items():
            if self.means == meaning and target is None:
                problems[meaning] = f"Choose the {meaning} this code means."
            if self.means != meaning and target is not None:
                problems[meaning] = f"Only a code that means a {meaning} names one."
        if self.formulation and self.means != "drug":
            problems["formulation"] = "Only a drug product has a formulation."
        if self.includes_subcodes and self.system not in ("icd-10-cm", "icd-10"):
            problems["includes_subcodes"] = "Only ICD-10 codes have codes below them."
        if self.is_published and self.source_id is None:
            problems["source"] = "A published code needs the source it was checked in."
        if problems:
            raise ValidationError(problems)


class ReleaseImmutable(Exception):
    pass


class ReleaseQuerySet(models.QuerySet):
    """Releases are never updated or deleted; the database refuses it too (migration 0005's triggers)."""

    def update(self, **kwargs):
        raise ReleaseImmutable("A published release cannot be changed; publish a new one.")

    def delete(self):
        raise ReleaseImmutable("A published release cannot be deleted.")

    def _raw_delete(self, using):
        raise ReleaseImmutable("A published release cannot be deleted.")


class CatalogueRelease(models.Model):
    """An immutable, numbered snapshot of the published catalogue. Every answer names one."""

    number = models.PositiveIntegerField(unique=True)
    version = models.CharField(max_length=40, unique=True)
    snapshot = models.JSONField()
    content_hash = models.CharField(max_length=64)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    change_summary = models.TextField()
    clinical_changes = models.JSONField(
        default=list, help_text="What changed for clinicians since the previous release, one line each."
    )
    editorial_state = models.JSONField(
        null=True,
        editable=False,
        help_text=(
            "Every editorial row as it was when published: the baseline the next release's changes are"
            " compared with, field by field (empty for releases published before field-level review)."
        ),
    )
    editorial_state_hash = models.CharField(max_length=64, blank=True, editable=False)
    signature = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text=(
            "HMAC of the release (number, version, content hash, publisher, summary, clinical changes,"
            " editorial state hash) with a key kept outside the database: a release written or rewritten in"
            " the database by anyone but the application does not verify."
        ),
    )
    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        get_latest_by = "number"
        permissions = [("publish_release", "Can approve and publish a catalogue release")]

    def __str__(self) -> str:
        return f"Release {self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ReleaseImmutable("A published release cannot be changed; publish a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ReleaseImmutable("A published release cannot be deleted.")


class DraftApproval(models.Model):
    """A reviewer's approval of draft changes they were shown (and did not make), so that the reviewer
    who made them may publish them. It covers exactly the field values approved: a later change to one
    of those fields needs approving again."""

    base_release = models.ForeignKey(CatalogueRelease, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(default=timezone.now)
    draft_hash = models.CharField(max_length=64)
    changes = models.JSONField(help_text="The identities of the field values approved.")

    class Meta:
        ordering = ["-approved_at"]

    def __str__(self) -> str:
        return f"Approval by {self.approved_by} on release {self.base_release.version}"


# The editorial catalogue: every model whose rows make up a release (history, roles, field-level review).
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
    PatientNote,
    LabelledLimit,
    DoseRegimen,
    RenalRule,
    HepaticRule,
    Condition,
    ConditionRule,
    InteractionRule,
    StandardFlag,
    ClinicalCode,
)
