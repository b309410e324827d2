"""Video sessions: the provider interface, its Twilio and local backends, and the session rules."""
