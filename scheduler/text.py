"""One cleaner for text people type: normalised, trimmed, and free of invisible or direction-changing characters."""

import unicodedata
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext as _

from .errors import InvalidInput

# Characters that reorder how the text around them is shown (a "Trojan Source" name can read as another):
# the embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069, and the marks U+200E, U+200F, U+061C.
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)] + ["\u200e", "\u200f", "\u061c"]
)
# Whitespace characters other than tab and newline that still break a line.
_LINE_BREAKS = frozenset("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def text_clean(value: object, *, field: str, max_length: int, min_length: int = 0, multiline: bool = False) -> str:
    """Return the text NFC-normalised and trimmed, or raise InvalidInput saying what is wrong with it."""
    if not isinstance(value, str):
        raise InvalidInput(_("Please give text."), field=field)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    for char in value:
        category = unicodedata.category(char)
        if char in BIDI_CONTROLS:
            raise InvalidInput(
                _("The text contains a character that changes the writing direction (%(char)s); please remove it.")
                % {"char": _code_point(char)},
                field=field,
            )
        if multiline and char in "\n\t":
            continue
        if not multiline and char in _LINE_BREAKS:
            raise InvalidInput(_("Please write this on one line."), field=field)
        # Cc: control characters (PostgreSQL refuses NUL outright); Cs: half of a broken surrogate pair.
        if category in ("Cc", "Cs"):
            raise InvalidInput(
                _("The text contains an invisible control character (%(char)s); please remove it.")
                % {"char": _code_point(char)},
                field=field,
            )
    text = unicodedata.normalize("NFC", value).strip()
    # Zero-width and other format characters (category Cf, e.g. U+200B, U+200D, U+FEFF, U+2060) are kept
    # inside real text (emoji joiners need them), but on their own they are an empty value in disguise.
    visible = "".join(char for char in text if unicodedata.category(char) != "Cf").strip()
    if text and not visible:
        raise InvalidInput(_("The text is made only of invisible characters; please type it again."), field=field)
    if len(text) > max_length:
        raise InvalidInput(
            _("The text is too long: at most %(max)s characters, this has %(count)s.")
            % {"max": max_length, "count": len(text)},
            field=field,
        )
    if len(text) < min_length:
        if not text:
            raise InvalidInput(_("This field is required."), field=field)
        raise InvalidInput(_("The text is too short: at least %(min)s characters.") % {"min": min_length}, field=field)
    return text


def form_text_clean(value: object, *, max_length: int, min_length: int = 0, multiline: bool = False) -> str:
    """text_clean for a Django form field: the same checks, raised as a ValidationError."""
    try:
        return text_clean(value, field="", max_length=max_length, min_length=min_length, multiline=multiline)
    except InvalidInput as error:
        raise forms.ValidationError(str(error.message), code=error.code) from None


class TextCleaningModelForm(forms.ModelForm):
    """A ModelForm (the admin's, say) whose every text field goes through text_clean."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name, field in self.fields.items():
            value = data.get(name)
            if not isinstance(field, forms.CharField) or not isinstance(value, str):
                continue
            try:
                data[name] = form_text_clean(
                    value,
                    max_length=field.max_length or 100_000,
                    min_length=1 if field.required else 0,
                    multiline=isinstance(field.widget, forms.Textarea),
                )
            except forms.ValidationError as error:
                self.add_error(name, error)
        return data


class _AsciiOnly:
    """Refuse anything but ASCII before parsing: Python reads '２０' as 20 and strptime takes full-width digits."""

    def to_python(self, value):
        if isinstance(value, str) and not value.isascii():
            raise forms.ValidationError(_("Please type this with ordinary digits (0–9)."), code="not_ascii")
        return super().to_python(value)  # type: ignore[misc]


class AsciiIntegerField(_AsciiOnly, forms.IntegerField):
    pass


class AsciiDateField(_AsciiOnly, forms.DateField):
    pass


class AsciiTimeField(_AsciiOnly, forms.TimeField):
    pass


def ascii_formfield(model_field, **kwargs):
    """A ModelForm field for a number, date or time that takes ASCII only and shows the model's bounds."""
    form_classes = [
        (models.IntegerField, AsciiIntegerField),
        (models.DateTimeField, None),  # a DateTimeField is a DateField: leave it to Django
        (models.DateField, AsciiDateField),
        (models.TimeField, AsciiTimeField),
    ]
    for model_class, form_class in form_classes:
        if isinstance(model_field, model_class) and not model_field.choices:
            if form_class is None:
                break
            kwargs.setdefault("form_class", form_class)
            if form_class is AsciiIntegerField:
                lows = [v.limit_value for v in model_field.validators if isinstance(v, MinValueValidator)]
                highs = [v.limit_value for v in model_field.validators if isinstance(v, MaxValueValidator)]
                if lows:
                    kwargs.setdefault("min_value", max(lows))
                if highs:
                    kwargs.setdefault("max_value", min(highs))
            break
    return model_field.formfield(**kwargs)
