"""Anonymised figures across organisations, small cells suppressed, and exports."""
