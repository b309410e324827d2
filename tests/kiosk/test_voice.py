"""The kiosk's voice: every screen has a rendered prompt, the files are real speech, days and times are said as
people say them, and no name, mobile or ID number is ever read aloud."""

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone, translation

from appointments.kiosk import voice
from appointments.kiosk.voice import (
    PAUSE,
    SCREEN_PROMPTS,
    VOICES,
    catalogue_texts,
    clip_digest,
    fixed_path,
    query_code_clips,
    say_token,
    say_token_read,
    spoken_day,
    spoken_places,
    spoken_time,
    voice_build,
    zh_number,
)

from .conftest import SUMMARY, confirm_token, day_of, walk_to_confirm

TEMPLATES = Path(settings.BASE_DIR) / "templates" / "kiosk"
VIEWS = Path(settings.BASE_DIR) / "appointments" / "kiosk" / "views.py"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="session")
def built():
    """The rendered catalogue, as `make run` / `make test` leave it (incremental: nearly free when done)."""
    return voice_build()


def screens() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.html") if not p.name.startswith("_") and p.stem != "base")


def test_every_kiosk_screen_has_a_prompt_in_the_catalogue():
    prompted = {key.split(":")[0] for key in SCREEN_PROMPTS}
    missing = [name for name in screens() if name not in prompted]
    assert not missing, f"kiosk screens without a spoken prompt (add them to voice.SCREEN_PROMPTS): {missing}"
    assert prompted <= set(screens()), prompted - set(screens())  # no prompt for a screen that is gone


def test_every_screen_a_view_renders_has_a_prompt_for_each_variant():
    rendered = set(re.findall(r'_render\(\s*request,\s*"([a-z_]+)\.html"', VIEWS.read_text()))
    assert {"start", "book_confirm", "days", "times", "taken", "receipt"} <= rendered
    for name in rendered - set(voice.VARIANTS):
        assert name in SCREEN_PROMPTS, name
    for kind in ("booked", "moved", "copy"):
        assert voice.screen_key("receipt.html", {"kind": kind}) in SCREEN_PROMPTS
    for kind in ("declined", "left"):
        assert voice.screen_key("waitlist_done.html", {"kind": kind}) in SCREEN_PROMPTS


def test_every_prompt_is_translated_into_chinese():
    chinese = catalogue_texts("zh-hans")
    untranslated = [t for t in chinese if re.search("[A-Za-z]{3}", t) or not re.search(r"[\u4e00-\u9fff]", t)]
    assert not untranslated
    assert "对不起，这个时间刚刚被约走了，请另选一个时间。" in chinese


def test_the_build_renders_every_prompt_as_opus_in_ogg(built):
    for language in VOICES:
        for text in catalogue_texts(language):
            path = fixed_path(text, language)
            assert path.exists(), (language, text)
            head = path.read_bytes()[:64]
            assert head.startswith(b"OggS") and b"OpusHead" in head, path


def _seconds(path: Path, tmp_path: Path) -> float:
    """How long a clip plays, measured by sox on the decoded audio (soxi reads no Opus itself)."""
    wav = tmp_path / f"{path.stem}.wav"
    subprocess.run(["opusdec", "--quiet", str(path), str(wav)], check=True)  # noqa: S603, S607 - fixed arguments
    soxi = subprocess.run(["soxi", "-D", str(wav)], capture_output=True, text=True, check=True)  # noqa: S603, S607
    return float(soxi.stdout)


def test_each_prompt_plays_for_a_plausible_time(built, tmp_path):
    for language in VOICES:
        for text in catalogue_texts(language):
            units = len(re.findall(r"[\u4e00-\u9fff]", text)) if language == "zh-hans" else len(text.split())
            seconds = _seconds(fixed_path(text, language), tmp_path)
            # Mandarin: about 0.3–0.5 s a character; English about 0.3 s a word; a second of lead-in and tail.
            low, high = (0.2 * units, 0.6 * units + 1.0) if language == "zh-hans" else (0.15 * units, 0.6 * units + 1.0)
            assert 0.3 <= seconds and low <= seconds <= high, (language, text, seconds)


