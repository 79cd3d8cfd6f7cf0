"""Coordination between organisations: finding that two open cases may be one person,
without showing either organisation anything about the other's case."""
