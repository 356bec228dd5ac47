"""Cart: one per user, or per anonymous visitor (found by a signed cookie)."""
