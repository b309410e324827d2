"""Residents, their petitions, and the appointments that put a petition in front of a department."""

import uuid
from collections.abc import Callable

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from departments.models import Community, Department, Kiosk, StaffMember
from scheduler.models import SEAT_HOLDING_STATUSES, Seat, Slot

from . import identity
from .fields import EncryptedTextField


class PetitionCategory(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("name in English"), max_length=80, blank=True)
    description = models.CharField(_("plain-language description"), max_length=200, blank=True)
    description_en = models.CharField(_("plain-language description in English"), max_length=200, blank=True)
    suggested_department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("petition category")
        verbose_name_plural = _("petition categories")

    def __str__(self) -> str:
        return self.name


class Resident(models.Model):
    """A person who raises a matter. Name, mobile and ID number are stored encrypted and found by keyed hashes."""

    name = EncryptedTextField(_("name"), max_length=50)
    # Keyed tags of the name and its parts, so that staff can search by name (identity.name_tags).
    name_tags = models.TextField(editable=False, blank=True, default="")
    phone = EncryptedTextField(_("mobile"), max_length=20)
    phone_hash = models.CharField(max_length=64, editable=False, blank=True, default="", db_index=True)
    id_number_encrypted = models.TextField(editable=False)
    id_number_hash = models.CharField(max_length=64, unique=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=20, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when retention removed the person's details: the petitions stay, nobody can be found from them.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")

    def __str__(self) -> str:
        return f"{self.name_masked} ({self.id_number_masked})"

    def save(self, *args, **kwargs) -> None:
        lookups = {"name": ("name_tags", identity.name_tags), "phone": ("phone_hash", identity.phone_hash)}
        _lookups_refresh(self, kwargs, **lookups)
        super().save(*args, **kwargs)

    @property
    def id_number(self) -> str:
        return identity.decrypt(self.id_number_encrypted) if self.id_number_encrypted else ""

    @property
    def phone_masked(self) -> str:
        return identity.phone_mask(self.phone)

    @property
    def name_masked(self) -> str:
        return identity.name_mask(self.name)


def _lookups_refresh(instance: models.Model, kwargs: dict, **lookups: tuple[str, Callable[[str], str]]) -> None:
    """Recompute the keyed hash of each encrypted field being saved, and save the hash with it."""
    fields = kwargs.get("update_fields")
    fields = None if fields is None else set(fields)
    deferred = instance.get_deferred_fields()
    for field, (column, compute) in lookups.items():
        if field in deferred or (fields is not None and field not in fields):
            continue
        setattr(instance, column, compute(getattr(instance, field)))
        if fields is not None:
            fields.add(column)
    if fields is not None:
        kwargs["update_fields"] = fields


PETITION_STATUSES = [
    "received",
    "accepted",
    "not_accepted",
    "scheduled",
    "in_consultation",
    "answered",
    "referred",
    "follow_up",
    "reopened",
    "closed",
]


class DueKind(models.TextChoices):
    """Which statutory deadline is running for a petition (信访工作条例, 2022)."""

    ACCEPTANCE = "acceptance", _("Decide on acceptance")
    ANSWER = "answer", _("Answer")
    REVIEW_ANSWER = "review_answer", _("Answer the review")
    REEXAMINATION_ANSWER = "reexamination_answer", _("Answer the re-examination")


DUE_KINDS = ["acceptance", "answer", "review_answer", "reexamination_answer"]


class Petition(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACCEPTED = "accepted", _("Accepted")
        NOT_ACCEPTED = "not_accepted", _("Not accepted")
        SCHEDULED = "scheduled", _("Consultation booked")
        IN_CONSULTATION = "in_consultation", _("In consultation")
        ANSWERED = "answered", _("Answered")
        REFERRED = "referred", _("Referred to another department")
        FOLLOW_UP = "follow_up", _("Follow-up under way")
        REOPENED = "reopened", _("Reopened for review")
        CLOSED = "closed", _("Closed")

    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    query_code = models.CharField(_("query code"), max_length=12, unique=True, editable=False)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="petitions")
    # The contact given when the petition was filed; a later filing by the same resident never changes it.
    contact_name = EncryptedTextField(_("name as given"), max_length=50, editable=False)
    contact_name_tags = models.TextField(editable=False, blank=True, default="")
    contact_phone = EncryptedTextField(_("mobile as given"), max_length=20, editable=False)
    contact_phone_hash = models.CharField(max_length=64, editable=False, blank=True, default="", db_index=True)
    category = models.ForeignKey(PetitionCategory, on_delete=models.PROTECT, related_name="petitions")
    summary = models.TextField(_("summary"), max_length=2000)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="petitions")
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="petitions",
        help_text=_("Where the resident filed it and will attend."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The acceptance decision (受理 or 不予受理), by the responsible department or the petition office.
    acceptance_decided_at = models.DateTimeField(_("acceptance decided"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    not_accepted_reason = models.TextField(_("why not accepted"), max_length=1000, blank=True)
    redirect_to = models.CharField(_("where the resident should go instead"), max_length=200, blank=True)
    # The written answer of the current stage, once the resident has been told it.
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # One extension of the 60-day answer period, at most 30 days, approved by a petition officer.
    extension_days = models.PositiveSmallIntegerField(_("extension (days)"), default=0)
    extension_reason = models.CharField(_("why extended"), max_length=500, blank=True)
    extension_approved_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The statutory deadline now running (kept by the lifecycle service, so that lists can filter on it).
    due_on = models.DateField(_("deadline"), null=True, blank=True)
    due_kind = models.CharField(_("deadline for"), max_length=30, choices=DueKind.choices, blank=True)
    # The language the resident used at the kiosk; their SMS are written in it.
    language = models.CharField(_("language"), max_length=10, default="zh-hans", editable=False)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PETITION_STATUSES), name="petition_status_valid"),
            models.CheckConstraint(
                condition=Q(extension_days__gte=0) & Q(extension_days__lte=30), name="petition_extension_at_most_30"
            ),
            models.CheckConstraint(
                condition=Q(extension_days=0) | (~Q(extension_reason="") & Q(extension_approved_by__isnull=False)),
                name="petition_extension_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="not_accepted") | ~Q(not_accepted_reason=""),
                name="petition_not_accepted_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(due_kind__in=["", *DUE_KINDS]) & (Q(due_kind="") | Q(due_on__isnull=False)),
                name="petition_due_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["due_on"], name="petition_due", condition=Q(due_on__isnull=False)),
            models.Index(fields=["department", "status"], name="petition_by_department"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs) -> None:
        _lookups_refresh(
            self,
            kwargs,
            contact_name=("contact_name_tags", identity.name_tags),
            contact_phone=("contact_phone_hash", identity.phone_hash),
        )
        super().save(*args, **kwargs)

    @property
    def contact_phone_masked(self) -> str:
        return identity.phone_mask(self.contact_phone)

    @property
    def contact_name_masked(self) -> str:
        return identity.name_mask(self.contact_name)


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        CHECKED_IN = "checked_in", _("Checked in")
        COMPLETED = "completed", _("Completed")
        NO_SHOW = "no_show", _("Did not attend")
        # A seat held for a resident on the waiting list until they confirm or the offer lapses.
        OFFERED = "offered", _("Offered from the waiting list")

    class CancelReason(models.TextChoices):
        CANCELLED_BY_RESIDENT = "cancelled_by_resident", _("Cancelled at the resident's request")
        RESCHEDULED = "rescheduled", _("Moved to another time")
        SLOT_WITHDRAWN = "slot_withdrawn", _("The department withdrew this consultation time")
        REFERRED = "referred", _("The petition was referred to another department")
        OFFER_LAPSED = "offer_lapsed", _("A waiting-list offer that was not taken up")

    ACTIVE_STATUSES = ("booked", "checked_in")

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="appointments")
    seat = models.ForeignKey(Seat, on_delete=models.PROTECT, related_name="appointments")
    # The slot is the seat's slot, copied so that listings need no extra join; set only by booking.
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.BOOKED)
    community = models.ForeignKey(Community, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kiosk = models.ForeignKey(Kiosk, on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments")
    booked_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    rescheduled_from = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rescheduled_to"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancel_reason_code = models.CharField(max_length=30, choices=CancelReason.choices, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    # One calendar event across reschedules (copied to the new appointment); SEQUENCE grows with each change.
    calendar_uid = models.UUIDField(default=uuid.uuid4, editable=False)
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            # The heart of the system: one holder per seat, whatever the timing of the requests.
            models.UniqueConstraint(
                fields=["seat"], condition=Q(status__in=SEAT_HOLDING_STATUSES), name="appointment_one_holder_per_seat"
            ),
            models.UniqueConstraint(
                fields=["petition"],
                condition=Q(status__in=["booked", "checked_in", "offered"]),
                name="appointment_one_active_per_petition",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["booked", "cancelled", "checked_in", "completed", "no_show", "offered"]),
                name="appointment_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False), name="appointment_cancel_has_time"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="cancelled")
                    & Q(
                        cancel_reason_code__in=[
                            "cancelled_by_resident",
                            "rescheduled",
                            "slot_withdrawn",
                            "referred",
                            "offer_lapsed",
                        ]
                    )
                )
                | (~Q(status="cancelled") & Q(cancel_reason_code="")),
                name="appointment_cancel_reason_code_valid",
            ),
        ]
        indexes = [models.Index(fields=["slot", "status"], name="appointment_by_slot")]

    def __str__(self) -> str:
        return f"{self.petition} @ {self.slot}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class IdempotencyRecord(models.Model):
    """Remembers a booking request by its Idempotency-Key so that a retry returns the same result."""

    principal = models.CharField(max_length=40)
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_unique_per_caller"),
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"


