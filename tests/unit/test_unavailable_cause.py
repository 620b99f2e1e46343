"""unavailable_cause: which backing service a low-level connection error came from."""

from __future__ import annotations

import pytest

from cabinet.core.http.errors import unavailable_cause


def _raised_in(module: str, error: BaseException) -> BaseException:
    """``error`` as raised by a function of ``module`` (what its traceback will say)."""
    namespace: dict[str, object] = {"__name__": module, "error": error}
    exec("def connect():\n    raise error\n", namespace)
    try:
        namespace["connect"]()  # type: ignore[operator]
    except BaseException as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("module", "error", "message"),
    [
        ("asyncpg.connect_utils", ConnectionRefusedError(111, "Connection refused"), "The database is unreachable"),
        ("sqlalchemy.pool.base", ConnectionResetError(104, "reset"), "The database is unreachable"),
        ("asyncpg.connection", TimeoutError(), "The database did not answer in time"),
        ("somewhere.else", ConnectionRefusedError(111, "Connection refused"), "A backing service is unreachable"),
        ("somewhere.else", TimeoutError(), "A backing service did not answer in time"),
    ],
)
def test_a_connection_error_names_the_database_when_its_driver_raised_it(
    module: str, error: BaseException, message: str
) -> None:
    cause = unavailable_cause(_raised_in(module, error))
    assert cause is not None and cause.message == message and cause.retry_after == 1


def test_an_unrelated_error_is_not_an_outage() -> None:
    assert unavailable_cause(_raised_in("asyncpg.connection", ValueError("bad"))) is None
