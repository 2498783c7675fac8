"""The service's OpenAPI 3.1 document, generated from the rule-set snapshot it serves.

Each matter has its own decision paths (`/v1/matters/<id>/decisions` and `…:batch`) whose request
schema is built from its fact declarations (`factschema`; several versions: any of theirs), so a
platform's client generator sees each matter's facts. The Decision, the audit record and the
RFC 9457 problem are described once, under `components`. It is regenerated on every swap (the
app caches it per snapshot digest).
"""

from __future__ import annotations

from typing import Any

from ..factschema import facts_schema
from ..snapshot import RuleSetSnapshot
from ..version import __version__
from .problems import KINDS, MEDIA_TYPE

_DATE = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
_DIGEST = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_NULLABLE_TEXT = {"type": ["string", "null"]}
_SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}]


def openapi_document(snapshot: RuleSetSnapshot) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for matter in snapshot.matters:
        versions = [span.compiled.matter for span in snapshot.spans[matter]]
        schemas = {str(s): s for s in (facts_schema(m) for m in versions)}
        facts = (
            next(iter(schemas.values())) if len(schemas) == 1 else {"anyOf": list(schemas.values())}
        )
        title = versions[-1].spec.title.model_dump()
        name = title.get("en") or title.get("zh") or matter
        paths[f"/v1/matters/{matter}/decisions"] = {
            "post": {
                "operationId": f"decide_{_op(matter)}",
                "summary": f"Decide one application: {name}",
                "tags": ["decisions"],
                "security": _SECURITY,
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {"facts": facts, "on": _DATE},
                        "additionalProperties": False,
                    }
                ),
                "responses": {
                    "200": _json_response("The decision (a referral is a decision)", "Decision"),
                    **_problems(400, 401, 403, 404, 413, 415, 504),
                },
            }
        }
        paths[f"/v1/matters/{matter}/decisions:batch"] = {
            "post": {
                "operationId": f"decide_batch_{_op(matter)}",
                "summary": f"Decide a batch of applications: {name}",
                "tags": ["decisions"],
                "security": _SECURITY,
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["applications"],
                        "properties": {
                            "on": _DATE,
                            "applications": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "object",
                                    "properties": {"facts": facts, "id": {"type": "string"}},
                                    "additionalProperties": False,
                                },
                            },
                        },
                        "additionalProperties": False,
                    }
                ),
                "responses": {
                    "200": _json_response("One decision per application, in order", "Batch"),
                    **_problems(400, 401, 403, 404, 413, 415, 504),
                },
            }
        }
    paths.update(_fixed_paths())
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "secondapproval decision service",
            "version": __version__,
            "description": f"秒批 decisions under rule-set snapshot {snapshot.digest}",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "sa_<id>_<secret>"}
            },
            "schemas": _components(),
        },
    }


