"""The statuses of a payment and of a refund: what providers answer and the database stores."""

import enum


class PaymentStatus(enum.StrEnum):
    PROCESSING = "processing"  # the charge is sent, its outcome not recorded yet
    PENDING = "pending"  # waits for the customer (bank transfer) or an admin
    SUCCEEDED = "succeeded"
    REFUNDED = "refunded"  # the whole amount went back (see its refunds)
    VOIDED = "voided"  # never paid, and the order was cancelled


class RefundStatus(enum.StrEnum):
    PENDING = "pending"  # requested; sent again by `orders expire` until the provider answers
    SUCCEEDED = "succeeded"
    FAILED = "failed"
