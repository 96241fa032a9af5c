"""Billing: Stripe Checkout and Billing Portal for the signed-in user, and the webhook that
keeps ``users/{uid}.billing`` (and the ``plan`` custom claim) in step with Stripe.

- :mod:`aksio.billing.model`: pure. Stripe events → :class:`~aksio.billing.model.Facts`, and
  the order-safe rule that folds facts into the stored :class:`~aksio.billing.model.BillingState`.
- :mod:`aksio.billing.signature`: webhook signature verification (several secrets, 300 s).
- :mod:`aksio.billing.urls`: success/cancel/return URLs checked against an allow-list.
- :mod:`aksio.billing.stripe_api`: the Stripe client (one per instance) and its errors.
- :mod:`aksio.billing.repository`: Firestore (customer mapping, event dedupe, state) and the claim.
- :mod:`aksio.billing.service`: what the three functions do, composed from the above.

Nothing here imports ``stripe`` at module level: it is loaded on first use.
"""
