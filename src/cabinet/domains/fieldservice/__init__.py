"""The contractor domain (seed 004): contractor accounts and their salted-hash sign-in, calls with tasks,
messages and jeopardies, the incremental change feeds, notifications and per-company settings."""
