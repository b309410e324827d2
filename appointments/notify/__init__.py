"""Telling residents: SMS notifications sent exactly once, the waiting list, and calendar files and feeds."""
