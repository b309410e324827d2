"""What the kiosk says aloud: each screen's prompt, days, times and counts as people say them, and the audio files.

Fixed prompts are rendered ahead of time (``manage.py kiosk_voice build``) into static files; what changes from
screen to screen (a department's name, a day, a count) is rendered on demand and cached (``voice_views.say``).
A query code is never rendered as one phrase: it is read digit by digit from rendered pieces, so the code itself
is in no file name, URL or cache. Names, mobiles and ID numbers are never given to this module.
"""

import datetime as dt
import hashlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.functional import Promise
from django.utils.translation import npgettext, pgettext
from django.utils.translation import pgettext_lazy as _p

from ..templatetags.kiosk import STATUS_WORDS


@dataclass(frozen=True)
class Voice:
    espeak: str  # espeak-ng voice name
    speed: int  # words per minute; a little slower than espeak's 175 for older listeners


VOICES = {"zh-hans": Voice("cmn", 160), "en": Voice("en", 150)}
OPUS_BITRATE_KBPS = 16  # speech at 22 kHz mono: 16 kbit/s Opus is clear and a third the size of 32 kbit/s MP3
# Bump when the rendering changes in a way the text does not show, so every file is rendered again.
RENDER_VERSION = 1
SIGNING_SALT = "kiosk-voice-say"
PAUSE = ""  # a playlist entry that is a short silence (between the groups of a query code)


def voice_root() -> Path:
    return Path(getattr(settings, "KIOSK_VOICE_ROOT", Path(settings.BASE_DIR) / "static" / "voice"))


def voice_cache() -> Path:
    return Path(getattr(settings, "KIOSK_VOICE_CACHE", Path(settings.BASE_DIR) / ".voice-cache"))


def _ctx(message: str) -> Promise:
    return _p("kiosk voice", message)


# The prompt catalogue: one entry per kiosk screen (the template's name), with variants after a colon.
# tests/kiosk/test_voice.py walks templates/kiosk/ and fails for a screen missing here.
SCREEN_PROMPTS: dict[str, Promise] = {
    "setup": _ctx("This kiosk is not set up yet. Please ask a community worker for help."),
    "start": _ctx(
        "Hello. What would you like to do? You can book a video consultation with a government department, "
        "check the progress of your matter, or check in when you arrive for your appointment. "
        "Please tap one of the big buttons."
    ),
    "book_identity": _ctx(
        "Step one. Please enter your name, your mobile number and your ID number. Tap a box to type in it. "
        "When you are done, tap Next. A community worker can help you if you need."
    ),
    "book_category": _ctx("Step two. What is your matter about? Please tap the one that fits best. The choices are:"),
    "book_summary": _ctx("Step three. Please tell us your matter in a sentence or two, then tap Next."),
    "book_department": _ctx("Step four. Which department should hear your matter? We suggest:"),
    "days": _ctx("Which day suits you? These days still have free places:"),
    "times": _ctx("Which time suits you? These times still have free places:"),
    "book_confirm": _ctx("Last step. Please check the details on the screen. Your appointment is with:"),
    "receipt:booked": _ctx("You are booked. Your appointment is with:"),
    "receipt:moved": _ctx("Your appointment has moved. The new time is with:"),
    "receipt:copy": _ctx("Here is your receipt. Your appointment is with:"),
    "progress_lookup": _ctx(
        "Check progress. Please enter the query code from your receipt and the last four digits of your "
        "mobile number, then tap Show progress."
    ),
    "progress_status": _ctx("Here is how your matter stands. Its status is:"),
    "progress_cancel": _ctx("Do you want to cancel this appointment?"),
    "cancelled": _ctx("Your appointment is cancelled, and the time is free for others. Tap Finish when you are done."),
    "reschedule_confirm": _ctx("Do you want to move your appointment? The new time would be:"),
    "taken": _ctx("Sorry, this time was just taken. Please choose another time."),
    "check_in": _ctx("Check in. Please enter the query code from your receipt, then tap Check in."),
    "check_in_done": _ctx(
        "You are checked in. Please take a seat; a community worker will call you when it is your turn."
    ),
    "rated": _ctx("Thank you for your rating. Tap Finish when you are done."),
    "review": _ctx(
        "If you are not satisfied with the answer, you can ask here for it to be looked at again. "
        "You may write why, then tap the button to send it."
    ),
    "reviewed": _ctx(
        "Your request is received. Your matter will be looked at again. "
        "You can check its progress here at any time with your query code."
    ),
    "waitlist_joined": _ctx(
        "You are on the waiting list. When a time comes free, we will send you a text message. "
        "Please keep your query code. Your query code is:"
    ),
    "waitlist_done:declined": _ctx(
        "You gave the time back. It goes to the next person waiting. Tap Finish when you are done."
    ),
    "waitlist_done:left": _ctx(
        "You have left the waiting list. Your matter itself stays open. Tap Finish when you are done."
    ),
}

