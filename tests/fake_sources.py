"""In-memory offices for the gathering tests: an adapter class over a dict, with faults.

`Offices` holds each office's records by key text and what it should do instead of answering
(`fail`: "unavailable", "not-found", "crash", "hang", or a latency); `Offices.adapter` is the
adapter class to hand to `parse_deployment(..., adapters={"memory": offices.adapter})`. Each
call is counted (`calls`), and the most calls in flight at once is kept (`peak`), so a test can
say "once per source and key" and "concurrently" without timing anything.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict

from secondapproval.sources.contract import Answer, NotFound, Unavailable, raw_digest


@dataclass
class Offices:
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    faults: dict[str, Any] = field(default_factory=dict)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    latency: float = 0.0
    in_flight: int = 0
    peak: int = 0

    def put(self, office: str, key: str, record: dict[str, Any]) -> None:
        self.records.setdefault(office, {})[key] = record

    @property
    def adapter(self) -> type:
        offices = self

        class Memory:
            class Settings(BaseModel):
                model_config = ConfigDict(extra="forbid", frozen=True)
                office: str
                key: str = "id_number"

            Settings_: ClassVar[type[BaseModel]] = Settings

            def __init__(self, source: str, settings: Any, *, timeout: float) -> None:
                self.source, self.settings, self.timeout = source, settings, timeout

            async def lookup(self, key: dict[str, Any]) -> Answer:
                office = self.settings.office
                text = ":".join(str(key[k]) for k in sorted(key))
                offices.calls[(office, text)] += 1
                offices.in_flight += 1
                offices.peak = max(offices.peak, offices.in_flight)
                try:
                    if offices.latency:
                        await asyncio.sleep(offices.latency)
                    fault = offices.faults.get(office)
                    if fault == "unavailable":
                        raise Unavailable("HTTP 503 after 3 attempts")
                    if fault == "crash":
                        raise RuntimeError("a bug in the plug-in")
                    if fault == "hang":
                        await asyncio.sleep(3600)
                    record = offices.records.get(office, {}).get(text)
                    if record is None or fault == "not-found":
                        raise NotFound("no record for the key")
                    raw = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
                    return Answer(dict(record), f"{office}-{text}", raw_digest(raw))
                finally:
                    offices.in_flight -= 1

            async def aclose(self) -> None:
                return None

            def describe(self) -> str:
                return f"memory {self.settings.office}"

        return Memory
