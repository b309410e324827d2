"""Prove the audit trail is whole: walk its hash chain and name the first event that was altered or removed."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from departments.audit import AuditCheck, audit_seal, audit_verify


def _anchor(value: str) -> tuple[int, str]:
    seq, _sep, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise CommandError(_("--anchor takes SEQ:HASH as printed by an earlier run."))
    return int(seq), digest.lower()


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain (exit status 1 names the first bad event); --seal chains new events first"
    )

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true", help="Seal events not yet in the chain, then verify")
        parser.add_argument(
            "--anchor",
            type=_anchor,
            metavar="SEQ:HASH",
            help="A head printed by an earlier run, kept elsewhere: the chain must still reach it unchanged",
        )

    def handle(self, *args, seal=False, anchor=None, **options):
        if seal:
            self.stdout.write(_("Sealed %(count)d new events.") % {"count": audit_seal()})
        check = audit_verify(anchor=anchor)
        if not check.ok:
            raise CommandError(_problem(check))
        self.stdout.write(
            _("The audit trail is intact: %(count)d events verified; head %(seq)d:%(hash)s.")
            % {"count": check.checked, "seq": check.head_seq, "hash": check.head_hash}
        )
        if check.unsealed:
            self.stdout.write(
                _("%(count)d newer events are not sealed yet (run with --seal).") % {"count": check.unsealed}
            )


def _problem(check: AuditCheck) -> str:
    values = {"id": check.bad_event_id, "seq": check.bad_seq, "head": check.head_seq}
    if check.problem == "missing":
        message = _(
            "Event #%(id)s (chain position %(seq)s) follows position %(head)s: the events between were removed."
        )
    elif check.problem == "altered":
        message = _(
            "Event #%(id)s (chain position %(seq)s) does not match its hash: it, or the event before it, was altered."
        )
    elif check.problem == "anchor":
        message = _(
            "Event #%(id)s (chain position %(seq)s) no longer has the hash recorded earlier: the trail was rewritten."
        )
    else:
        message = _(
            "The chain ends at position %(head)s, but position %(seq)s was recorded earlier: events were removed."
        )
    return _("The audit trail is broken. %(problem)s Verified before it: %(count)d events.") % {
        "problem": message % values,
        "count": check.checked,
    }
