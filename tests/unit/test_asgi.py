"""The server's app factory settles the garbage collector once the app is built (``cabinet/asgi.py``); the
tests' apps (``create_app``) leave it alone."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from cabinet.app import create_app
from cabinet.asgi import COLLECTOR_THRESHOLDS, create_from_env
from cabinet.settings import Settings


@pytest.fixture
def collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_the_server_factory_freezes_what_the_built_app_holds(
    collector: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CABINET_DATA_DIR", str(tmp_path))
    app = create_from_env()
    assert gc.get_freeze_count() > 10_000  # modules, routes, schemas: the process's lifelong objects
    assert gc.get_threshold() == COLLECTOR_THRESHOLDS
    assert gc.is_tracked(app.router) and app.router.routes  # the app itself is among them, and complete


def test_an_app_built_for_a_test_leaves_the_collector_alone(collector: None, tmp_path: Path) -> None:
    thresholds = gc.get_threshold()
    create_app(Settings(data_dir=tmp_path))
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
