"""Forms of the community kiosk: each asks one question and explains a wrong answer in plain words."""

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduler.errors import DomainError, InvalidInput

from .. import identity
from ..models import Rating
from ..petitions import NAME_MAX, SUMMARY_MAX, SUMMARY_MIN, identity_check, name_clean


def _domain_check(check, value: str) -> str:
    """Run an identity check from the service layer, turning its error into a form error."""
    try:
        return check(value)
    except InvalidInput as error:
        raise forms.ValidationError(str(error.message)) from None


class KioskForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # each label is a whole question or name; no trailing colon
        super().__init__(*args, **kwargs)


class KioskKeyForm(KioskForm):
    key = forms.CharField(
        label=_("Kiosk key"),
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Please enter the kiosk key.")},
    )


class UnechoedTextInput(forms.TextInput):
    """A text input that never writes a value back into the page, so Back or an error cannot show it again."""

    def format_value(self, value):
        return None


class IdentityForm(KioskForm):
    """Who the resident is. Kept as one component so that an ID-card reader can fill it in later.

    The mobile and ID number are never rendered back into the page. Those already given and checked in this
    visit (`kept`) are shown masked as a hint, and an empty field keeps them; anything else is typed again.
    """

    name = forms.CharField(
        label=_("Your name"),
        max_length=NAME_MAX,
        error_messages={
            "required": _("Please enter your name."),
            "max_length": _("The name is too long."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        error_messages={"required": _("Please enter an 11-digit mobile number.")},
        widget=UnechoedTextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=30,
        error_messages={"required": _("Please enter your 18-character ID number.")},
        widget=UnechoedTextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )
    SENSITIVE = ("phone", "id_number")

    def __init__(self, *args, kept: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept = {key: value for key, value in (kept or {}).items() if key in self.SENSITIVE and value}
        masks = {"phone": identity.phone_mask, "id_number": identity.id_number_mask}
        for key, value in self.kept.items():
            field = self.fields[key]
            field.required = False
            field.help_text = _(
                "You entered %(masked)s. Leave this empty to keep it, or type it again to change it."
            ) % {"masked": masks[key](value)}

    def clean_name(self) -> str:
        return _domain_check(name_clean, self.cleaned_data["name"])

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if not self.errors:
            # Refused here, before the resident answers the other questions, not only at the last step.
            try:
                identity_check(name=cleaned["name"], phone=cleaned["phone"], id_number=cleaned["id_number"])
            except DomainError as error:
                self.add_error("name", str(error.message))
        return cleaned

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].replace(" ", "")
        if not value and "phone" in self.kept:
            return self.kept["phone"]
        _domain_check(identity.phone_clean, value)
        return value

    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"].replace(" ", "").upper()
        if not value and "id_number" in self.kept:
            return self.kept["id_number"]
        return _domain_check(identity.id_number_clean, value)

    def checked_sensitive(self) -> dict[str, str]:
        """The mobile and ID number that passed their checks, even when another answer did not."""
        cleaned = getattr(self, "cleaned_data", {})
        return {key: cleaned[key] for key in self.SENSITIVE if cleaned.get(key)}


class CategoryForm(KioskForm):
    category = forms.ChoiceField(
        label=_("What is your matter about?"),
        error_messages={
            "required": _("Please choose what your matter is about."),
            "invalid_choice": _("Please choose one of the listed categories."),
        },
    )

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.code, c.name) for c in categories]


class SummaryForm(KioskForm):
    summary = forms.CharField(
        label=_("Tell us your matter in a few words"),
        min_length=SUMMARY_MIN,
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Please describe your matter in a few words (at least 5 characters)."),
            "min_length": _("Please describe your matter in a few words (at least 5 characters)."),
            "max_length": _("The summary is too long (at most 2000 characters)."),
        },
    )


class DepartmentForm(KioskForm):
    department = forms.ChoiceField(
        label=_("Which department should hear it?"),
        error_messages={
            "required": _("Please choose a department."),
            "invalid_choice": _("Please choose one of the listed departments."),
        },
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [(d.code, d.name) for d in departments]


class SlotChoiceForm(KioskForm):
    slot = forms.IntegerField(min_value=1, error_messages={"required": _("Please choose a time.")})


class ProgressLookupForm(KioskForm):
    query_code = forms.RegexField(
        label=_("Query code (8 digits, on your receipt)"),
        regex=r"^[0-9]{8}$",
        error_messages={
            "required": _("Please enter the 8-digit query code from your receipt."),
            "invalid": _("The query code has 8 digits; please check it."),
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": "8"}),
    )
    phone_last4 = forms.RegexField(
        label=_("Last 4 digits of your mobile number"),
        regex=r"^[0-9]{4}$",
        error_messages={
            "required": _("Please enter the last 4 digits of your mobile number."),
            "invalid": _("Please enter exactly 4 digits."),
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": "4"}),
    )

    def clean_query_code(self) -> str:
        return self.cleaned_data["query_code"].strip()


class CheckInForm(KioskForm):
    query_code = forms.RegexField(
        label=_("Query code (8 digits, on your receipt)"),
        regex=r"^[0-9]{8}$",
        error_messages={
            "required": _("Please enter the 8-digit query code from your receipt."),
            "invalid": _("The query code has 8 digits; please check it."),
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": "8"}),
    )


REMARK_MAX = 500
REVIEW_REASON_MAX = 1000


class RatingForm(KioskForm):
    """How satisfied the resident is with the answer: three big buttons, and a remark if they wish."""

    level = forms.ChoiceField(
        label=_("Are you satisfied with this answer?"),
        choices=Rating.Level.choices,
        error_messages={
            "required": _("Please choose how satisfied you are."),
            "invalid_choice": _("Please choose how satisfied you are."),
        },
    )
    remark = forms.CharField(
        label=_("Anything you would like to add (optional)"),
        required=False,
        max_length=REMARK_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": REMARK_MAX}),
        error_messages={"max_length": _("Please keep it to 500 characters.")},
    )


class ReviewForm(KioskForm):
    reason = forms.CharField(
        label=_("Why are you not satisfied? (optional)"),
        required=False,
        max_length=REVIEW_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": REVIEW_REASON_MAX}),
        error_messages={"max_length": _("Please keep it to 1000 characters.")},
    )
