"""The staff page where a community worker or petition officer corrects a resident's registered name."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from scheduler.errors import DomainError

from .. import policy
from ..models import Resident
from ..petitions import NAME_MAX, NameCorrectionReason, name_clean, resident_find_by_id_number, resident_name_correct
from .views import StaffRequest, staff_page

# The resident found from the ID card in hand, kept between the two steps so the number is not sent back out.
FOUND = "resident-name-correction"


class IdNumberForm(forms.Form):
    id_number = forms.CharField(
        label=_("ID number on the resident's card"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        error_messages={"required": _("Please enter your 18-character ID number.")},
    )


class NameForm(forms.Form):
    name = forms.CharField(
        label=_("Name as on the ID card"),
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Please enter your name."), "max_length": _("The name is too long.")},
    )
    reason = forms.ChoiceField(
        label=_("Why it is corrected"),
        choices=NameCorrectionReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose why the name is being corrected."),
            "invalid_choice": _("Please choose why the name is being corrected."),
        },
    )

    def clean_name(self) -> str:
        try:
            return name_clean(self.cleaned_data["name"], field="name")
        except DomainError as error:
            raise forms.ValidationError(str(error.message)) from None


@sensitive_post_parameters("id_number")
@never_cache
@staff_page(policy.can_correct_resident_name)
@require_http_methods(["GET", "POST"])
def resident_name(request: StaffRequest) -> HttpResponse:
    """Find a resident by the ID card in hand, then correct the registered name."""
    found_id = request.session.get(FOUND)
    resident = Resident.objects.filter(pk=found_id).first() if isinstance(found_id, int) else None
    action = request.POST.get("action") if request.method == "POST" else None
    find_form = IdNumberForm()
    name_form = NameForm()

    find_error = None
    if action == "find":
        request.session.pop(FOUND, None)
        resident = None
        bound = IdNumberForm(request.POST)
        if not bound.is_valid():
            find_error = " ".join(str(message) for message in bound.errors.get("id_number", []))
        else:
            try:
                resident = resident_find_by_id_number(actor=request.actor, id_number=bound.cleaned_data["id_number"])
            except DomainError as error:
                find_error = str(error.message)
            else:
                request.session[FOUND] = resident.pk
        # The form stays unbound: the number typed is never echoed back into the page.
    elif action == "correct" and resident is not None:
        name_form = NameForm(request.POST)
        if name_form.is_valid():
            try:
                resident_name_correct(
                    actor=request.actor,
                    resident_id=resident.pk,
                    name=name_form.cleaned_data["name"],
                    reason=name_form.cleaned_data["reason"],
                )
            except DomainError as error:
                name_form.add_error(error.field if error.field in name_form.fields else None, str(error.message))
            else:
                request.session.pop(FOUND, None)
                messages.success(request, _("The registered name is corrected. Earlier petitions keep their details."))
                return redirect("staff:resident-name")
    elif action == "cancel":
        request.session.pop(FOUND, None)
        return redirect("staff:resident-name")
    elif action is not None:
        resident = None
    context = {"resident": resident, "find_form": find_form, "find_error": find_error, "name_form": name_form}
    return render(request, "staff/resident_name.html", context)
