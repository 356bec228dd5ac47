"""Payment providers behind one small interface, chosen by config (``PAYMENT_METHODS``).

``providers`` holds the port and the built-in providers; a provider with a module of its own
(Stripe) is added to ``PROVIDERS`` here, which every import of ``app.payments.providers``
runs first.
"""

from app.payments.providers import PROVIDERS
from app.payments.stripe_provider import StripeProvider

PROVIDERS[StripeProvider.name] = StripeProvider()
