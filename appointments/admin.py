"""The admin of residents, petitions and appointments: every record here is the services' to write, so the admin
shows them and acts only through actions that call those services (docs/signin.md: "The admin inside the rules")."""

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scheduler.admin_actions import with_reason
from scheduler.models import Slot

from . import identity
from .booking import appointment_cancel, slot_withdraw
from .models import (
    Appointment,
    Commitment,
    FollowUpSlip,
    Outcome,
    OutcomeItem,
    Petition,
    PetitionCategory,
    Rating,
    Referral,
    Resident,
    ReviewRequest,
    VideoParticipant,
    VideoSession,
)


class ServiceOwnedAdmin(admin.ModelAdmin):
    """Records that only the services write (they keep the lifecycle, deadlines and audit trail): view only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PetitionCategory)
class PetitionCategoryAdmin(admin.ModelAdmin):
    list_display = ["position", "code", "name", "name_en", "suggested_department", "is_active"]
    list_display_links = ["code"]
    list_editable = ["position", "is_active"]


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    # The ID number is only ever shown masked; it is searched by the exact keyed hash, not by text.
    # Names are corrected on the staff page (audited, after checking the ID card); mobiles come with each filing.
    # Names and mobiles are encrypted and shown masked; a name is searched by its keyed tags (whole or 2+ characters).
    list_display = ["name_masked", "id_number_masked", "phone_masked", "created_at"]
    fields = ["name_masked", "phone_masked", "id_number_masked", "created_at", "anonymised_at"]
    readonly_fields = ["name_masked", "phone_masked", "id_number_masked", "created_at", "anonymised_at"]
    search_fields = ["name_tags"]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        found = Q(pk__in=[])
        for tag in identity.name_search_tags(search_term):
            found |= Q(name_tags__contains=tag)
        return queryset.filter(found), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Petition)
class PetitionAdmin(ServiceOwnedAdmin):
    # Status, department and deadlines change only through the lifecycle services (the staff petition pages).
    list_display = ["reference", "category", "department", "community", "status", "due_on", "received_at"]
    list_filter = ["status", "department", "category", "due_kind"]
    search_fields = ["reference"]
    PETITION_FIELDS = (
        "reference",
        "query_code",
        "resident",
        "contact_name_masked",
        "contact_phone_masked",
        "category",
        "summary",
        "department",
        "community",
        "status",
        "received_at",
        "accepted_at",
        "answered_at",
        "due_on",
        "due_kind",
        "extension_days",
    )
    fields = PETITION_FIELDS
    readonly_fields = PETITION_FIELDS


class OutcomeItemInline(admin.TabularInline):
    model = OutcomeItem
    extra = 0
    can_delete = False
    readonly_fields = ["position", "request", "decision", "referred_to", "referral_reason"]

    def has_add_permission(self, request, obj=None):
        return False


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0
    can_delete = False
    readonly_fields = ["responsible", "action", "due_on", "done_at", "done_note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Outcome)
class OutcomeAdmin(ServiceOwnedAdmin):
    list_display = ["petition", "stage", "department", "recorded_at", "told_at"]
    list_filter = ["stage", "department"]
    readonly_fields = [f.name for f in Outcome._meta.fields]
    inlines = [OutcomeItemInline, CommitmentInline]


@admin.register(FollowUpSlip)
class FollowUpSlipAdmin(ServiceOwnedAdmin):
    list_display = ["petition", "community", "due_on", "closed_at"]
    list_filter = ["community"]
    readonly_fields = [f.name for f in FollowUpSlip._meta.fields]


@admin.register(Rating)
class RatingAdmin(ServiceOwnedAdmin):
    list_display = ["outcome", "level", "rated_at"]
    list_filter = ["level"]
    readonly_fields = [f.name for f in Rating._meta.fields]


@admin.register(ReviewRequest)
class ReviewRequestAdmin(ServiceOwnedAdmin):
    list_display = ["petition", "stage", "requested_at", "answer_due_on", "answered_at"]
    readonly_fields = [f.name for f in ReviewRequest._meta.fields]


@admin.register(Referral)
class ReferralAdmin(ServiceOwnedAdmin):
    list_display = ["petition", "from_department", "to_department", "at"]
    readonly_fields = [f.name for f in Referral._meta.fields]


@admin.register(Appointment)
class AppointmentAdmin(ServiceOwnedAdmin):
    list_display = ["petition", "slot", "seat", "status", "community", "created_at"]
    list_filter = ["status", "slot__department"]
    # State changes go through the booking services (which keep the petition and the seat consistent).
    readonly_fields = [f.name for f in Appointment._meta.fields]
    actions = ["cancel_with_reason"]

    @admin.action(description=gettext_lazy("Cancel, with a reason for the resident"))
    def cancel_with_reason(self, request, queryset):
        return with_reason(
            self,
            request,
            queryset,
            title=_("Cancel appointments"),
            explanation=_("Each appointment is cancelled as at the kiosk: its seat is freed and the resident told."),
            call=lambda appointment, reason, actor: appointment_cancel(
                actor=actor, appointment_id=appointment.pk, reason=reason
            ),
            done_message=_("%(count)d appointments cancelled."),
        )


class VideoParticipantInline(admin.TabularInline):
    model = VideoParticipant
    extra = 0
    can_delete = False
    readonly_fields = ["participant_sid", "identity", "side", "joined_at", "left_at"]


@admin.register(VideoSession)
class VideoSessionAdmin(ServiceOwnedAdmin):
    # Filled in by Twilio's callbacks and the attendance sweep; read-only here.
    list_display = ["room_name", "appointment", "provider", "status", "started_at", "ended_at", "flagged_at"]
    list_filter = ["status", "provider"]
    readonly_fields = [f.name for f in VideoSession._meta.fields]
    inlines = [VideoParticipantInline]


# Registered here, not in scheduler/admin.py: withdrawing a time cancels its bookings, which appointments own.
@admin.register(Slot)
class SlotAdmin(ServiceOwnedAdmin):
    list_display = ["department", "starts_at", "ends_at", "capacity", "status"]
    list_filter = ["department", "status"]
    date_hierarchy = "starts_at"
    # Seats and status change only through publishing and withdrawal, which keep bookings safe.
    readonly_fields = [
        "department",
        "week",
        "rule",
        "starts_at",
        "ends_at",
        "capacity",
        "status",
        "min_notice_minutes",
        "booking_window_days",
        "withdrawn_reason",
    ]
    actions = ["withdraw_with_reason"]

    @admin.action(description=gettext_lazy("Withdraw, cancelling its bookings with a reason"))
    def withdraw_with_reason(self, request, queryset):
        return with_reason(
            self,
            request,
            queryset,
            title=_("Withdraw consultation times"),
            explanation=_("Each time is taken out of the schedule; its residents are told the reason."),
            call=lambda slot, reason, actor: slot_withdraw(actor=actor, slot_id=slot.pk, reason=reason),
            done_message=_("%(count)d consultation times withdrawn."),
        )
