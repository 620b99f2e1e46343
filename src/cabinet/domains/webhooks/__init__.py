"""Webhooks (Standard Webhooks): company endpoints, the events outbox, signed deliveries with retries."""
