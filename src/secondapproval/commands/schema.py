"""`secondapproval schema` — JSON Schema of matter and scenario files, for editors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..audit.schema import AuditRecord
from ..registry import RegistryFile
from ..ruleset import MatterFile
from ..scenarios.model import ScenarioFile

KINDS: dict[str, type[BaseModel]] = {
    "audit": AuditRecord,
    "matter": MatterFile,
    "scenario": ScenarioFile,
    "sources": RegistryFile,
}


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("schema", help="print the JSON Schema of matter/scenario files")
    p.add_argument("kind", nargs="?", choices=sorted(KINDS), default="matter")
    p.add_argument("--out", type=Path, help="write to this file instead of stdout")
    p.set_defaults(func=run)


def schema(kind: str) -> dict[str, Any]:
    doc: dict[str, Any] = KINDS[kind].model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["$id"] = f"urn:secondapproval:{kind}"
    return doc


def run(args: argparse.Namespace) -> int:
    text = json.dumps(schema(args.kind), ensure_ascii=False, indent=2, sort_keys=True)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0
