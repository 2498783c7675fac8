"""The stand-in offices for the tests: the population register, the degree office and the credit
bureau of `secondapproval.standin`, served on a free port once per test session (per worker
under pytest-xdist), with their records (`RECORDS`) and helpers to reach them.

Tests import it as a top-level module, and the fixtures into each test module that uses them
(their functions are named apart from the fixtures, so a test's `offices` argument shadows no
import — ruff F811):

    from offices import ID, RECORDS, ask, fail, office_faults_fixture, offices_fixture  # noqa: F401

`offices` is the running `Stand`; `office_faults` is the same, with every fault and request
count cleared and the records restored before and after the test. A test that sets faults or
counts requests takes `office_faults`. No test skips for want of a server: the fixture starts it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from secondapproval.sources.contract import Answer, LookupFailedError
from secondapproval.sources.http import HttpJson
from secondapproval.standin import Offices, serve

ID = "110101199003077777"
"""The id number the population register and the credit bureau hold a record for."""
CERTIFICATE = "1002812021000123"
"""The certificate number the degree office holds a record for."""
RECORDS: dict[str, dict[str, dict[str, Any]]] = {
    "population": {
        ID: {
            "id_number": ID,
            "name": "李伟",
            "born": "1990-03-07",
            "hukou": {"city": "Shanghai", "since": "2015-09-01"},
            "alive": True,
        },
    },
    "degrees": {
        CERTIFICATE: {
            "certificate": CERTIFICATE,
            "holder": ID,
            "degree": "master",
            "graduated": "2020-07-01",
            "verified": True,
        },
    },
    "credit": {
        ID: {"id_number": ID, "score": 712, "defaults": 0, "blacklisted": False},
    },
}
"""What each office holds when a test begins (office → key → record)."""


class Stand(Offices):
    """The three offices, served on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        super().__init__(RECORDS)
        self.restore()
        self.running = serve(self.app)
        self.url = self.running.url
        """`http://127.0.0.1:PORT`."""

    def restore(self) -> None:
        """Back to the records of `RECORDS`, with no fault and no request seen."""
        for office in self.names:
            self.load(office, RECORDS.get(office, {}))
        self.reset()

    def at(self, office: str, path: str = "{id_number}") -> str:
        """The URL template of an office's records (`path=""`: the office's own URL)."""
        return f"{self.url}/{office}/{path}" if path else f"{self.url}/{office}"

    def adapter(
        self,
        office: str,
        *,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        path: str = "{id_number}",
        **options: Any,
    ) -> HttpJson:
        """An `http-json` adapter of `office` (source id: the office's name) with these options
        (`url` defaults to `at(office, path)`)."""
        settings = HttpJson.Settings(**{"url": self.at(office, path), **options})
        return HttpJson(office, settings, timeout=timeout, clock=clock)


@pytest.fixture(scope="session", name="offices")
def offices_fixture() -> Iterator[Stand]:
    """The stand-in offices, running for the whole session."""
    stand = Stand()
    yield stand
    stand.running.stop()


@pytest.fixture(name="office_faults")
def office_faults_fixture(offices: Stand) -> Iterator[Stand]:
    """The stand-in offices, as `RECORDS` left them, with no fault and no request seen, before
    and after the test."""
    offices.restore()
    yield offices
    offices.restore()


async def _once(adapter: HttpJson, key: Mapping[str, Any]) -> Answer:
    try:
        return await adapter.lookup(key)
    finally:
        await adapter.aclose()


def ask(adapter: HttpJson, key: Mapping[str, Any] | None = None) -> Answer:
    """One lookup (by default of `ID`) on its own event loop; the adapter is closed after."""
    return asyncio.run(_once(adapter, {"id_number": ID} if key is None else key))


def fail(adapter: HttpJson, key: Mapping[str, Any] | None = None) -> LookupFailedError:
    """The NotFound or Unavailable that one lookup (as `ask`) raises."""
    with pytest.raises(LookupFailedError) as failed:
        ask(adapter, key)
    return failed.value
