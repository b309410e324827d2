"""Hooks the scheduling core fires for the apps above it (which it must not import)."""

from django.dispatch import Signal

# Sent with `department_id=` once a week's publishing has committed: new seats may be free.
week_published = Signal()
