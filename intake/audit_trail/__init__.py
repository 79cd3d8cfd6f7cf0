"""The audit trail pages: read, filtered and exported by the people it concerns."""
