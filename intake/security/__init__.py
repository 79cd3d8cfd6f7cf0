"""Passwords, sessions, CSRF, headers, permissions and field encryption."""