class VideoSession(models.Model):
    """The video room of one appointment, and what the provider told us happened in it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Ended")
        FAILED = "failed", _("Failed")

    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="video_session")
    provider = models.CharField(max_length=20)
    room_name = models.CharField(max_length=100, unique=True)
    room_sid = models.CharField(max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # Set once attendance has been decided after the slot ended (see appointments.video.services).
    attendance_checked_at = models.DateTimeField(null=True, blank=True)
    resident_side_attended = models.BooleanField(null=True)
    department_attended = models.BooleanField(null=True)
    # Raised for the petition office when no department staff joined; cleared by a petition officer.
    flagged_at = models.DateTimeField(_("flagged"), null=True, blank=True)
    flag_reason = models.CharField(_("flag"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("video session")
        verbose_name_plural = _("video sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "in_progress", "completed", "failed"]),
                name="videosession_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.room_name


class VideoParticipantEvent(models.Model):
    """One status callback from the provider, kept once however often it is delivered."""

    class Side(models.TextChoices):
        DEPARTMENT = "department", _("Department")
        PETITION_OFFICE = "petition_office", _("Petition office")
        COMMUNITY = "community", _("Community office")
        UNKNOWN = "unknown", _("Unknown")

    session = models.ForeignKey(VideoSession, on_delete=models.CASCADE, related_name="events")
    # Identifies a delivery so that a repeat is recognised (event, participant, time, sequence).
    fingerprint = models.CharField(max_length=64)
    event = models.CharField(max_length=40)
    occurred_at = models.DateTimeField(db_index=True)
    sequence = models.IntegerField(null=True, blank=True)
    room_sid = models.CharField(max_length=64, blank=True)
    participant_sid = models.CharField(max_length=64, blank=True)
    participant_identity = models.CharField(max_length=128, blank=True)
    side = models.CharField(max_length=20, choices=Side.choices, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "sequence", "pk"]
        verbose_name = _("video event")
        verbose_name_plural = _("video events")
        constraints = [
            models.UniqueConstraint(fields=["session", "fingerprint"], name="videoevent_once_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%H:%M:%S} {self.event} {self.participant_identity}"


class VideoParticipant(models.Model):
    """One connection of one participant to a session: when it joined and when it left."""

    session = models.ForeignKey(VideoSession, on_delete=models.CASCADE, related_name="participants")
    participant_sid = models.CharField(max_length=64)
    identity = models.CharField(max_length=128)
    side = models.CharField(max_length=20, choices=VideoParticipantEvent.Side.choices)
    joined_at = models.DateTimeField(_("joined"), null=True, blank=True)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        verbose_name = _("video participant")
        verbose_name_plural = _("video participants")
        constraints = [
            models.UniqueConstraint(fields=["session", "participant_sid"], name="videoparticipant_once_per_session"),
        ]

    def __str__(self) -> str:
        return self.identity


class ReviewStage(models.TextChoices):
    FIRST = "first", _("First answer")
    REVIEW = "review", _("Review (复查)")
    REEXAMINATION = "reexamination", _("Re-examination (复核)")


class Outcome(models.Model):
    """What a department decided on a petition, in words for the resident. Once the resident has been told it
    never changes: a correction is a new Outcome that points to the one it corrects, with the reason."""

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="outcomes")
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("stage"), max_length=20, choices=ReviewStage.choices, default=ReviewStage.FIRST)
    answer = models.TextField(_("answer for the resident"), max_length=4000)
    legal_basis = models.TextField(_("legal basis"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    told_at = models.DateTimeField(_("resident told"), null=True, blank=True)
    corrects = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrected_by"
    )
    correction_reason = models.TextField(_("why it was corrected"), max_length=1000, blank=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        # The office's figures find the answers told in a week (appointments/office/figures.py).
        indexes = [models.Index(fields=["told_at"], name="outcome_by_told_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(stage__in=["first", "review", "reexamination"]), name="outcome_stage_valid"
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""), name="outcome_correction_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition} #{self.pk}"


class OutcomeItem(models.Model):
    """The decision on one request item of a petition."""

    class Decision(models.TextChoices):
        SUPPORTED = "supported", _("Supported")
        PARTLY_SUPPORTED = "partly_supported", _("Partly supported")
        EXPLAINED = "explained", _("Explained")
        NOT_SUPPORTED = "not_supported", _("Not supported")
        REFERRED = "referred", _("Referred")

    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=1)
    request = models.CharField(_("what was asked"), max_length=500)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    referred_to = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    referral_reason = models.CharField(_("why referred"), max_length=500, blank=True)

    class Meta:
        ordering = ["outcome", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=["supported", "partly_supported", "explained", "not_supported", "referred"]),
                name="outcomeitem_decision_valid",
            ),
            models.CheckConstraint(
                condition=(Q(decision="referred") & Q(referred_to__isnull=False) & ~Q(referral_reason=""))
                | (~Q(decision="referred") & Q(referred_to__isnull=True)),
                name="outcomeitem_referral_complete",
            ),
            models.UniqueConstraint(fields=["outcome", "position"], name="outcomeitem_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.request[:30]}: {self.decision}"


class Commitment(models.Model):
    """Who does what by when, promised in an outcome, tracked until done."""

    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="commitments")
    responsible = models.CharField(_("who"), max_length=100)
    action = models.CharField(_("does what"), max_length=500)
    due_on = models.DateField(_("by when"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_note = models.CharField(_("what was done"), max_length=500, blank=True)
    done_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_at__isnull=True) | ~Q(done_note=""), name="commitment_done_has_note"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.responsible}: {self.action[:30]}"


class FollowUpSlip(models.Model):
    """矛盾化解提示单: what the resident's community should follow up after an outcome, and what it found."""

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="slips")
    outcome = models.ForeignKey(Outcome, on_delete=models.PROTECT, related_name="slips")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="slips")
    decided = models.TextField(_("what was decided"), max_length=1000)
    to_check = models.TextField(_("what to check"), max_length=1000)
    due_on = models.DateField(_("by when"))
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    findings = models.TextField(_("what the community found"), max_length=2000, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | ~Q(findings=""), name="slip_closed_has_findings"
            ),
        ]
        indexes = [models.Index(fields=["community", "closed_at", "due_on"], name="slip_open_by_community")]

    def __str__(self) -> str:
        return f"{self.petition} → {self.community}"


