"""SMS providers behind one small interface, chosen by settings.SMS_BACKEND."""
