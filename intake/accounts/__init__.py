"""Organisations, users, roles; sign-in and user administration."""
