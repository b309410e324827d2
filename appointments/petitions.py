"""Residents and petitions: filing a matter and moving it through its lifecycle, in one place."""

import secrets
import unicodedata

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from departments.audit import audit_record
from departments.models import Community
from departments.services import Actor
from scheduler.errors import Conflict, Forbidden, InvalidInput, NotFound, ResidentNameMismatch, TooManyAttempts
from scheduler.log_filters import redact
from scheduler.selectors import department_get
from scheduler.text import text_clean

from . import identity, policy
from .models import Petition, PetitionCategory, Resident
from .outcomes.lifecycle import petition_deadline_refresh

NAME_MAX = 50
SUMMARY_MIN, SUMMARY_MAX = 5, 2000


def name_clean(value: str, *, field: str = "resident.name") -> str:
    """Check a resident's name as written (one line, no invisible or direction-changing characters)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(_("Please enter your name."), field=field)
    if len(value.strip()) > NAME_MAX:
        raise InvalidInput(_("The name is too long."), field=field)
    return text_clean(value, field=field, max_length=NAME_MAX)


def name_key(name: str) -> str:
    """The form of a name used to compare two spellings: width, spaces, case and the middle dot don't count."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    for dot in _MIDDLE_DOTS:
        folded = folded.replace(dot, "·")
    return "".join(folded.split())


# Names of many minorities are written with a middle dot; input methods produce several look-alikes.
_MIDDLE_DOTS = ("•", "・", "‧", "∙", "．", ".")


def identity_clean(*, name: str, phone: str, id_number: str) -> tuple[str, str, str]:
    """Check a resident's name, mobile and ID number; return them normalised."""
    name = name_clean(name)
    phone = identity.phone_clean(phone, field="resident.phone")
    id_number = identity.id_number_clean(id_number, field="resident.id_number")
    return name, phone, id_number


def identity_check(*, name: str, phone: str, id_number: str) -> tuple[str, str, str]:
    """Check a resident's details, and that the name matches the one held for this ID number."""
    name, phone, id_number = identity_clean(name=name, phone=phone, id_number=id_number)
    held = Resident.objects.filter(id_number_hash__in=identity.lookup_hashes(id_number)).values_list("name", flat=True)
    for held_name in held:
        _name_match_or_refuse(held_name=held_name, given=name)
    return name, phone, id_number


def _name_match_or_refuse(*, held_name: str, given: str) -> None:
    # The held name is never shown: whoever typed the ID number may not be its holder.
    if name_key(held_name) != name_key(given):
        raise ResidentNameMismatch(
            _(
                "The name does not match the one registered with this ID number. "
                "Please ask the community worker, who will check your ID card."
            ),
            field="resident.name",
        )


def resident_for_filing(*, actor: Actor | None, name: str, phone: str, id_number: str) -> Resident:
    """Find the resident with this ID number, or register them; the name must match the one held.

    A new mobile becomes the resident's latest contact (audited); earlier petitions keep the contact they were
    filed with. Must run inside a transaction.
    """
    name, phone, id_number = identity_clean(name=name, phone=phone, id_number=id_number)
    digest = identity.lookup_hash(id_number)
    # Under every configured key: a resident not yet re-encrypted by a key rotation is the same resident.
    known = identity.lookup_hashes(id_number)
    resident = Resident.objects.select_for_update().filter(id_number_hash__in=known).first()
    if resident is None:
        try:
            with transaction.atomic():
                resident = Resident.objects.create(
                    id_number_hash=digest,
                    name=name,
                    phone=phone,
                    id_number_encrypted=identity.encrypt(id_number),
                    id_number_masked=identity.id_number_mask(id_number),
                )
        except IntegrityError:
            # Registered by a concurrent filing a moment ago: use that row, under the same rules.
            resident = Resident.objects.select_for_update().filter(id_number_hash__in=known).get()
        else:
            audit_record(actor=actor, action="resident.create", target=resident, detail={"fields": ["name", "phone"]})
            return resident
    _name_match_or_refuse(held_name=resident.name, given=name)
    if resident.phone != phone:
        resident.phone = phone
        resident.save(update_fields=["phone"])
        audit_record(actor=actor, action="resident.update", target=resident, detail={"fields": ["phone"]})
    return resident


