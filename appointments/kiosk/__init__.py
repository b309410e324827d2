"""The community kiosk: the screens a resident uses to book, follow and check in."""
