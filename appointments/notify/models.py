"""What the resident is told and when: SMS notifications, the waiting list, and calendar feeds."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from departments.models import Community, Department, StaffMember

from ..fields import EncryptedTextField


class Notification(models.Model):
    """One SMS to send to the resident of a petition: a row with a due time and a state, sent exactly once."""

    class Kind(models.TextChoices):
        BOOKED = "booked", _("Booking confirmed")
        REMINDER_DAY = "reminder_24h", _("Reminder a day before")
        REMINDER_HOUR = "reminder_1h", _("Reminder an hour before")
        RESCHEDULED = "rescheduled", _("Moved to another time")
        CANCELLED = "cancelled", _("Cancelled")
        WITHDRAWN = "withdrawn", _("Time withdrawn by the department")
        ANSWERED = "answered", _("Answer recorded")
        WAITLIST_OFFER = "waitlist_offer", _("Waiting-list offer")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Could not be delivered")
        UNKNOWN = "unknown", _("Unknown whether sent")
        CANCELLED = "cancelled", _("No longer needed")
        EXPIRED = "expired", _("Too late to send")

    REMINDER_KINDS = ("reminder_24h", "reminder_1h")
    # A row in one of these states will never be sent (again).
    FINAL_STATES = ("sent", "delivered", "failed", "unknown", "cancelled", "expired")

    # What this message is about, unique so that an event creates its message once: "appointment:12:booked".
    key = models.CharField(max_length=80, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    petition = models.ForeignKey("appointments.Petition", on_delete=models.PROTECT, related_name="notifications")
    appointment = models.ForeignKey(
        "appointments.Appointment", on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    # The resident's language at the kiosk when they filed ("zh-hans" or "en").
    language = models.CharField(max_length=10, default="zh-hans")
    # Values the message needs that may change later (a withdrawal reason, the time before a move).
    detail = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The text as sent (no ID number, no full name): kept so that staff can see what the resident was told.
    body = models.TextField(blank=True)
    provider = models.CharField(max_length=20, blank=True)
    provider_sid = models.CharField(max_length=64, blank=True)
    provider_status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    # When a community worker saw a failed or unknown message and dealt with it.
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("SMS notification")
        verbose_name_plural = _("SMS notifications")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    state__in=["pending", "sending", "sent", "delivered", "failed", "unknown", "cancelled", "expired"]
                ),
                name="notification_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "booked",
                        "reminder_24h",
                        "reminder_1h",
                        "rescheduled",
                        "cancelled",
                        "withdrawn",
                        "answered",
                        "waitlist_offer",
                    ]
                ),
                name="notification_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "cancelled", "expired"]) | Q(claimed_at__isnull=False),
                name="notification_claimed_before_sending",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_sid"], condition=~Q(provider_sid=""), name="notification_provider_sid"
            ),
        ]
        indexes = [
            # The sweep's question: what is due and unsent.
            models.Index(fields=["due_at"], name="notification_due", condition=Q(state="pending")),
            models.Index(fields=["petition", "kind"], name="notification_by_petition"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class NotificationStatus(models.Model):
    """One delivery status the provider reported for a message, stored once however often it is repeated."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="statuses")
    status = models.CharField(max_length=20)
    error_code = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "status"], name="notification_status_once"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.status}"


class OutboxMessage(models.Model):
    """An SMS 'sent' by the local backend (demo and tests): staff read these on a page instead of a phone."""

    sid = models.CharField(max_length=64, unique=True)
    # The resident's mobile, encrypted like every other copy of it.
    to = EncryptedTextField(max_length=20)
    body = models.TextField()
    status_callback = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("SMS outbox message")
        verbose_name_plural = _("SMS outbox")

    def __str__(self) -> str:
        return self.sid


class WaitlistEntry(models.Model):
    """A resident waiting for a free time with a department, offered the next seat that frees, in order."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered a time")
        BOOKED = "booked", _("Booked")
        EXPIRED = "expired", _("Offer not taken up")
        LEFT = "left", _("Left the waiting list")

    OPEN_STATES = ("waiting", "offered")

    petition = models.ForeignKey("appointments.Petition", on_delete=models.PROTECT, related_name="waitlist_entries")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.WAITING)
    joined_at = models.DateTimeField(_("joined"))
    # The seat held for this resident while the offer stands: an appointment in the "offered" status.
    offer = models.OneToOneField(
        "appointments.Appointment", on_delete=models.PROTECT, null=True, blank=True, related_name="waitlist_entry"
    )
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        verbose_name = _("waiting-list entry")
        verbose_name_plural = _("waiting list")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["waiting", "offered", "booked", "expired", "left"]),
                name="waitlist_state_valid",
            ),
            models.UniqueConstraint(
                fields=["petition"],
                condition=Q(state__in=["waiting", "offered"]),
                name="waitlist_one_open_per_petition",
            ),
            models.CheckConstraint(
                condition=~Q(state="offered") | (Q(offer__isnull=False) & Q(offer_expires_at__isnull=False)),
                name="waitlist_offer_has_seat_and_expiry",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "joined_at"], name="waitlist_queue", condition=Q(state="waiting")),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} → {self.department_id} ({self.state})"


class CalendarFeed(models.Model):
    """A secret address a calendar program subscribes to: a department's hours and sessions, or a staff member's."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # Only a hash of the token is kept; the address is shown once, when it is made or regenerated.
    token_hash = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.CheckConstraint(
                condition=(Q(department__isnull=False) & Q(staff__isnull=True))
                | (Q(department__isnull=True) & Q(staff__isnull=False)),
                name="calendarfeed_one_owner",
            ),
            models.UniqueConstraint(
                fields=["department"],
                condition=Q(revoked_at__isnull=True, department__isnull=False),
                name="calendarfeed_one_live_per_department",
            ),
            models.UniqueConstraint(
                fields=["staff"],
                condition=Q(revoked_at__isnull=True, staff__isnull=False),
                name="calendarfeed_one_live_per_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"feed {self.department_id or ''}{self.staff_id or ''} …{self.token_hint}"


def calendar_uid_new() -> uuid.UUID:
    return uuid.uuid4()
