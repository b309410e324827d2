"""Hooks fired after a booking change has been committed, for code outside the booking services to listen on."""

from django.dispatch import Signal

# Each is sent with `appointment=` once the transaction that made the change has committed.
appointment_booked = Signal()
appointment_cancelled = Signal()
appointment_rescheduled = Signal()  # also sent with `previous=`
appointment_checked_in = Signal()
