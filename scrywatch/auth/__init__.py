"""Passwords, tokens and login throttling. The request-facing part lives in web/auth.py."""
