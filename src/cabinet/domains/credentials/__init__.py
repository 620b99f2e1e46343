"""Credentials: API keys (issue, list, block, delete, authenticate) and company IP allow-lists."""
