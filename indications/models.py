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
from simple_history.models import HistoricalRecords

http_url = URLValidator(
    schemes=["http", "https"],
    message="Enter a web address starting with http:// or https://.",
    code="http_url",  # its own code, so a model form keeps this message
)
digits_only = RegexValidator(r"^[0-9]+$", "Use digits only.")
doi_format = RegexValidator(
    r"^10\.\d{4,9}/\S+$", "A DOI starts with 10. followed by a prefix and a suffix, e.g. 10.1000/xyz123."
)


class HttpURLField(models.URLField):
    default_validators = [http_url]

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})


class Region(models.TextChoices):
    US = "us", "US (FDA labelling)"
    EU = "eu", "EU (EMA SmPC)"


class RuleRegion(models.TextChoices):
    ANY = "any", "Any region"
    US = "us", "US (FDA labelling)"
    EU = "eu", "EU (EMA SmPC)"


class Formulation(models.TextChoices):
    IR = "ir", "Immediate release"
    XR = "xr", "Extended release (US only)"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Condition(models.TextChoices):
    """The condition vocabulary of the public API contract."""

    SEIZURE_DISORDER = "seizure-disorder", "Seizure disorder / epilepsy"
    PREGNANCY = "pregnancy", "Pregnancy"
    BREASTFEEDING = "breastfeeding", "Breastfeeding"
    RENAL_TUBULAR_ACIDOSIS = "renal-tubular-acidosis", "Renal tubular acidosis"
    SEVERE_PROTEUS_UTI = "severe-proteus-uti", "Severe urinary tract infection with Proteus"
    CARDIOVASCULAR_DISEASE = "cardiovascular-disease", "Significant cardiovascular disease"


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
    history = HistoricalRecords()
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
    history = HistoricalRecords()
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
    is_published = models.BooleanField(
        "published",
        default=True,
        help_text="Untick to keep the drug out of releases (it will then be reported as not recognised).",
    )
    notes = models.TextField(blank=True, help_text="For editors only.")
    history = HistoricalRecords()
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
    history = HistoricalRecords()
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
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
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


class Indication(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("slug",)

    class Category(models.TextChoices):
        DEMENTIA = "dementia", "Dementia"
        PSYCHIATRIC = "psychiatric", "Psychiatric"
        PAIN = "pain", "Pain"
        NEUROLOGICAL = "neurological", "Neurological"

    class Status(models.TextChoices):
        APPROVED = "approved", "Approved (labelled)"
        OFF_LABEL = "off-label", "Off-label"

    class Role(models.TextChoices):
        MONOTHERAPY = "monotherapy", "Monotherapy"
        SSRI_AUGMENTATION = "ssri-augmentation", "SSRI augmentation"
        ADJUNCT = "adjunct", "Adjunct"

    class Strength(models.TextChoices):
        A = "A", "A: consistent randomised evidence"
        B = "B", "B: limited or conflicting randomised evidence"
        C = "C", "C: non-randomised studies, case series or expert opinion"
        NONE = "none", "None: no usable evidence"

    class Efficacy(models.TextChoices):
        EFFECTIVE = "effective", "Effective"
        FAVOURS = "evidence-favours", "Evidence favours efficacy"
        INCONCLUSIVE = "inconclusive", "Evidence is inconclusive"
        INEFFECTIVE = "ineffective", "Ineffective"

    class Recommendation(models.TextChoices):
        RECOMMENDED = "recommended", "Recommended (labelled use)"
        SELECTED = "selected-patients", "May be considered in selected patients"
        INSUFFICIENT = "insufficient-evidence", "Evidence insufficient to recommend"
        NOT_RECOMMENDED = "not-recommended", "Not recommended"

    slug = models.SlugField(
        max_length=60, unique=True, help_text="Public identifier used by the API; never rename."
    )
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=20, choices=Category.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OFF_LABEL)
    therapeutic_role = models.CharField(max_length=30, choices=Role.choices)
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
    strength_of_evidence = models.CharField(max_length=4, choices=Strength.choices)
    efficacy = models.CharField(max_length=30, choices=Efficacy.choices)
    recommendation = models.CharField(max_length=30, choices=Recommendation.choices)
    evidence_summary = models.TextField(
        help_text="Plain summary; state negative trials as plainly as positive ones."
    )
    sources = models.ManyToManyField(Source, related_name="indications", blank=True)
    last_reviewed = models.DateField()
    next_review_due = models.DateField(null=True, blank=True)
    display_order = models.PositiveSmallIntegerField(default=100)
    is_published = models.BooleanField(
        "published", default=True, help_text="Untick to keep it out of releases."
    )
    history = HistoricalRecords()
    objects = CatalogueManager()

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.therapeutic_role == self.Role.SSRI_AUGMENTATION and not self.augments_class_id:
            raise ValidationError(
                {"augments_class": "Augmentation evidence needs the drug class it augments."}
            )
        if self.next_review_due and self.last_reviewed and self.next_review_due <= self.last_reviewed:
            raise ValidationError({"next_review_due": "The next review must fall after the last review."})


