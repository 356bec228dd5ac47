"""Payment providers behind one small interface, chosen by config (``PAYMENT_METHODS``).

A real provider (Stripe, ...) is one more subclass of ``PaymentProvider`` added to
``PROVIDERS``.
"""
