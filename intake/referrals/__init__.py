"""Referrals: a service from another organisation on the installation; the case stays here."""
