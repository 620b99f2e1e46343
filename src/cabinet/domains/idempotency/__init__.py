"""Idempotent requests: the first answer per caller and ``Idempotency-Key``, replayed for a repeat."""