def _fixed_paths() -> dict[str, Any]:
    matter_param = {"name": "matter", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/v1/matters": {
            "get": {
                "operationId": "list_matters",
                "summary": "The matters served: ids, versions, effective dates, digests",
                "tags": ["matters"],
                "security": _SECURITY,
                "responses": {
                    "200": _json_response("The matters", "Matters"),
                    **_problems(401),
                },
            }
        },
        "/v1/matters/{matter}": {
            "get": {
                "operationId": "describe_matter",
                "summary": "One matter: its facts as JSON Schema, every rule's says, its guide",
                "tags": ["matters"],
                "security": _SECURITY,
                "parameters": [matter_param],
                "responses": {
                    "200": _json_response("The matter", "Matter"),
                    **_problems(401, 404),
                },
            }
        },
        "/v1/decisions/{decision_id}": {
            "get": {
                "operationId": "audit_record",
                "summary": "The audit record of a decision (masked as in the log)",
                "tags": ["audit"],
                "security": _SECURITY,
                "parameters": [
                    {
                        "name": "decision_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": _json_response("The record", "AuditRecord"),
                    **_problems(401, 403, 404),
                },
            }
        },
        "/v1/admin/reload": {
            "post": {
                "operationId": "reload",
                "summary": "Load, check, publish a rule set; answers once every worker serves it",
                "tags": ["admin"],
                "security": _SECURITY,
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "rules": {"type": "string"},
                                    "wait": {
                                        "type": "number",
                                        "exclusiveMinimum": 0,
                                        "maximum": 120,
                                    },
                                },
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json_response("Every worker serves the new snapshot", "Reloaded"),
                    **_problems(400, 401, 403, 413, 415, 422, 504),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "tags": ["operations"],
                "responses": {"200": _json_response("Alive, with its sources", "Health")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "tags": ["operations"],
                "responses": {
                    "200": _json_response(
                        "A snapshot is loaded; the digest each worker serves", "Ready"
                    ),
                    "503": _json_response("Not ready", "Ready"),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "tags": ["operations"],
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "tags": ["operations"],
                "responses": {
                    "200": {
                        "description": "This document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


def _components() -> dict[str, Any]:
    text = {
        "type": "object",
        "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
    }
    reason = {
        "type": "object",
        "required": ["code", "zh", "en", "rule", "fact", "legal", "facts_read"],
        "properties": {
            "code": {"type": "string"},
            "zh": {"type": "string"},
            "en": {"type": "string"},
            "rule": _NULLABLE_TEXT,
            "fact": _NULLABLE_TEXT,
            "legal": _NULLABLE_TEXT,
            "facts_read": {"type": "object"},
        },
    }
    result = {
        "type": "object",
        "required": ["rule", "status", "facts_read"],
        "properties": {
            "rule": {"type": "string"},
            "status": {"enum": ["passed", "failed", "unknown", "error"]},
            "facts_read": {"type": "object"},
        },
    }
    decision = {
        "type": "object",
        "required": [
            "decision_id",
            "outcome",
            "matter",
            "version",
            "digest",
            "snapshot",
            "on",
            "reasons",
            "results",
            "provenance",
            "vouched",
        ],
        "properties": {
            "decision_id": {"type": "string"},
            "outcome": {"enum": ["approve", "refer"]},
            "matter": {
                **_NULLABLE_TEXT,
                "description": "null with NO_VERSION: no version in force on the date",
            },
            "version": _NULLABLE_TEXT,
            "digest": {"oneOf": [_DIGEST, {"type": "null"}]},
            "snapshot": {"oneOf": [_DIGEST, {"type": "null"}]},
            "calendar": _NULLABLE_TEXT,
            "backend": _NULLABLE_TEXT,
            "on": _DATE,
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/RuleResult"}},
            "outputs": {"type": "object"},
            "provenance": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["via", "source"],
                    "properties": {
                        "via": {"enum": ["applicant", "adapter", "vouched"]},
                        "source": {"type": "string"},
                    },
                },
            },
            "vouched": {"type": "array", "items": {"type": "string"}},
            "id": {"type": "string"},
        },
    }
    version = {
        "type": "object",
        "required": ["version", "effective_from", "effective_to", "digest"],
        "properties": {
            "version": {"type": "string"},
            "effective_from": _DATE,
            "effective_to": {"oneOf": [_DATE, {"type": "null"}]},
            "digest": _DIGEST,
        },
    }
    worker = {
        "type": "object",
        "required": ["worker", "pid", "snapshot"],
        "properties": {
            "worker": {"type": "string"},
            "pid": {"type": "integer"},
            "snapshot": {"oneOf": [_DIGEST, {"type": "null"}]},
        },
    }
    return {
        "Text": text,
        "Reason": reason,
        "RuleResult": result,
        "Decision": decision,
        "Batch": {
            "type": "object",
            "required": ["snapshot", "results"],
            "properties": {
                "snapshot": _DIGEST,
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Decision"}},
            },
        },
        "Version": version,
        "Matters": {
            "type": "object",
            "required": ["snapshot", "matters"],
            "properties": {
                "snapshot": _DIGEST,
                "matters": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["matter", "versions"],
                        "properties": {
                            "matter": {"type": "string"},
                            "title": {"$ref": "#/components/schemas/Text"},
                            "versions": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Version"},
                            },
                        },
                    },
                },
            },
        },
        "Matter": {
            "type": "object",
            "required": ["snapshot", "matter", "versions"],
            "properties": {
                "snapshot": _DIGEST,
                "matter": {"type": "string"},
                "versions": {"type": "array", "items": {"type": "object"}},
            },
        },
        "AuditRecord": {
            "type": "object",
            "required": ["seq", "prev", "hash", "decision_id"],
            "properties": {"seq": {"type": "integer"}, "decision_id": {"type": "string"}},
        },
        "Reloaded": {
            "type": "object",
            "required": ["snapshot", "previous", "workers", "seconds"],
            "properties": {
                "snapshot": _DIGEST,
                "previous": _DIGEST,
                "workers": {"type": "array", "items": {"$ref": "#/components/schemas/Worker"}},
                "seconds": {"type": "number"},
            },
        },
        "Worker": worker,
        "Health": {
            "type": "object",
            "required": ["status", "sources"],
            "properties": {"status": {"const": "ok"}, "sources": {"type": "object"}},
        },
        "Ready": {
            "type": "object",
            "required": ["ready", "snapshot", "worker", "workers"],
            "properties": {
                "ready": {"type": "boolean"},
                "snapshot": {"oneOf": [_DIGEST, {"type": "null"}]},
                "worker": {"type": "string"},
                "workers": {"type": "array", "items": {"$ref": "#/components/schemas/Worker"}},
            },
        },
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"enum": [f"urn:secondapproval:problem:{k}" for k in KINDS]},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
            },
        },
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _json_response(description: str, component: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


_DESCRIBED = {
    400: "Malformed body (not JSON, wrong members, nested too deep)",
    401: "No key, or a key this service does not know",
    403: "The key may not do this (another matter, no audit_read, not an admin key)",
    404: "No such matter or record",
    413: "Body or batch too large",
    415: "Not application/json",
    422: "The rule set was refused; the old one keeps serving",
    504: "Not answered within the request time limit",
}


def _problems(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {
            "description": _DESCRIBED[s],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }


def _op(matter: str) -> str:
    return matter.replace("-", "_").replace(".", "_")
