"""The scheduling core: weekly consultation rules, closures, holidays, published weeks, slots and seats."""

from dataclasses import dataclass

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from departments.models import Department


@dataclass(frozen=True)
class Bound:
    """The smallest and largest value a number may take: one definition for the model, database, forms and API."""

    low: int
    high: int

    def validators(self) -> list:
        return [MinValueValidator(self.low), MaxValueValidator(self.high)]

    def condition(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.low, f"{field}__lte": self.high})


# A rule's numbers (and the slots that copy them). Wider values are mistakes that overflow the calendar arithmetic.
SESSION_MINUTES = Bound(5, 8 * 60)
BUFFER_MINUTES = Bound(0, 4 * 60)
CAPACITY = Bound(1, 50)
MIN_NOTICE_MINUTES = Bound(0, 30 * 24 * 60)  # at most 30 days
BOOKING_WINDOW_DAYS = Bound(1, 180)
HOLIDAY_YEAR = Bound(2000, 2100)


class ConsultationRule(models.Model):
    """A department's weekly consultation pattern (RFC 5545: FREQ=WEEKLY;BYDAY=...)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="rules")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("starts"))
    end_time = models.TimeField(_("ends"))
    session_minutes = models.PositiveSmallIntegerField(
        _("session length (minutes)"), default=30, validators=SESSION_MINUTES.validators()
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer between sessions (minutes)"), default=0, validators=BUFFER_MINUTES.validators()
    )
    capacity = models.PositiveSmallIntegerField(_("sessions at once"), default=1, validators=CAPACITY.validators())
    effective_from = models.DateField(_("effective from"))
    effective_until = models.DateField(_("effective until"), null=True, blank=True)
    min_notice_minutes = models.PositiveIntegerField(
        _("minimum notice (minutes)"), default=60, validators=MIN_NOTICE_MINUTES.validators()
    )
    booking_window_days = models.PositiveSmallIntegerField(
        _("bookable days ahead"), default=14, validators=BOOKING_WINDOW_DAYS.validators()
    )

    class Meta:
        ordering = ["department", "weekday", "start_time"]
        verbose_name = _("consultation rule")
        verbose_name_plural = _("consultation rules")
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="rule_ends_after_start"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="rule_weekday_valid"),
            models.CheckConstraint(
                condition=SESSION_MINUTES.condition("session_minutes"), name="rule_session_length_valid"
            ),
            models.CheckConstraint(condition=BUFFER_MINUTES.condition("buffer_minutes"), name="rule_buffer_valid"),
            models.CheckConstraint(condition=CAPACITY.condition("capacity"), name="rule_capacity_valid"),
            models.CheckConstraint(
                condition=MIN_NOTICE_MINUTES.condition("min_notice_minutes"), name="rule_notice_valid"
            ),
            models.CheckConstraint(
                condition=BOOKING_WINDOW_DAYS.condition("booking_window_days"), name="rule_window_valid"
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True) | Q(effective_until__gte=F("effective_from")),
                name="rule_effective_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class Closure(models.Model):
    """Dates when one department, or every department, holds no consultations."""

    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        help_text=_("Leave empty to close every department."),
    )
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        ordering = ["start_date"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="closure_range_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.start_date}–{self.end_date} {self.reason}"


class HolidayOverride(models.Model):
    """A correction to the statutory calendar from the `holidays` package, kept by staff."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Day off")
        WORKING_DAY = "working_day", _("Working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday override")
        verbose_name_plural = _("holiday overrides")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["holiday", "working_day"]), name="holiday_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class HolidayYear(models.Model):
    """A year whose holiday schedule has been announced by the State Council (added by staff)."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True, validators=HOLIDAY_YEAR.validators())
    announced_on = models.DateField(_("announced on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("confirmed holiday year")
        verbose_name_plural = _("confirmed holiday years")
        constraints = [models.CheckConstraint(condition=HOLIDAY_YEAR.condition("year"), name="holiday_year_valid")]

    def __str__(self) -> str:
        return str(self.year)


class ScheduleWeek(models.Model):
    """One ISO week of one department's consultation hours: draft → published → closed."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("week status", "Draft")
        PUBLISHED = "published", pgettext_lazy("week status", "Published")
        CLOSED = "closed", pgettext_lazy("week status", "Closed")

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="weeks")
    iso_year = models.PositiveSmallIntegerField()
    iso_week = models.PositiveSmallIntegerField()
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    provisional_holidays_confirmed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-iso_year", "-iso_week"]
        verbose_name = _("schedule week")
        verbose_name_plural = _("schedule weeks")
        constraints = [
            models.UniqueConstraint(fields=["department", "iso_year", "iso_week"], name="week_unique_per_department"),
            models.CheckConstraint(condition=Q(status__in=["draft", "published", "closed"]), name="week_status_valid"),
            models.CheckConstraint(condition=Q(iso_week__gte=1, iso_week__lte=53), name="week_number_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.label}"

    @property
    def label(self) -> str:
        return f"{self.iso_year}-W{self.iso_week:02d}"


class Slot(models.Model):
    """One bookable consultation time of one department, with `capacity` seats."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="slots")
    week = models.ForeignKey(ScheduleWeek, on_delete=models.CASCADE, related_name="slots")
    rule = models.ForeignKey(ConsultationRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(_("seats"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    # Copied from the rule at publishing, so a later edit of the rule does not move a published promise.
    min_notice_minutes = models.PositiveIntegerField(default=60, validators=MIN_NOTICE_MINUTES.validators())
    booking_window_days = models.PositiveSmallIntegerField(default=14, validators=BOOKING_WINDOW_DAYS.validators())
    withdrawn_reason = models.CharField(max_length=200, blank=True)
    # True when a republish took the slot out because the rules no longer give it (it reopens if they do
    # again); False for a person's withdrawal, which stays.
    withdrawn_by_publishing = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        constraints = [
            models.UniqueConstraint(fields=["department", "starts_at"], name="slot_unique_start_per_department"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="slot_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="slot_capacity_positive"),
            models.CheckConstraint(
                condition=MIN_NOTICE_MINUTES.condition("min_notice_minutes"), name="slot_notice_valid"
            ),
            models.CheckConstraint(
                condition=BOOKING_WINDOW_DAYS.condition("booking_window_days"), name="slot_window_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=["open", "withdrawn"]), name="slot_status_valid"),
            models.CheckConstraint(
                condition=Q(withdrawn_by_publishing=False) | Q(status="withdrawn"),
                name="slot_withdrawn_by_publishing_only_when_withdrawn",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status", "starts_at"], name="slot_open_by_time"),
            # Every department's times in a week: the office's figures (sessions held, no-shows) and planning.
            models.Index(fields=["starts_at"], name="slot_by_time"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"


class Seat(models.Model):
    """One place in a slot. A slot has exactly `capacity` seats; a booking holds one seat."""

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="seats")
    number = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["slot", "number"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "number"], name="seat_number_unique_per_slot"),
            models.CheckConstraint(condition=Q(number__gte=1), name="seat_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.slot} #{self.number}"


# Appointment statuses under which a seat counts as taken. The appointments app builds its
# no-double-booking constraint on this; the scheduler reads it to never drop a booked slot.
SEAT_HOLDING_STATUSES = ("booked", "checked_in", "completed", "no_show", "offered")
