"""Data API methods, one module per area; importing them fills the registry."""

from __future__ import annotations

import importlib

MODULES = ("auth", "account", "directory", "credentials", "audit", "usage", "calls")


def load() -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
