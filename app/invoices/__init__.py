"""Invoices: one for each paid order, numbered without gaps, and its PDF."""
