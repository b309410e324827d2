"""Pages for signed-in staff: sessions, the community office, the petition office, weekly hours."""
