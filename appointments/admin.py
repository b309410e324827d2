from django.contrib import admin

from .models import Appointment, Petition, PetitionCategory, Resident, VideoParticipant, VideoSession


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
class PetitionAdmin(admin.ModelAdmin):
    list_display = ["reference", "category", "department", "community", "status", "received_at"]
    list_filter = ["status", "department", "category"]
    search_fields = ["reference"]
    fields = [
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
    ]
    readonly_fields = ["reference", "query_code", "resident", "contact_name", "contact_phone_masked", "status"]
    readonly_fields += ["received_at"]

    def has_add_permission(self, request):
        return False


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