# Pieces that go between the dynamic parts of a screen, and the idle warning.
PHRASES: dict[str, Promise] = {
    "idle": _ctx("Are you still there? If you are, please touch the screen."),
    "errors": _ctx("Something needs checking. Please look at the red words on the screen:"),
    "also": _ctx("You can also choose:"),
    "no_days": _ctx("There are no free times in the coming days."),
    "can_wait": _ctx("You can join the waiting list: when a time comes free, we will send you a text message."),
    "nearest": _ctx("The nearest free times are:"),
    "confirm_tap": _ctx("If everything is right, tap Confirm and book."),
    "query_code": _ctx("Your query code is:"),
    "again": _ctx("Once more:"),
    "keep_receipt": _ctx(
        "Please keep the receipt. Come ten minutes early, and check in at this kiosk with your query code."
    ),
    "cancel_tap": _ctx("To cancel it, tap Yes, cancel it. To keep it, tap No, keep it."),
    "move_tap": _ctx("If that is right, tap Yes, move it."),
    "offer": _ctx("A time has come free for you:"),
}

DIGITS = {
    "zh-hans": "零幺二三四五六七八九",  # 幺 for 1, as codes and numbers are read out over the phone
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
}
QUERY_CODE_GROUP = 4


def catalogue_texts(language: str) -> list[str]:
    """Every fixed text of one language, as it is rendered ahead of time."""
    with translation.override(language):
        texts = [str(p) for p in [*SCREEN_PROMPTS.values(), *PHRASES.values()]]
    return [*texts, *DIGITS[language]]


# Numbers, days and times in words.

_ZH = "零一二三四五六七八九"