def test_the_build_renders_only_what_changed(tmp_path, settings, monkeypatch):
    settings.KIOSK_VOICE_ROOT = tmp_path
    texts = {"zh-hans": ["请点下一步。", "谢谢。"], "en": ["Tap Next.", "Thank you."]}
    monkeypatch.setattr(voice, "catalogue_texts", lambda language: list(texts[language]))
    assert voice_build().rendered == 4
    first = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/*.ogg")}
    again = voice_build()
    assert (again.rendered, again.kept, again.removed) == (0, 4, 0)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/*.ogg")} == first
    texts["zh-hans"][1] = "谢谢您。"
    changed = voice_build()
    assert (changed.rendered, changed.kept, changed.removed) == (1, 3, 1)
    assert not fixed_path("谢谢。", "zh-hans").exists() and fixed_path("谢谢您。", "zh-hans").exists()


@pytest.mark.parametrize(
    ("n", "said"),
    [
        (0, "零"),
        (3, "三"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (31, "三十一"),
        (105, "一百零五"),
        (1010, "一千零一十"),
    ],
)
def test_numbers_are_said_in_words(n, said):
    assert zh_number(n) == said


def test_days_and_times_are_read_the_way_people_say_them():
    today = timezone.localdate()
    day = dt.date(today.year, 12, 3)
    with translation.override("zh-hans"):
        weekday = "一二三四五六日"[day.weekday()]
        assert spoken_day(day) == f"十二月三日 星期{weekday}"
        assert spoken_day(dt.date(today.year + 1, 1, 2)).startswith(
            "".join("零一二三四五六七八九"[int(d)] for d in str(today.year + 1)) + "年一月二日"
        )
        at = dt.datetime(today.year, 12, 3, 9, 30, tzinfo=SHANGHAI)
        assert spoken_time(at) == "上午九点半"
        assert spoken_time(at.replace(hour=14, minute=0)) == "下午两点"
        assert spoken_time(at.replace(hour=10, minute=5)) == "上午十点零五分"
        assert spoken_time(at.replace(hour=12, minute=15)) == "中午十二点十五分"
        assert spoken_time(at.replace(hour=19, minute=45)) == "晚上七点四十五分"
        assert spoken_places(2) == "还有两个空位" and spoken_places(12) == "还有十二个空位"
    with translation.override("en"):
        assert spoken_time(dt.datetime(2026, 12, 3, 14, 0, tzinfo=SHANGHAI)) == "2 p.m."
        assert spoken_places(1) == "1 place free"


def test_the_query_code_is_read_digit_by_digit_in_groups_from_rendered_pieces():
    with translation.override("zh-hans"):
        clips = query_code_clips("41052738")
    assert [c.text for c in clips] == ["四", "幺", "零", "五", PAUSE, "二", "七", "三", "八"]
    assert all(c.fixed for c in clips)  # never one phrase holding the code, so never a file or URL with it


def test_a_signed_clip_is_rendered_once_and_then_served_from_the_cache(kiosk_client, tmp_path, settings):
    settings.KIOSK_VOICE_CACHE = tmp_path
    with translation.override("zh-hans"):
        token = say_token("十二月三日 星期四 上午九点半", "zh-hans")
    first = kiosk_client.get(f"/kiosk/voice/say/{token}/")
    assert first.status_code == 200 and first["Content-Type"] == "audio/ogg"
    assert b"".join(first.streaming_content).startswith(b"OggS")
    cached = tmp_path / "zh-hans" / f"{clip_digest('十二月三日 星期四 上午九点半', 'zh-hans')}.ogg"
    inode = cached.stat().st_ino
    second = kiosk_client.get(f"/kiosk/voice/say/{token}/")
    assert second.status_code == 200 and cached.stat().st_ino == inode
    assert "immutable" in second["Cache-Control"]


def test_a_clip_this_server_did_not_sign_is_not_found(kiosk_client, tmp_path, settings):
    settings.KIOSK_VOICE_CACHE = tmp_path
    forged = say_token("随便说什么", "zh-hans")[:-3] + "abc"
    assert kiosk_client.get(f"/kiosk/voice/say/{forged}/").status_code == 404
    assert kiosk_client.get("/kiosk/voice/say/not-a-token/").status_code == 404
    assert not list(tmp_path.glob("**/*.ogg"))


def _spoken(response) -> list[str]:
    """Every text a page would read aloud: static clips looked up in the catalogue, on-demand ones unsigned."""
    html = response.content.decode()
    found = re.search(r'data-playlist="([^"]*)"', html)
    assert found, "no voice button on this page"
    urls = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    by_digest = {clip_digest(t, lang): t for lang in VOICES for t in catalogue_texts(lang)}
    texts = []
    for url in urls:
        if url == PAUSE:
            continue
        if "/voice/say/" in url:
            asked = say_token_read(url.rstrip("/").rsplit("/", 1)[1])
            assert asked is not None, url
            texts.append(asked[0])
        else:
            texts.append(by_digest[Path(url).stem])
    return [*texts, *urls]


