"""Render the kiosk's spoken prompts ahead of time (only what changed), or compare audio formats."""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from appointments.kiosk.voice import VOICES, VoiceToolMissing, catalogue_texts, render, voice_build, voice_root


class Command(BaseCommand):
    help = "build: render every kiosk prompt not rendered yet (static/voice/). measure: Opus against MP3 sizes."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["build", "measure"])

    def handle(self, *args, action: str, **options):
        if action == "measure":
            return self._measure()
        started = time.monotonic()
        try:
            result = voice_build()
        except VoiceToolMissing as missing:
            raise CommandError(str(missing)) from None
        self.stdout.write(
            f"kiosk voice: {result.rendered} rendered, {result.kept} unchanged, {result.removed} removed "
            f"in {time.monotonic() - started:.1f} s ({voice_root()})"
        )

    def _measure(self):
        """Encode the whole catalogue as Opus (what is served) and as MP3, and print the totals."""
        lame = shutil.which("lame")
        if lame is None:
            raise CommandError("lame is not installed (apt-get install lame) — needed only to measure MP3.")
        totals = {"opus": 0, "mp3": 0, "wav": 0}
        count = 0
        with tempfile.TemporaryDirectory() as work:
            for language in VOICES:
                for n, text in enumerate(catalogue_texts(language)):
                    ogg = Path(work) / f"{language}-{n}.ogg"
                    render(text, language, ogg)
                    wav = ogg.with_suffix(".wav")
                    subprocess.run(  # noqa: S603 - fixed arguments, our own temporary files
                        [shutil.which("opusdec") or "opusdec", "--quiet", "--rate", "22050", str(ogg), str(wav)],
                        check=True,
                    )
                    mp3 = ogg.with_suffix(".mp3")
                    subprocess.run([lame, "--quiet", "-m", "m", "-b", "32", str(wav), str(mp3)], check=True)  # noqa: S603
                    totals["opus"] += ogg.stat().st_size
                    totals["mp3"] += mp3.stat().st_size
                    totals["wav"] += wav.stat().st_size
                    count += 1
        self.stdout.write(
            f"{count} clips: Opus/Ogg 16 kbit/s {totals['opus'] / 1024:.0f} KB, "
            f"MP3 32 kbit/s mono {totals['mp3'] / 1024:.0f} KB, WAV {totals['wav'] / 1024:.0f} KB"
        )
