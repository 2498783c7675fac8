"""The tamper-evident audit trail: records, hash chains and MACs, sinks, heads, verify, replay.

from secondapproval import Engine
from secondapproval.audit import open_log, verify_log

with Engine("rules", audit=open_log("audit.jsonl", key=key)) as engine:  # key: kept elsewhere
    engine.decide("graduate-talent-introduction", facts)
assert verify_log("audit.jsonl", key=key).ok
"""

from .auditor import Auditor
from .canonical import GENESIS, canonical
from .checkpoints import CheckpointFile, Checkpoints, PublicKey, SigningKey, read_checkpoints
from .files import open_log
from .head import Head
from .jsonl import JsonLinesSink, Torn
from .keys import AuditKey
from .lossless import lossless, lossless_json
from .mask import mask
from .postgres import PostgresSink, postgres_chains, with_chain
from .record import FactsDigest, RecordBuilder, Unsealed, facts_hmac
from .replay import Replayed, Replayer, ReplayReport, replay_log
from .rule_texts import RuleIndex, keep_texts
from .schema import AuditRecord, RuleEntry, json_schema
from .settings import AuditSettings, OpenedAudit, log_secret, open_audit, open_checkpoints
from .sinks import (
    DURABLE,
    POLICIES,
    Anchor,
    ChainSink,
    FsyncPolicy,
    MemorySink,
    Sink,
    StructlogSink,
)
from .sqlite import SqliteSink
from .verify import AuditProblem, VerifyReport, log_lines, log_targets, verify_lines, verify_log

__all__ = [
    "DURABLE",
    "GENESIS",
    "POLICIES",
    "Anchor",
    "AuditKey",
    "AuditProblem",
    "AuditRecord",
    "AuditSettings",
    "Auditor",
    "ChainSink",
    "CheckpointFile",
    "Checkpoints",
    "FactsDigest",
    "FsyncPolicy",
    "Head",
    "JsonLinesSink",
    "MemorySink",
    "OpenedAudit",
    "PostgresSink",
    "PublicKey",
    "RecordBuilder",
    "ReplayReport",
    "Replayed",
    "Replayer",
    "RuleEntry",
    "RuleIndex",
    "SigningKey",
    "Sink",
    "SqliteSink",
    "StructlogSink",
    "Torn",
    "Unsealed",
    "VerifyReport",
    "canonical",
    "facts_hmac",
    "json_schema",
    "keep_texts",
    "log_lines",
    "log_secret",
    "log_targets",
    "lossless",
    "lossless_json",
    "mask",
    "open_audit",
    "open_checkpoints",
    "open_log",
    "postgres_chains",
    "read_checkpoints",
    "replay_log",
    "verify_lines",
    "verify_log",
    "with_chain",
]
