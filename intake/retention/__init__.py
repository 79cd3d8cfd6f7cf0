"""Retention: closed cases anonymised when their organisation's period passes, or at once
on a person's erasure request; only coarse statistics are kept."""
