"""The one text cleaner: normalised and trimmed text, refusing control, direction-changing and invisible-only input."""

import unicodedata

import pytest
from django import forms
from django.utils import translation

from scheduler.errors import InvalidInput
from scheduler.text import BIDI_CONTROLS, AsciiIntegerField, form_text_clean, text_clean


def clean(value, **kwargs):
    return text_clean(value, field="reason", **{"max_length": 200, **kwargs})


def refusal(value, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as excinfo:
        clean(value, **kwargs)
    assert excinfo.value.field == "reason"
    return excinfo.value


def test_it_trims_and_composes_the_text():
    decomposed = "Cafe\u0301 区房产局"
    assert clean(f"  {decomposed}\u3000 ") == unicodedata.normalize("NFC", decomposed)
    assert clean("  ") == ""


def test_it_keeps_joiners_inside_real_text():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean(f"家庭 {family}") == f"家庭 {family}"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x9b", "\ud800"])
def test_it_refuses_control_characters_and_names_them(char):
    error = refusal(f"年终{char}盘点")
    assert f"U+{ord(char):04X}" in str(error.message)


@pytest.mark.parametrize("char", sorted(BIDI_CONTROLS))
def test_it_refuses_every_direction_changing_character(char):
    error = refusal(f"年终{char}盘点")
    assert f"U+{ord(char):04X}" in str(error.message)


def test_the_direction_characters_are_the_overrides_isolates_and_marks():
    expected = {*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\u200e", "\u200f", "\u061c"}
    assert expected == BIDI_CONTROLS


@pytest.mark.parametrize("value", ["\u200b", "\u200d\u200d", "\ufeff", "\u2060", " \u200b \u00ad ", "\u180e"])
def test_it_refuses_a_value_made_only_of_invisible_characters(value):
    refusal(value)


@pytest.mark.parametrize("value", ["第一行\n第二行", "a\rb", "a\u2028b", "a\u2029b", "a\x85b", "a\vb"])
def test_a_one_line_field_refuses_line_breaks(value):
    refusal(value)


def test_a_multiline_field_keeps_newlines_and_tabs_and_unifies_line_endings():
    assert clean("第一行\r\n\t第二行\r第三行", multiline=True) == "第一行\n\t第二行\n第三行"
    refusal("a\x00b", multiline=True)
    refusal("a\u202eb", multiline=True)


def test_it_counts_length_after_trimming():
    assert clean(" " + "长" * 200 + " ") == "长" * 200
    error = refusal("长" * 10_000)
    assert "200" in str(error.message) and "10000" in str(error.message)


def test_it_refuses_an_empty_value_when_one_is_required():
    refusal("", min_length=1)
    refusal("   ", min_length=1)
    refusal("ab", min_length=3)


@pytest.mark.parametrize("value", [None, 12, b"bytes", ["list"]])
def test_it_refuses_what_is_not_text(value):
    refusal(value)


def test_the_messages_are_in_the_users_language():
    with translation.override("zh-hans"):
        chinese = str(refusal("a\u202eb").message)
    with translation.override("en"):
        english = str(refusal("a\u202eb").message)
    assert chinese != english
    assert any("\u4e00" <= c <= "\u9fff" for c in chinese)


def test_the_form_variant_raises_a_validation_error():
    with pytest.raises(forms.ValidationError):
        form_text_clean("\u200b", max_length=10)
    assert form_text_clean(" 好 ", max_length=10) == "好"


@pytest.mark.parametrize("value", ["３０", "٣٠", "3０"])
def test_a_number_field_takes_ascii_digits_only(value):
    field = AsciiIntegerField(min_value=0, max_value=100)
    with pytest.raises(forms.ValidationError):
        field.clean(value)
    assert field.clean(" 30 ") == 30