class NameCorrectionReason(models.TextChoices):
    """Why a resident's registered name was corrected; fixed choices, so that no personal data is written."""

    TYPING_ERROR = "typing_error", _("Typed wrongly when first registered")
    LEGAL_CHANGE = "legal_change", _("The name was changed legally")
    CHARACTER_FORM = "character_form", _("A rare or variant character")
    OTHER = "other", _("Other, checked against the ID card")


def resident_find_by_id_number(*, actor: Actor, id_number: str) -> Resident:
    """Find a registered resident from the ID number on the card a staff member holds."""
    if not resident_name_correction_allowed(actor):
        raise Forbidden(_("Only a community worker or a petition officer can correct a resident's name."))
    number = identity.id_number_clean(id_number, field="id_number")
    resident = Resident.objects.filter(id_number_hash__in=identity.lookup_hashes(number)).first()
    if resident is None:
        raise NotFound(_("Nobody is registered with this ID number yet."), field="id_number")
    return resident


def resident_id_number_view(*, actor: Actor, petition: Petition) -> str:
    """Show a petition officer the full ID number of a petition's resident, recording that they saw it."""
    if not policy.can_see_full_id_number(actor):
        raise Forbidden(_("Only a petition officer can see a resident's full ID number."))
    resident = petition.resident
    audit_record(
        actor=actor, action="resident.id_number_view", target=resident, detail={"petition": petition.reference}
    )
    return resident.id_number


def resident_name_correction_allowed(actor: Actor) -> bool:
    return policy.can_correct_resident_name(actor)


@transaction.atomic(durable=True)
def resident_name_correct(*, actor: Actor, resident_id: int, name: str, reason: str) -> Resident:
    """Correct a resident's registered name after checking the ID card; earlier petitions keep their contact."""
    if not resident_name_correction_allowed(actor):
        raise Forbidden(_("Only a community worker or a petition officer can correct a resident's name."))
    resident = Resident.objects.select_for_update().filter(pk=resident_id).first()
    if resident is None:
        raise NotFound(_("Nobody is registered with this ID number yet."), field="id_number")
    name = name_clean(name, field="name")
    if reason not in NameCorrectionReason.values:
        raise InvalidInput(_("Please choose why the name is being corrected."), field="reason")
    if name == resident.name:
        raise InvalidInput(_("This is already the registered name."), field="name")
    resident.name = name
    resident.save(update_fields=["name"])
    audit_record(
        actor=actor, action="resident.name_correct", target=resident, detail={"fields": ["name"], "reason": reason}
    )
    return resident


def resident_language() -> str:
    """The language the resident is using now ("en" or "zh-hans"), kept on the petition for their SMS."""
    return "en" if (translation.get_language() or "").startswith("en") else "zh-hans"


def _new_reference() -> str:
    return f"XF{timezone.localdate():%Y%m%d}{secrets.randbelow(10**6):06d}"


def _new_query_code() -> str:
    # Digits only: easy to read out and to type on a kiosk keypad.
    return f"{secrets.randbelow(10**8):08d}"


