"""Data keys: rotation of the keys that seal sensitive values at rest."""
