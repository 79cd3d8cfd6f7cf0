"""Fillings of forms: drafts saved page by page, a review, one submission per filling."""
