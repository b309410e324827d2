"""The admin site, asking the same second factor as the staff pages before it shows anything."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse


class VerifiedAdminSite(AdminSite):
    """django_otp's OTPAdminSite in spirit: a password alone never opens the admin of a user who needs a code."""

    def has_permission(self, request: HttpRequest) -> bool:
        from .signin import second_factor_pending

        return super().has_permission(request) and not second_factor_pending(request.user)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        from .signin import second_factor_pending, second_factor_redirect

        # Signed in with the password but not yet with a code: ask for the code instead of the password again.
        if request.user.is_active and request.user.is_staff and second_factor_pending(request.user):
            return second_factor_redirect(request, request.GET.get("next") or self.index_url(request))
        return super().login(request, extra_context)

    def index_url(self, request: HttpRequest) -> str:
        from django.urls import reverse

        return reverse("admin:index", current_app=self.name)


class VerifiedAdminConfig(AdminConfig):
    default_site = "departments.admin_site.VerifiedAdminSite"
