from django.contrib import admin

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
    list_display = ["name", "id_number_masked", "phone_masked", "created_at"]
    fields = ["name", "phone_masked", "id_number_masked", "created_at"]
    readonly_fields = ["name", "phone_masked", "id_number_masked", "created_at"]
    search_fields = ["name"]

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
        "contact_name",
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
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["petition", "slot", "seat", "status", "community", "created_at"]
    list_filter = ["status", "slot__department"]
    # State changes go through the booking services (which keep the petition and the seat consistent).
    readonly_fields = [f.name for f in Appointment._meta.fields]

    def has_add_permission(self, request):
        return False


class VideoParticipantInline(admin.TabularInline):
    model = VideoParticipant
    extra = 0
    can_delete = False
    readonly_fields = ["participant_sid", "identity", "side", "joined_at", "left_at"]


@admin.register(VideoSession)
class VideoSessionAdmin(admin.ModelAdmin):
    # Filled in by Twilio's callbacks and the attendance sweep; read-only here.
    list_display = ["room_name", "appointment", "provider", "status", "started_at", "ended_at", "flagged_at"]
    list_filter = ["status", "provider"]
    readonly_fields = [f.name for f in VideoSession._meta.fields]
    inlines = [VideoParticipantInline]

    def has_add_permission(self, request):
        return False