class Rating(models.Model):
    """The resident's satisfaction with one answer, given once at a kiosk."""

    class Level(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
        DISSATISFIED = "dissatisfied", _("Not satisfied")

    outcome = models.OneToOneField(Outcome, on_delete=models.PROTECT, related_name="rating")
    level = models.CharField(_("satisfaction"), max_length=20, choices=Level.choices)
    remark = models.CharField(_("remark"), max_length=500, blank=True)
    rated_at = models.DateTimeField(auto_now_add=True)
    kiosk = models.ForeignKey(Kiosk, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=["satisfied", "basically_satisfied", "dissatisfied"]), name="rating_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.level}"


class ReviewRequest(models.Model):
    """A resident's request for a review (复查) of an answer, or a re-examination (复核) of a review."""

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="review_requests")
    of_outcome = models.OneToOneField(Outcome, on_delete=models.PROTECT, related_name="review_request")
    stage = models.CharField(max_length=20, choices=ReviewStage.choices)
    reason = models.CharField(_("why"), max_length=1000, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    answer_due_on = models.DateField(_("answer due"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    kiosk = models.ForeignKey(Kiosk, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(stage__in=["review", "reexamination"]), name="reviewrequest_stage_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition} {self.stage}"


class Referral(models.Model):
    """A petition moved from one department to another, with why; the petition's history keeps every move."""

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="referrals")
    from_department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    to_department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("why"), max_length=500)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_department=models.F("to_department")), name="referral_to_another_department"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition}: {self.from_department} → {self.to_department}"


class TurnAway(models.Model):
    """A resident at a kiosk who found no free consultation time with a department; no personal data is kept."""

    class Reason(models.TextChoices):
        NO_FREE_TIME = "no_free_time", _("No free time in the booking window")
        JUST_TAKEN = "just_taken", _("The time was taken and nothing was left")

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kiosk = models.ForeignKey(Kiosk, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("when"), db_index=True)
    reason = models.CharField(_("why"), max_length=20, choices=Reason.choices, default=Reason.NO_FREE_TIME)

    class Meta:
        ordering = ["-at", "pk"]
        verbose_name = _("resident turned away")
        verbose_name_plural = _("residents turned away")
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=["no_free_time", "just_taken"]), name="turnaway_reason_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.at:%Y-%m-%d %H:%M}"


# The notification, waiting-list and calendar-feed models live beside their services.
from .notify.models import CalendarFeed, Notification, NotificationStatus, OutboxMessage, WaitlistEntry  # noqa: E402

__all__ = [
    "Appointment",
    "CalendarFeed",
    "IdempotencyRecord",
    "Notification",
    "NotificationStatus",
    "OutboxMessage",
    "Petition",
    "PetitionCategory",
    "Resident",
    "WaitlistEntry",
]