class Caveat(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("indication__slug", "order")
    indication = models.ForeignKey(Indication, on_delete=models.CASCADE, related_name="caveats")
    text = models.TextField()
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the caveat rests on the indication's own sources.",
    )
    order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()
    objects = CatalogueManager()

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["indication", "order"], name="caveat_unique_order")]

    def __str__(self) -> str:
        return self.text[:80]


class Study(NaturalKeyMixin, models.Model):
    NATURAL_KEY = ("key", "indication__slug")

    class Design(models.TextChoices):
        RCT = "rct", "Randomised controlled trial"
        OPEN_LABEL = "open-label", "Open-label trial"
        CASE_SERIES = "case-series", "Case series"
        RETROSPECTIVE = "retrospective", "Retrospective study"
        META_ANALYSIS = "meta-analysis", "Meta-analysis"
        SYSTEMATIC_REVIEW = "systematic-review", "Systematic review"

    class Result(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEGATIVE = "negative", "Negative"
        MIXED = "mixed", "Mixed"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

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
    design = models.CharField(max_length=30, choices=Design.choices)
    participants = models.PositiveIntegerField(
        null=True, blank=True, help_text="Number randomised or analysed; empty if not known."
    )
    dose = models.CharField(max_length=200, blank=True)
    duration = models.CharField(max_length=100, blank=True)
    result = models.CharField(max_length=20, choices=Result.choices)
    finding = models.CharField(
        max_length=400, help_text="One line: what the study found, negative results stated plainly."
    )
    pmid = models.CharField("PMID", max_length=12, blank=True, validators=[digits_only])
    doi = models.CharField("DOI", max_length=120, blank=True, validators=[doi_format])
    url = HttpURLField(
        "link",
        max_length=500,
        blank=True,
        help_text="Leave empty to link to PubMed (from the PMID) or doi.org (from the DOI).",
    )
    order = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField(
        "published", default=True, help_text="Untick for facts awaiting verification."
    )
    history = HistoricalRecords()
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
        self.url = self.url or self.derived_url()
        super().save(*args, **kwargs)

    def derived_url(self) -> str:
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return ""

    def clean(self):
        if not (self.url or self.derived_url()):
            raise ValidationError({"url": "Give a PMID, a DOI or a link so a clinician can open the study."})


class DoseRegimen(NaturalKeyMixin, models.Model):
    """The labelled regimen for one region and formulation; its renal rules are edited with it."""

    NATURAL_KEY = ("region", "formulation")

    region = models.CharField(max_length=4, choices=Region.choices)
    formulation = models.CharField(max_length=4, choices=Formulation.choices)
    start_mg_per_day = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    max_mg_per_day = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    regimen = models.CharField(max_length=200, help_text="The maintenance regimen, e.g. 10 mg twice daily.")
    titration = models.TextField()
    sources = models.ManyToManyField(Source, related_name="+")
    history = HistoricalRecords()
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

    def clean(self):
        if self.region == Region.EU and self.formulation == Formulation.XR:
            raise ValidationError({"formulation": "The EU labelling has no extended-release product."})
        if self.start_mg_per_day and self.max_mg_per_day and self.max_mg_per_day < self.start_mg_per_day:
            raise ValidationError({"max_mg_per_day": "The maximum must be at least the starting dose."})


class RenalRule(NaturalKeyMixin, FlagFields):
    """One creatinine-clearance range of a regimen, and what it does to the dose."""

    NATURAL_KEY = ("regimen__region", "regimen__formulation", "band")

    class Band(models.TextChoices):
        NORMAL = "normal", "Normal (> 80)"
        MILD = "mild", "Mild (50–80)"
        MODERATE = "moderate", "Moderate (30 to < 50)"
        SEVERE = "severe", "Severe (5 to < 30)"
        NO_DATA = "no-data", "No labelled dose (< 5 or dialysis)"

    class DoseEffect(models.TextChoices):
        STANDARD = "standard", "Standard dose"
        ADJUSTED = "adjusted", "Adjusted dose"
        NONE = "no-labelled-dose", "No labelled dose"

    regimen = models.ForeignKey(DoseRegimen, on_delete=models.CASCADE, related_name="renal_rules")
    band = models.CharField(max_length=10, choices=Band.choices)
    crcl_min_ml_min = models.FloatField("CrCl from (mL/min)", validators=[MinValueValidator(0)])
    lower_inclusive = models.BooleanField("includes lower limit", default=True)
    crcl_max_ml_min = models.FloatField(
        "CrCl to (mL/min)", null=True, blank=True, help_text="Empty: no upper limit."
    )
    upper_inclusive = models.BooleanField("includes upper limit", default=False)
    dose_effect = models.CharField(max_length=20, choices=DoseEffect.choices, default=DoseEffect.STANDARD)
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
    is_published = models.BooleanField("published", default=True)
    history = HistoricalRecords()
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
        if self.dose_effect == self.DoseEffect.ADJUSTED:
            if self.max_mg_per_day is None:
                errors["max_mg_per_day"] = "An adjusted dose needs a maximum daily dose."
            if not self.regimen_text:
                errors["regimen_text"] = "An adjusted dose needs its regimen text."
        if self.dose_effect == self.DoseEffect.NONE and self.max_mg_per_day is not None:
            errors["max_mg_per_day"] = "“No labelled dose” cannot have a maximum dose."
        if self.start_mg_per_day and self.max_mg_per_day and self.max_mg_per_day < self.start_mg_per_day:
            errors["max_mg_per_day"] = "The maximum must be at least the starting dose."
        if self.regimen_id and self.max_mg_per_day and self.max_mg_per_day > self.regimen.max_mg_per_day:
            errors["max_mg_per_day"] = (
                f"A renal maximum cannot exceed the regimen's maximum ({self.regimen.max_mg_per_day} mg/day)."
            )
        if errors:
            raise ValidationError(errors)


class HepaticRule(NaturalKeyMixin, FlagFields):
    NATURAL_KEY = ("region", "child_pugh_class")

    class ChildPugh(models.TextChoices):
        A = "A", "Child-Pugh A (5–6 points)"
        B = "B", "Child-Pugh B (7–9 points)"
        C = "C", "Child-Pugh C (10–15 points)"

    region = models.CharField(max_length=4, choices=Region.choices)
    child_pugh_class = models.CharField(max_length=1, choices=ChildPugh.choices)
    summary = models.CharField(max_length=300, help_text="One line for the dose box.")
    is_published = models.BooleanField("published", default=True)
    history = HistoricalRecords()
    objects = CatalogueManager()

    flag_required = False

    class Meta:
        ordering = ["region", "child_pugh_class"]
        constraints = [
            models.UniqueConstraint(fields=["region", "child_pugh_class"], name="hepatic_unique_region_class")
        ]

    def __str__(self) -> str:
        return f"{self.get_region_display()} · Child-Pugh {self.child_pugh_class}"


class ConditionRule(NaturalKeyMixin, FlagFields):
    NATURAL_KEY = ("condition", "region")
    condition = models.CharField(max_length=40, choices=Condition.choices)
    region = models.CharField(max_length=4, choices=RuleRegion.choices, default=RuleRegion.ANY)
    is_published = models.BooleanField("published", default=True)
    history = HistoricalRecords()
    objects = CatalogueManager()

    class Meta:
        ordering = ["condition", "region"]
        constraints = [models.UniqueConstraint(fields=["condition", "region"], name="condition_rule_unique")]

    def __str__(self) -> str:
        return f"{self.get_condition_display()} · {self.get_region_display()}"


class InteractionRule(NaturalKeyMixin, FlagFields):
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
    region = models.CharField(max_length=4, choices=RuleRegion.choices, default=RuleRegion.ANY)
    is_published = models.BooleanField("published", default=True)
    history = HistoricalRecords()
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


class StandardFlag(NaturalKeyMixin, FlagFields):
    """Texts for the flags the engine raises by mechanism rather than by a rule row."""

    NATURAL_KEY = ("flag_code", "region")

    class Code(models.TextChoices):
        RENAL_UNKNOWN = "renal-function-unknown", "renal-function-unknown"
        RENAL_DISAGREE = "renal-estimates-disagree", "renal-estimates-disagree"
        AUGMENTATION = "augmentation-without-ssri", "augmentation-without-ssri"
        NOT_RECOGNIZED = "medication-not-recognized", "medication-not-recognized"
        REVIEW_OVERDUE = "review-overdue", "review-overdue"

    region = models.CharField(max_length=4, choices=RuleRegion.choices, default=RuleRegion.ANY)
    is_published = models.BooleanField("published", default=True)
    history = HistoricalRecords()
    objects = CatalogueManager()

    class Meta:
        ordering = ["flag_code", "region"]
        constraints = [models.UniqueConstraint(fields=["flag_code", "region"], name="standard_flag_unique")]

    def __str__(self) -> str:
        return f"{self.flag_code} · {self.get_region_display()}"

    def clean(self):
        super().clean()
        if self.flag_code and self.flag_code not in self.Code.values:
            raise ValidationError({"flag_code": f"Standard flags are: {', '.join(self.Code.values)}."})


class ReleaseImmutable(Exception):
    pass


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
