"""Foretype's desktop app and command line (Qt lives here and nowhere else)."""
