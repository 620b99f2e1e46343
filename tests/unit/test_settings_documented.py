"""Every setting an operator can give is in the README's settings table (docs/operations.md points there)."""

from __future__ import annotations

from pathlib import Path

from cabinet.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented() -> None:
    text = README.read_text()
    missing = [name for name in Settings.model_fields if f"`CABINET_{name.upper()}`" not in text]
    assert missing == []
