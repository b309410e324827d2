"""Create, rotate or revoke a kiosk's key from the command line; a new key is printed once."""

from django.core.management.base import BaseCommand, CommandError

from departments.models import Community, Kiosk
from departments.services import kiosk_key_create, kiosk_key_rotate, kiosk_revoke


class Command(BaseCommand):
    help = "Manage kiosk keys: create --community CODE | rotate --kiosk ID | revoke --kiosk ID"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "rotate", "revoke"])
        parser.add_argument("--community", help="Community code (for create)")
        parser.add_argument("--kiosk", type=int, help="Kiosk id (for rotate and revoke)")
        parser.add_argument("--name", default="", help="A name for the new kiosk")

    def handle(self, *args, action, community=None, kiosk=None, name="", **options):
        if action == "create":
            if not community:
                raise CommandError("create needs --community CODE")
            found = Community.objects.filter(code=community).first()
            if found is None:
                raise CommandError(f"No community with code {community!r}.")
            record, key = kiosk_key_create(community=found, name=name)
            self.stdout.write(f"Kiosk {record.pk} registered to {found.name}. Its key (shown only now):")
            self.stdout.write(key)
            return
        if kiosk is None:
            raise CommandError(f"{action} needs --kiosk ID")
        record = Kiosk.objects.filter(pk=kiosk).first()
        if record is None:
            raise CommandError(f"No kiosk with id {kiosk}.")
        if action == "rotate":
            self.stdout.write(f"New key for kiosk {record.pk} (shown only now):")
            self.stdout.write(kiosk_key_rotate(kiosk=record))
        else:
            kiosk_revoke(kiosk=record)
            self.stdout.write(f"Kiosk {record.pk} revoked.")