def petition_create(
    *,
    actor: Actor,
    name: str,
    phone: str,
    id_number: str,
    category: str,
    summary: str,
    department: str | None = None,
    community: Community | None = None,
) -> Petition:
    """File a resident's matter; the department defaults to the category's suggestion."""
    # Check in the order the resident answered: who they are, their matter, then the department.
    name, phone, id_number = identity_clean(name=name, phone=phone, id_number=id_number)
    category_obj = (
        PetitionCategory.objects.filter(code=category, is_active=True).select_related("suggested_department").first()
        if isinstance(category, str)
        else None
    )
    if category_obj is None:
        raise InvalidInput(_("Please choose one of the listed categories."), field="category")
    summary = (summary or "").strip()
    if len(summary) < SUMMARY_MIN:
        raise InvalidInput(_("Please describe your matter in a few words (at least 5 characters)."), field="summary")
    if len(summary) > SUMMARY_MAX:
        raise InvalidInput(_("The summary is too long (at most 2000 characters)."), field="summary")
    if department:
        try:
            department_obj = department_get(department)
        except NotFound as exc:
            # In a request body an unknown code is bad input (422), not a missing resource.
            raise InvalidInput(exc.message, field="department") from None
    elif category_obj.suggested_department and category_obj.suggested_department.is_active:
        department_obj = category_obj.suggested_department
    else:
        raise InvalidInput(_("Please choose a department."), field="department")
    if not policy.can_file_petition_for(actor, department_obj):
        raise Forbidden(_("A department's staff file petitions for their own department only."), field="department")
    if community is None:
        community = actor.kiosk.community if actor.kiosk else (actor.staff.community if actor.staff else None)

    with transaction.atomic():
        resident = resident_for_filing(actor=actor, name=name, phone=phone, id_number=id_number)
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    petition = Petition.objects.create(
                        reference=_new_reference(),
                        query_code=_new_query_code(),
                        resident=resident,
                        contact_name=name,
                        contact_phone=phone,
                        category=category_obj,
                        summary=summary,
                        department=department_obj,
                        community=community,
                        language=resident_language(),
                    )
                break
            except IntegrityError:
                continue  # a reference or query code collided; draw again
        else:
            raise Conflict(_("Could not issue a reference number; please try again."))
        petition_deadline_refresh(petition=petition)
        audit_record(actor=actor, action="petition.create", target=petition)
    return petition


def petition_for_actor(*, actor: Actor, reference: str, field: str = "petition") -> Petition:
    """Load a petition by reference, only if this caller may see it."""
    petition = (
        Petition.objects.select_related("resident", "department", "community", "category")
        .filter(reference=reference)
        .first()
        # A reference is short and printable; anything else (a NUL byte, say) would make PostgreSQL refuse the query.
        if isinstance(reference, str) and reference.isprintable() and len(reference) <= 64
        else None
    )
    if petition is None or not petition_visible_to(petition, actor):
        # Echoed masked: a resident's ID number or mobile typed where a reference belongs must not come back.
        raise NotFound(_("No petition with reference '%(ref)s' was found.") % {"ref": redact(reference)}, field=field)
    return petition


def petition_visible_to(petition: Petition, actor: Actor) -> bool:
    return policy.can_view_petition(actor, petition)


def _lookup_guard(principal: str | None) -> str | None:
    """Refuse a caller who has guessed wrong too often; return the cache key that counts their misses."""
    if not principal:
        return None
    key = f"lookup-misses:{principal}"
    if cache.get(key, 0) >= settings.LOOKUP_MISSES_LIMIT:
        raise TooManyAttempts(
            _("Too many codes that did not match. Please wait a few minutes or ask the community worker for help.")
        )
    return key


def _lookup_missed(key: str | None) -> None:
    if key is None:
        return
    # add() starts the window on the first miss; incr() keeps it, so the limit resets after the window.
    if not cache.add(key, 1, timeout=settings.LOOKUP_MISSES_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:
            cache.add(key, 1, timeout=settings.LOOKUP_MISSES_WINDOW_SECONDS)


def petition_find_by_query_code(*, query_code: str, phone_last4: str, principal: str | None = None) -> Petition | None:
    """Find a petition for a resident who knows its query code and the last 4 digits of their mobile.

    With a principal (the kiosk asking), repeated misses are refused for a while, so codes cannot be guessed.
    """
    guard = _lookup_guard(principal)
    petition = None
    if (query_code or "").isdigit() and (phone_last4 or "").isdigit() and len(phone_last4) == 4:
        petition = (
            Petition.objects.select_related("resident", "department", "category").filter(query_code=query_code).first()
        )
        # The mobile given with this petition: a later filing by the same resident does not change it.
        if petition is not None and identity.phone_last4(petition.contact_phone) != phone_last4:
            petition = None
    if petition is None:
        _lookup_missed(guard)
    return petition