def zh_number(n: int, *, measure: bool = False) -> str:
    """Write 0–99999 the way it is said: 12 → 十二, 205 → 二百零五; 2 before a measure word is 两."""
    if n == 2 and measure:
        return "两"
    if n < 10:
        return _ZH[n]
    if n < 20:
        return "十" + (_ZH[n % 10] if n % 10 else "")
    words = ""
    zero = False
    for value, unit in ((10000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if n < value:
            continue
        if digit:
            words += ("零" if zero else "") + _ZH[digit] + unit
            zero = False
        elif words:
            zero = True
    return words


def _zh_clock(value: dt.datetime) -> str:
    hour = value.hour % 12 or 12
    period = "凌晨" if value.hour < 6 else "上午" if value.hour < 12 else "中午" if value.hour < 13 else "下午"
    if value.hour >= 18:
        period = "晚上"
    said = f"{period}{zh_number(hour, measure=True)}点"
    if value.minute == 30:
        return said + "半"
    if value.minute:
        return said + ("零" if value.minute < 10 else "") + zh_number(value.minute) + "分"
    return said


def spoken_day(value: dt.date | dt.datetime) -> str:
    """Say a day: "十二月三日 星期四" / "Thursday 3 December"; the year only when it is not this year."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    this_year = value.year == timezone.localdate().year
    if translation.get_language() == "en":
        return date_format(value, "l j F" if this_year else "l j F Y")
    weekday = "一二三四五六日"[value.weekday()]
    year = "" if this_year else "".join(_ZH[int(d)] for d in str(value.year)) + "年"
    return f"{year}{zh_number(value.month)}月{zh_number(value.day)}日 星期{weekday}"


def spoken_time(value: dt.datetime) -> str:
    """Say a time of day: "上午九点半" / "9:30 a.m."."""
    value = timezone.localtime(value)
    if translation.get_language() == "en":
        hour = value.hour % 12 or 12
        clock = f"{hour}" if not value.minute else f"{hour}:{value.minute:02d}"
        return f"{clock} {'a.m.' if value.hour < 12 else 'p.m.'}"
    return _zh_clock(value)


def spoken_when(value: dt.datetime) -> str:
    """Say the day and time of a session: "十二月三日 星期四 上午九点半"."""
    return f"{spoken_day(value)}, {spoken_time(value)}"


def spoken_places(n: int) -> str:
    """Say how many places are free: "还有五个空位" / "5 places free"."""
    if translation.get_language() == "en":
        return npgettext("kiosk voice", "%(n)d place free", "%(n)d places free", n) % {"n": n}
    return f"还有{zh_number(n, measure=True)}个空位"


def spoken_position(n: int) -> str:
    if translation.get_language() == "en":
        return pgettext("kiosk voice", "You are number %(n)d in line.") % {"n": n}
    return f"您排在第{zh_number(n)}位。"


# Playlists: what one screen says, as a list of clips.


@dataclass(frozen=True)
class Clip:
    text: str
    fixed: bool = False  # one of the rendered catalogue texts (else rendered on demand)


def _fixed(promise: Promise | str) -> Clip:
    return Clip(str(promise), fixed=True)


def _said(text: object) -> Clip:
    return Clip(str(text))


def query_code_clips(code: str) -> list[Clip]:
    """Read a query code digit by digit in groups of four, from the rendered digits, with a pause between groups."""
    digits = DIGITS["en" if translation.get_language() == "en" else "zh-hans"]
    clips: list[Clip] = []
    for start in range(0, len(code), QUERY_CODE_GROUP):
        if clips:
            clips.append(Clip(PAUSE, fixed=True))
        clips += [Clip(digits[int(c)], fixed=True) for c in code[start : start + QUERY_CODE_GROUP] if c.isdigit()]
    return clips


def _query_code_twice(code: str) -> list[Clip]:
    return [
        _fixed(PHRASES["query_code"]),
        *query_code_clips(code),
        Clip(PAUSE, fixed=True),
        _fixed(PHRASES["again"]),
        *query_code_clips(code),
    ]


def _slot_clips(slot) -> list[Clip]:
    return [_said(slot.department.name), _said(spoken_when(slot.starts_at))]


def _category_name(category) -> str:
    if translation.get_language() == "en":
        return category.name_en or category.name
    return category.name


def _book_category(c: dict) -> list[Clip]:
    return [_said(_category_name(category)) for category in c.get("categories", [])]


def _book_department(c: dict) -> list[Clip]:
    departments = list(c.get("departments", []))
    suggested = [d for d in departments if d.code == c.get("suggested")]
    others = [d for d in departments if d.code != c.get("suggested")]
    clips = [_said(d.name) for d in suggested]
    if others:
        clips += [_fixed(PHRASES["also"]) if suggested else Clip(PAUSE, fixed=True), *(_said(d.name) for d in others)]
    return clips


def _days(c: dict) -> list[Clip]:
    clips: list[Clip] = []
    open_days = [day for day in c.get("days", []) if day.is_bookable and day.free_seats]
    if not open_days:
        clips.append(_fixed(PHRASES["no_days"]))
    for day in open_days:
        clips += [_said(spoken_day(day.date)), _said(spoken_places(day.free_seats))]
    if c.get("can_wait"):
        clips.append(_fixed(PHRASES["can_wait"]))
    return clips


def _times(c: dict) -> list[Clip]:
    clips: list[Clip] = []
    if c.get("day") is not None:
        clips.append(_said(spoken_day(c["day"].date)))
        for slot in c["day"].slots:
            if slot.remaining:
                clips += [_said(spoken_time(slot.starts_at)), _said(spoken_places(slot.remaining))]
    return clips


def _book_confirm(c: dict) -> list[Clip]:
    return [*_slot_clips(c["slot"]), _fixed(PHRASES["confirm_tap"])] if c.get("slot") else []


def _receipt(c: dict) -> list[Clip]:
    clips = _slot_clips(c["appointment"].slot) if c.get("appointment") else []
    if c.get("petition"):
        clips += _query_code_twice(c["petition"].query_code)
    return [*clips, _fixed(PHRASES["keep_receipt"])]


def _appointment(c: dict) -> list[Clip]:
    return _slot_clips(c["appointment"].slot) if c.get("appointment") else []


def _progress_cancel(c: dict) -> list[Clip]:
    return [*_appointment(c), _fixed(PHRASES["cancel_tap"])]


def _reschedule_confirm(c: dict) -> list[Clip]:
    return [*_slot_clips(c["slot"]), _fixed(PHRASES["move_tap"])] if c.get("slot") else []


def _progress_status(c: dict) -> list[Clip]:
    progress = c.get("progress")
    if progress is None:
        return []
    clips = [_said(STATUS_WORDS.get(progress.petition.status, ""))]
    waitlist = c.get("waitlist")
    if waitlist is not None and waitlist.offer_open:
        clips += [_fixed(PHRASES["offer"]), *_slot_clips(waitlist.offer.slot)]
    elif progress.appointment is not None:
        clips += _slot_clips(progress.appointment.slot)
    return clips


def _taken(c: dict) -> list[Clip]:
    nearest = list(c.get("nearest") or [])
    if not nearest:
        return [_fixed(PHRASES["can_wait"])] if c.get("can_wait") else [_fixed(PHRASES["no_days"])]
    clips = [_fixed(PHRASES["nearest"])]
    for slot in nearest:
        clips += [_said(spoken_when(slot.starts_at)), _said(spoken_places(slot.remaining))]
    return clips


def _waitlist_joined(c: dict) -> list[Clip]:
    clips = _query_code_twice(c["petition"].query_code)[1:] if c.get("petition") else []
    if c.get("position"):
        clips.append(_said(spoken_position(c["position"])))
    return clips


SCREEN_EXTRAS: dict[str, Callable[[dict], list[Clip]]] = {
    "book_category": _book_category,
    "book_department": _book_department,
    "days": _days,
    "times": _times,
    "book_confirm": _book_confirm,
    "receipt": _receipt,
    "check_in_done": _appointment,
    "progress_cancel": _progress_cancel,
    "cancelled": lambda c: [],
    "reschedule_confirm": _reschedule_confirm,
    "progress_status": _progress_status,
    "taken": _taken,
    "waitlist_joined": _waitlist_joined,
}
SECRET_FIELDS = ("name", "phone", "id_number", "phone_last4", "query_code", "key")
VARIANTS: dict[str, str] = {"receipt": "kind", "waitlist_done": "kind"}
# A run of five or more digits is a mobile, an ID number or a code: never said as one phrase.
_LONG_NUMBER = re.compile(r"\d{5,}")


def screen_key(template: str, context: dict) -> str:
    """The catalogue key of a screen: its template's name, with the variant the view chose."""
    name = template.removesuffix(".html")
    variant = VARIANTS.get(name)
    return f"{name}:{context.get(variant)}" if variant else name


def _errors(context: dict) -> list[Clip]:
    messages: list[str] = []
    for key in ("error", "offer_error", "rating_error"):
        if context.get(key):
            messages.append(str(context[key]))
    for key in ("form", "rating_form"):
        form = context.get(key)
        if form is not None and getattr(form, "is_bound", False) and form.errors:
            messages += [str(m) for m in form.non_field_errors()]
            messages += [str(m) for field in form for m in field.errors]
    if not messages:
        return []
    typed = _typed_secrets(context)
    spoken = [m for m in dict.fromkeys(messages) if not any(secret in m for secret in typed)]
    return [_fixed(PHRASES["errors"]), *(_said(m) for m in spoken)]


def _typed_secrets(context: dict) -> list[str]:
    """What the resident typed into a personal field: an error that repeats it is not read out."""
    form = context.get("form")
    data = getattr(form, "data", None) or {}
    return [v for key in SECRET_FIELDS if len(v := str(data.get(key, "")).strip()) >= 2]


def screen_clips(template: str, context: dict) -> list[Clip]:
    """Everything one screen says, in order: the error first (it is why the screen came back), then its prompt."""
    key = screen_key(template, context)
    prompt = SCREEN_PROMPTS.get(key)
    if prompt is None:
        return []
    extras = SCREEN_EXTRAS.get(key.split(":")[0], lambda c: [])
    clips = [*_errors(context), _fixed(prompt), *extras(context)]
    return [c for c in clips if c.fixed or (c.text.strip() and not _LONG_NUMBER.search(c.text))]


def idle_clips() -> list[Clip]:
    """What the idle warning says."""
    return [_fixed(PHRASES["idle"])]


# Files.


def _language() -> str:
    return "en" if translation.get_language() == "en" else "zh-hans"


def clip_digest(text: str, language: str) -> str:
    voice = VOICES[language]
    key = f"{RENDER_VERSION}|{language}|{voice.espeak}|{voice.speed}|{OPUS_BITRATE_KBPS}|{text}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def fixed_path(text: str, language: str) -> Path:
    return voice_root() / language / f"{clip_digest(text, language)}.ogg"


def said_path(text: str, language: str) -> Path:
    return voice_cache() / language / f"{clip_digest(text, language)}.ogg"


def say_token(text: str, language: str) -> str:
    return signing.dumps({"l": language, "t": text}, salt=SIGNING_SALT, compress=True)


def say_token_read(token: str) -> tuple[str, str] | None:
    """The text and language a signed token asks for, or None for anything this server did not sign."""
    try:
        data = signing.loads(token, salt=SIGNING_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("l") not in VOICES or not isinstance(data.get("t"), str):
        return None
    return data["t"], data["l"]


def _static_url(text: str, language: str) -> str | None:
    if not fixed_path(text, language).exists():
        return None
    try:
        return static(f"voice/{language}/{clip_digest(text, language)}.ogg")
    except ValueError:  # rendered after collectstatic: not in the manifest yet
        return None


def clip_urls(clips: Iterable[Clip]) -> list[str]:
    """The audio URL of each clip ("" for a pause): a static file when rendered, else the on-demand URL."""
    language = _language()
    urls = []
    for clip in clips:
        if clip.text == PAUSE:
            urls.append(PAUSE)
        elif clip.fixed and (url := _static_url(clip.text, language)):
            urls.append(url)
        else:  # rendered on demand, or a prompt not rendered yet (no build run): the server renders it on first play
            urls.append(reverse("kiosk_voice:say", args=[say_token(clip.text, language)]))
    return urls


class VoiceToolMissing(RuntimeError):
    pass


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise VoiceToolMissing(f"{name} is not installed: run `make voice` (Debian packages espeak-ng, opus-tools).")
    return found


def render(text: str, language: str, destination: Path) -> None:
    """Render one text with espeak-ng and compress it to Opus in Ogg; the file appears whole or not at all."""
    voice = VOICES[language]
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Work beside the destination, so that the finished file is moved into place in one step.
    with tempfile.TemporaryDirectory(prefix=".render-", dir=destination.parent) as work:
        wav = Path(work) / "clip.wav"
        ogg = Path(work) / "clip.ogg"
        # The text goes in on stdin, so nothing in it is ever read as an option.
        subprocess.run(  # noqa: S603 - fixed arguments; the text goes in on stdin
            [_tool("espeak-ng"), "-v", voice.espeak, "-s", str(voice.speed), "-w", str(wav), "--stdin"],
            input=text.encode(),
            check=True,
            capture_output=True,
            timeout=60,
        )
        subprocess.run(  # noqa: S603 - fixed arguments, our own temporary files
            [_tool("opusenc"), "--quiet", "--bitrate", str(OPUS_BITRATE_KBPS), str(wav), str(ogg)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        ogg.replace(destination)


@dataclass
class BuildResult:
    rendered: int = 0
    kept: int = 0
    removed: int = 0


def voice_build(*, prune_said_days: int = 60) -> BuildResult:
    """Render every catalogue text not rendered yet, remove files no longer in it, and forget old on-demand clips."""
    result = BuildResult()
    for language in VOICES:
        wanted = {fixed_path(text, language): text for text in catalogue_texts(language) if text}
        folder = voice_root() / language
        folder.mkdir(parents=True, exist_ok=True)
        for path, text in wanted.items():
            if path.exists():
                result.kept += 1
                continue
            render(text, language, path)
            result.rendered += 1
        for stale in folder.glob("*.ogg"):
            if stale not in wanted:
                stale.unlink()
                result.removed += 1
    cutoff = timezone.now().timestamp() - prune_said_days * 86400
    for old in voice_cache().glob("*/*.ogg"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
            result.removed += 1
    return result