def test_no_name_mobile_or_id_number_is_ever_read_aloud(kiosk_client, resident, suggesting, open_slots, built):
    """Walk a booking, a refusal, the receipt, progress and check-in; collect everything each screen would say."""
    said: list[str] = []
    said += _spoken(kiosk_client.get("/kiosk/"))
    said += _spoken(kiosk_client.post("/kiosk/book/", {**resident, "id_number": resident["id_number"][:-1] + "X"}))
    confirm = walk_to_confirm(kiosk_client, resident, suggesting, open_slots[0])
    said += _spoken(confirm)
    for url in ["/kiosk/book/", "/kiosk/book/category/", "/kiosk/book/summary/", "/kiosk/book/department/"]:
        said += _spoken(kiosk_client.get(url))
    said += _spoken(kiosk_client.get("/kiosk/book/day/"))
    said += _spoken(kiosk_client.get(f"/kiosk/book/time/?day={day_of(open_slots[0])}"))
    assert kiosk_client.post("/kiosk/book/confirm/", {"token": confirm_token(confirm)}).status_code == 302
    receipt = kiosk_client.get("/kiosk/book/receipt/")
    receipt_said = _spoken(receipt)
    said += receipt_said
    code = re.search(r'class="code">(\d+)<', receipt.content.decode()).group(1)
    assert not any(code in text for text in receipt_said)  # read digit by digit, never as one phrase
    assert sum(1 for t in receipt_said if t in "零幺二三四五六七八九" and t) == 2 * len(code)
    lookup = {"query_code": code, "phone_last4": resident["phone"][-4:]}
    said += _spoken(kiosk_client.post("/kiosk/progress/", {**lookup, "phone_last4": "0000"}))
    kiosk_client.post("/kiosk/progress/", lookup)
    said += _spoken(kiosk_client.get("/kiosk/progress/status/"))
    said += _spoken(kiosk_client.get("/kiosk/check-in/"))

    spoken = "\n".join(said)
    assert SUMMARY not in spoken  # the matter in the resident's own words is not read out either
    for secret in (resident["name"], resident["phone"], resident["id_number"], resident["id_number"][:-1] + "X"):
        assert secret not in spoken, secret
    for ten_digits in re.findall(r"\d{5,}", spoken):
        assert ten_digits not in resident["phone"] + resident["id_number"]
    assert suggesting.name in spoken  # the department is said, on demand


def test_errors_are_read_aloud_after_the_prompt_to_check(kiosk_client, resident):
    page = kiosk_client.post("/kiosk/book/", {**resident, "phone": "12345"})
    assert "alert" in page.content.decode()
    spoken = _spoken(page)
    assert spoken[0] == "有一项需要您再看一看，请看屏幕上的红字："
    assert any("手机" in text for text in spoken[1:-1])
    assert resident["name"] not in "\n".join(spoken) and resident["id_number"] not in "\n".join(spoken)


def test_a_taken_time_says_so_and_reads_the_nearest_free_times(
    kiosk_client, resident, suggesting, open_slots, built, kiosk
):
    from appointments.booking import appointment_book
    from tests import factories as f

    confirm = walk_to_confirm(kiosk_client, resident, suggesting, open_slots[0])
    for _ in range(open_slots[0].remaining):
        other = f.petition(kiosk, suggesting)
        appointment_book(actor=kiosk, petition_reference=other.reference, slot_id=open_slots[0].pk)
    taken = kiosk_client.post("/kiosk/book/confirm/", {"token": confirm_token(confirm)})
    assert taken.status_code == 409
    spoken = _spoken(taken)
    assert spoken[0] == "对不起，这个时间刚刚被约走了，请另选一个时间。"
    assert "最近还有这些时间：" in spoken
    assert any(re.fullmatch(r"[一二三四五六七八九十]+月[一二三四五六七八九十]+日 星期., .+点.*", t) for t in spoken)


def test_voice_and_large_text_are_remembered_for_the_visit_and_forgotten_by_starting_over(kiosk_client):
    assert kiosk_client.post("/kiosk/voice/", {"voice": "on", "next": "/kiosk/check-in/"}).url == "/kiosk/check-in/"
    assert kiosk_client.post("/kiosk/elder/", {"elder": "on"}, headers={"X-Kiosk-Switch": "1"}).status_code == 204
    page = kiosk_client.get("/kiosk/check-in/").content.decode()
    assert '<html lang="zh-Hans" class="elder">' in page and 'data-voice="on"' in page
    assert 'name="voice" value="off" class="btn assist-btn" aria-pressed="true"' in page
    kiosk_client.post("/kiosk/reset/")
    page = kiosk_client.get("/kiosk/").content.decode()
    assert 'class="elder"' not in page and 'data-voice="off"' in page


def test_a_switch_never_sends_the_resident_to_another_site(kiosk_client):
    response = kiosk_client.post("/kiosk/elder/", {"elder": "on", "next": "https://example.com/"})
    assert response.status_code == 302 and response.url == "/kiosk/"


def test_every_kiosk_page_has_no_inline_script(kiosk_client, suggesting, open_slots, resident):
    pages = [kiosk_client.get("/kiosk/"), walk_to_confirm(kiosk_client, resident, suggesting, open_slots[0])]
    for page in pages:
        html = page.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
        assert not re.search(r"<[^>]+\son[a-z]+=", html)  # no inline event handlers either


def test_an_error_that_repeats_what_was_typed_into_a_personal_field_is_not_read_out():
    from django import forms

    class Echoing(forms.Form):
        name = forms.CharField()
        phone = forms.CharField()

        def clean_name(self):
            raise forms.ValidationError(f"“{self.cleaned_data['name']}”不是一个名字")

        def clean_phone(self):
            raise forms.ValidationError("请输入11位手机号码")

    form = Echoing({"name": "王秀兰", "phone": "1384001"})
    with translation.override("zh-hans"):
        texts = [clip.text for clip in voice.screen_clips("book_identity.html", {"form": form})]
    assert texts[0] == "有一项需要您再看一看，请看屏幕上的红字："
    assert "请输入11位手机号码" in texts
    assert not [t for t in texts if "王秀兰" in t]
