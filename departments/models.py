"""Organisations and people: departments, the district's streets and communities, kiosks, staff."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", _("Functional department")
        PETITION_OFFICE = "petition_office", _("Petition office")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FUNCTIONAL)
    description = models.CharField(_("what it handles"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["functional", "petition_office"]), name="department_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class Street(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="streets")
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("street")
        verbose_name_plural = _("streets")

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    class Kind(models.TextChoices):
        COMMUNITY = "community", _("Community")
        VILLAGE = "village", _("Village")

    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities")
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.COMMUNITY)
    address = models.CharField(_("office address"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("community")
        verbose_name_plural = _("communities")

    def __str__(self) -> str:
        return self.name


class Kiosk(models.Model):
    """A touch-screen device registered to one community; its key is kept only as a hash."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="kiosks")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key starts with"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["community__code", "name"]
        verbose_name = _("kiosk")
        verbose_name_plural = _("kiosks")

    def __str__(self) -> str:
        return f"{self.community.name} · {self.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StaffMember(models.Model):
    class Role(models.TextChoices):
        DEPARTMENT_STAFF = "department_staff", _("Department staff")
        DEPARTMENT_ADMIN = "department_admin", _("Department admin")
        PETITION_OFFICER = "petition_officer", _("Petition officer")
        COMMUNITY_WORKER = "community_worker", _("Community worker")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True, related_name="staff")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, null=True, blank=True, related_name="staff")

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    role__in=["department_staff", "department_admin"],
                    department__isnull=False,
                    community__isnull=True,
                )
                | Q(role="petition_officer", community__isnull=True)
                | Q(role="community_worker", community__isnull=False, department__isnull=True),
                name="staffmember_role_matches_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.get_username()} ({self.get_role_display()})"


class ApiToken(models.Model):
    """A staff member's personal bearer token for integrations; only its hash is stored."""

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return self.name


# The audit trail's model lives beside audit_record; imported here so that Django registers it with this app.
from .audit import AuditEvent  # noqa: E402, F401
