"""Decide attendance of ended video sessions now (the same work the background task does)."""

from django.core.management.base import BaseCommand

from appointments.video.services import video_attendance_sweep


class Command(BaseCommand):
    help = "Mark no-shows and flag sessions no department staff joined, for slots past their grace period."

    def handle(self, *args, **options):
        result = video_attendance_sweep()
        self.stdout.write(
            f"checked {result.checked}, no-show {len(result.no_show)}, flagged {len(result.flagged)}, "
            f"rooms ended {result.rooms_completed}"
        )
