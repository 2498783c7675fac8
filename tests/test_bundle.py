"""Rule-set bundles: a bundle opens to the snapshot it was written from, and nothing else opens.

Every refusal is tried with the malicious tar that should meet it: paths out of the folder, links
and devices, members the manifest does not name and names it lacks, a file or manifest changed, a
signature no trusted key made, a bundle beyond the bounds. One property flips each byte of a
bundle in turn: the bundle is refused, or (a byte of tar padding) opens to the same digest.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import io
import os
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from secondapproval import Engine
from secondapproval.audit.checkpoints import SigningKey
from secondapproval.bundle import (
    MANIFEST,
    SIGNATURE,
    Manifest,
    load_rule_set,
    open_bundle,
    read_bundle,
    write_bundle,
)
from secondapproval.cli import main
from secondapproval.errors import BundleError, RuleSetError
from secondapproval.limits import DEFAULT, Limits
from secondapproval.scenarios.model import as_date, load_scenario
from secondapproval.snapshot import RuleSetSnapshot, snapshot_digest
from secondapproval.yamlfile import load_yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
EXAMPLES = ROOT / "docs" / "examples"
"""A matter that counts working days on the built-in calendar, and its sources.yaml."""
EXAMPLE = "food-licence-renewal.yaml"
SCENARIOS = ROOT / "scenarios"
KEY = SigningKey.generate()
OTHER_KEY = SigningKey.generate()


# ---- helpers -------------------------------------------------------------------------------------


def entries(bundle: Path) -> list[tuple[str, bytes]]:
    """A bundle's members and their bytes, in the tar's order."""
    with tarfile.open(bundle, "r:") as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]


def make_tar(path: Path, members: Iterable[tuple[str, bytes] | tarfile.TarInfo]) -> Path:
    """A tar of the given members: (name, bytes) as regular files, or headers as they are."""
    with tarfile.open(path, "w:", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def manifest_of(
    files: dict[str, bytes], installed: Iterable[tuple[str, str]] | None = None
) -> bytes:
    """A manifest consistent with these files and the installation's entries (by default the
    example's calendar): what a forger writes."""
    if installed is None:
        installed = [e for e in RuleSetSnapshot.load(EXAMPLES).files if e[0].startswith("<")]
    hashed = ((path, hashlib.sha256(data).hexdigest()) for path, data in files.items())
    listed = tuple(sorted([*hashed, *installed]))
    return Manifest(listed, snapshot_digest(listed, DEFAULT), DEFAULT).to_json()


def signature_of(key: SigningKey, manifest: bytes) -> bytes:
    """The signature member a key makes over a manifest (written as write_bundle writes it)."""
    sig = base64.b64encode(key.sign(manifest)).decode("ascii")
    return orjson.dumps({"key": key.id, "sig": sig, "v": 1}, option=orjson.OPT_SORT_KEYS)


def example_files() -> dict[str, bytes]:
    return {name: (EXAMPLES / name).read_bytes() for name in (EXAMPLE, "sources.yaml")}


def refused(path: Path, match: str, **kw: Any) -> BundleError:
    with pytest.raises(BundleError, match=match) as info:
        open_bundle(path, **kw)
    return info.value


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """An unsigned bundle of docs/examples."""
    out = tmp_path / "example.tar"
    write_bundle(EXAMPLES, out)
    return out


@pytest.fixture(scope="module")
def rules_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle of the bundled rules/ folder, signed with KEY."""
    out = tmp_path_factory.mktemp("rules") / "rules.bundle"
    write_bundle(RULES, out, signing_key=KEY)
    return out


# ---- what a bundle is ----------------------------------------------------------------------------


def test_the_bundle_of_the_bundled_rules_opens_to_the_same_digest(rules_bundle: Path) -> None:
    """The snapshot opened from a bundle of rules/ has the folder's digest, files and matters."""
    folder = RuleSetSnapshot.load(RULES)
    opened = open_bundle(rules_bundle)
    assert opened.digest == folder.digest
    assert opened.files == folder.files
    assert opened.matters == folder.matters


def test_an_audited_engine_on_a_bundle_keeps_the_registry_beside_its_log(
    rules_bundle: Path, tmp_path: Path
) -> None:
    """The folder a bundle was opened from is gone: the registry's text comes from the
    snapshot, so the rule texts kept beside the log are those of the folder."""
    from secondapproval.audit.files import open_log

    log = tmp_path / "audit.jsonl"
    snapshot = open_bundle(rules_bundle)
    with Engine(snapshot=snapshot, audit=open_log(log, key=b"k" * 32), vouch="all"):
        pass
    kept = sorted(p.name for p in (tmp_path / "audit.jsonl.rules").rglob("*.yaml"))
    assert "sources.yaml" in kept
    registry = next((tmp_path / "audit.jsonl.rules").rglob("sources.yaml"))
    assert registry.read_bytes() == (RULES / "sources.yaml").read_bytes()


def test_a_bundle_holds_the_manifest_its_signature_and_exactly_the_snapshots_files(
    rules_bundle: Path,
) -> None:
    """Members: manifest.json, manifest.json.sig, then every file of the snapshot (sorted)."""
    folder = RuleSetSnapshot.load(RULES)
    names = [name for name, _ in entries(rules_bundle)]
    assert names == [MANIFEST, SIGNATURE, *(path for path, _ in folder.files)]
    manifest = orjson.loads(dict(entries(rules_bundle))[MANIFEST])
    assert manifest["files"] == dict(folder.files)
    assert manifest["snapshot"] == folder.digest


def test_a_built_in_calendar_is_named_in_the_manifest_but_not_held(example: Path) -> None:
    """The installation's calendar is a manifest entry `<calendar cn-mainland>` with its hash,
    no member; the bundle still opens to the folder's digest."""
    folder = RuleSetSnapshot.load(EXAMPLES)
    manifest = orjson.loads(dict(entries(example))[MANIFEST])
    assert "<calendar cn-mainland>" in manifest["files"]
    assert [name for name, _ in entries(example)] == [MANIFEST, EXAMPLE, "sources.yaml"]
    assert open_bundle(example).digest == folder.digest


def test_writing_twice_writes_the_same_bytes(tmp_path: Path) -> None:
    """A bundle records no times or owners: the same rules make the same file."""
    write_bundle(RULES, tmp_path / "a.tar")
    write_bundle(RULES, tmp_path / "b.tar")
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()


def test_a_bad_rule_set_writes_nothing_and_keeps_the_old_bundle(tmp_path: Path) -> None:
    """A rule set that does not load is refused before the bundle is touched, leaving no file."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.yaml").write_text("matter: x\nrules: [\n", encoding="utf-8")
    out = tmp_path / "out" / "rules.tar"
    out.parent.mkdir()
    out.write_bytes(b"the old bundle")
    with pytest.raises(RuleSetError):
        write_bundle(bad, out)
    assert out.read_bytes() == b"the old bundle"
    assert os.listdir(out.parent) == ["rules.tar"]


def test_a_bundle_is_replaced_whole(tmp_path: Path) -> None:
    """Writing over a bundle replaces it, and leaves no temporary file beside it."""
    out = tmp_path / "rules.tar"
    out.write_bytes(b"old")
    write_bundle(EXAMPLES, out)
    assert open_bundle(out).digest == RuleSetSnapshot.load(EXAMPLES).digest
    assert os.listdir(tmp_path) == ["rules.tar"]


def test_the_rules_may_be_given_by_a_folder_below_their_sources_yaml(tmp_path: Path) -> None:
    """Matters in a subfolder under the folder of sources.yaml: the bundle holds both at the paths
    the snapshot names them by, and opens to its digest."""
    (tmp_path / "matters").mkdir()
    (tmp_path / "sources.yaml").write_bytes((EXAMPLES / "sources.yaml").read_bytes())
    (tmp_path / "matters" / EXAMPLE).write_bytes((EXAMPLES / EXAMPLE).read_bytes())
    folder = RuleSetSnapshot.load(tmp_path / "matters")
    manifest = write_bundle(tmp_path / "matters", tmp_path / "b.tar")
    assert manifest.members == (f"matters/{EXAMPLE}", "sources.yaml")
    assert open_bundle(tmp_path / "b.tar").digest == folder.digest


@pytest.mark.parametrize(
    ("scenario", "rules"),
    [
        ("talent/graduate-hukou-shenzhen.yaml", RULES),
        ("newborn/newborn-one-thing-zhongshan.yaml", RULES),
        ("examples/food-licence-renewal-example.yaml", EXAMPLES),
    ],
)
def test_decisions_from_a_bundle_are_the_folders(
    scenario: str, rules: Path, tmp_path: Path
) -> None:
    """The scenario cases decided under the bundle's snapshot and the folder's are the same
    decision, snapshot digest included."""
    spec = load_scenario(load_yaml(SCENARIOS / scenario))
    bundle = tmp_path / "rules.tar"
    write_bundle(rules, bundle)
    vouch: Any = spec.vouch
    folder = Engine(snapshot=RuleSetSnapshot.load(rules), vouch=vouch)
    bundled = Engine(snapshot=open_bundle(bundle), vouch=vouch)
    for case in spec.cases[:8]:
        on = as_date(case.on or spec.on)
        a = folder.decide(spec.matter, case.facts, on=on).to_dict()
        b = bundled.decide(spec.matter, case.facts, on=on).to_dict()
        a.pop("decision_id")
        b.pop("decision_id")
        assert a == b, case.name


# ---- signatures ----------------------------------------------------------------------------------


def test_a_signed_bundle_opens_with_its_key_among_the_trusted(rules_bundle: Path) -> None:
    """The signature verifies against the one trusted key that made it, whichever form it is
    given in (a loaded key, a cryptography key, a file)."""
    opened = read_bundle(
        rules_bundle, trusted_keys=[OTHER_KEY.public, KEY.public], require_signature=True
    )
    assert opened.signed_by == KEY.id


def test_keys_may_be_given_as_cryptography_keys(tmp_path: Path) -> None:
    """An Ed25519PrivateKey signs and its public key checks, without the library's wrappers."""
    raw = Ed25519PrivateKey.generate()
    write_bundle(EXAMPLES, tmp_path / "b.tar", signing_key=raw)
    opened = read_bundle(
        tmp_path / "b.tar", trusted_keys=[raw.public_key()], require_signature=True
    )
    assert opened.signed_by == SigningKey(raw).id


def test_keys_are_read_from_the_files_audit_keygen_writes(tmp_path: Path) -> None:
    """A signing key file and its FILE.pub sign and check a bundle."""
    key = SigningKey.generate()
    public = key.write(tmp_path / "bundle.key")
    write_bundle(EXAMPLES, tmp_path / "b.tar", signing_key=tmp_path / "bundle.key")
    opened = read_bundle(tmp_path / "b.tar", trusted_keys=[public], require_signature=True)
    assert opened.signed_by == key.id


def test_a_signature_by_another_key_is_refused(rules_bundle: Path) -> None:
    """Signed by KEY, checked against OTHER_KEY only: refused, naming the signature."""
    error = refused(rules_bundle, "verifies against none", trusted_keys=[OTHER_KEY.public])
    assert error.member == SIGNATURE


def test_an_unsigned_bundle_is_refused_when_a_signature_is_required(example: Path) -> None:
    refused(example, "not signed", trusted_keys=[KEY.public], require_signature=True)


def test_requiring_a_signature_without_a_trusted_key_is_refused(rules_bundle: Path) -> None:
    """No key to check with: nothing is vouched for, so nothing opens."""
    refused(rules_bundle, "no trusted key", require_signature=True)


def test_a_manifest_changed_after_signing_is_refused(tmp_path: Path) -> None:
    """A forger changes a file and writes a consistent manifest, keeping the old signature: the
    signature no longer verifies (unsigned, the same bundle opens: only a signature vouches)."""
    files = example_files()
    signed = manifest_of(files)
    files[EXAMPLE] += b"\n# changed\n"
    forged = manifest_of(files)
    bundle = make_tar(
        tmp_path / "f.tar",
        [(MANIFEST, forged), (SIGNATURE, signature_of(KEY, signed)), *files.items()],
    )
    refused(bundle, "verifies against none", trusted_keys=[KEY.public])
    unsigned = make_tar(tmp_path / "u.tar", [(MANIFEST, forged), *files.items()])
    assert open_bundle(unsigned).digest != RuleSetSnapshot.load(EXAMPLES).digest


def test_a_signature_member_that_is_no_signature_is_refused(tmp_path: Path) -> None:
    files = example_files()
    bundle = make_tar(
        tmp_path / "b.tar", [(MANIFEST, manifest_of(files)), (SIGNATURE, b"junk"), *files.items()]
    )
    refused(bundle, "not a signature")


# ---- members that are unsafe or unexpected -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("../escaped.yaml", "leaves the bundle"),
        ("rules/../../escaped.yaml", "leaves the bundle"),
        ("/tmp/escaped.yaml", "absolute path"),
        ("C:/escaped.yaml", "absolute path"),
        ("sub\\escaped.yaml", "backslash"),
        ("./sources.yaml", "normal form"),
        ("sub//escaped.yaml", "normal form"),
    ],
)
def test_a_member_path_out_of_the_folder_is_refused(
    example: Path, tmp_path: Path, name: str, match: str
) -> None:
    """A path that is absolute, climbs out or is not in normal form: refused, naming it, and
    nothing is written anywhere."""
    bundle = make_tar(tmp_path / "evil.tar", [*entries(example), (name, b"matter: evil\n")])
    error = refused(bundle, match)
    assert error.member == name
    assert not (tmp_path / "escaped.yaml").exists()
    assert not Path("/tmp/escaped.yaml").exists()


def _link(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    ("member", "match"),
    [
        (_link("sources.yaml", tarfile.SYMTYPE, "/etc/passwd"), "symbolic link"),
        (_link("sources.yaml", tarfile.LNKTYPE, EXAMPLE), "hard link"),
        (_link("sources.yaml", tarfile.CHRTYPE), "device"),
        (_link("sources.yaml", tarfile.BLKTYPE), "device"),
        (_link("sources.yaml", tarfile.FIFOTYPE), "FIFO"),
        (_link("matters", tarfile.DIRTYPE), "folder"),
    ],
)
def test_a_member_that_is_not_a_file_is_refused(
    tmp_path: Path, member: tarfile.TarInfo, match: str
) -> None:
    """Links, devices, FIFOs and folders: a bundle holds regular files only."""
    files = example_files()
    rest = [(EXAMPLE, files[EXAMPLE])]
    bundle = make_tar(tmp_path / "b.tar", [(MANIFEST, manifest_of(files)), *rest, member])
    error = refused(bundle, match)
    assert error.member == member.name


def test_a_member_not_in_the_manifest_is_refused(example: Path, tmp_path: Path) -> None:
    bundle = make_tar(tmp_path / "b.tar", [*entries(example), ("extra.yaml", b"matter: x\n")])
    assert refused(bundle, "not in the manifest").member == "extra.yaml"


def test_a_manifest_file_missing_from_the_tar_is_refused(example: Path, tmp_path: Path) -> None:
    kept = [(n, d) for n, d in entries(example) if n != "sources.yaml"]
    bundle = make_tar(tmp_path / "b.tar", kept)
    assert refused(bundle, "not in the bundle").member == "sources.yaml"


def test_a_member_given_twice_is_refused(example: Path, tmp_path: Path) -> None:
    """Two copies of a name (one hashed, the other extracted over it): refused."""
    bundle = make_tar(tmp_path / "b.tar", [*entries(example), ("sources.yaml", b"sources: []\n")])
    assert refused(bundle, "twice").member == "sources.yaml"


def test_a_bundle_without_a_manifest_is_refused(example: Path, tmp_path: Path) -> None:
    kept = [(n, d) for n, d in entries(example) if n != MANIFEST]
    refused(make_tar(tmp_path / "b.tar", kept), "no manifest.json")


# ---- contents that are not the manifest's --------------------------------------------------------


def test_a_tampered_file_is_refused(example: Path, tmp_path: Path) -> None:
    """A matter file changed under an unchanged manifest: refused, naming the file and hashes."""
    changed = [(n, d.replace(b"90", b"91", 1) if n == EXAMPLE else d) for n, d in entries(example)]
    error = refused(make_tar(tmp_path / "b.tar", changed), "SHA-256 is")
    assert error.member == EXAMPLE


def test_a_manifest_whose_digest_is_not_its_files_is_refused(tmp_path: Path) -> None:
    """A file's hash changed in the manifest but not the snapshot digest: refused before
    anything is extracted."""
    files = example_files()
    doc = orjson.loads(manifest_of(files))
    doc["files"][EXAMPLE] = "0" * 64
    forged = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    error = refused(make_tar(tmp_path / "b.tar", [(MANIFEST, forged), *files.items()]), "digest")
    assert error.member == MANIFEST


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda text: orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2), "canonical"),
        (lambda text: text[:-1], "not JSON"),
        (lambda text: text.replace(b'"version":1', b'"version":2'), "version 2"),
        (lambda text: text.replace(b'"max_depth":32', b'"max_depth":0'), "limits"),
        (lambda text: text.replace(b"sources.yaml", b"../sources.yaml"), "leaves the bundle"),
    ],
)
def test_a_malformed_manifest_is_refused(tmp_path: Path, change: Any, match: str) -> None:
    """Pretty-printed, cut short, of another version, with impossible limits, naming a path out
    of the folder: refused, naming manifest.json."""
    files = example_files()
    forged = change(manifest_of(files))
    bundle = make_tar(tmp_path / "b.tar", [(MANIFEST, forged), *files.items()])
    assert refused(bundle, match).member == MANIFEST


def test_a_bundle_made_under_other_limits_is_refused(example: Path) -> None:
    """The limits are part of the digest: opening under others is refused, naming the limit."""
    refused(example, "max_depth=32 \\(here 8\\)", limits=Limits(max_depth=8))


def test_a_file_the_rule_set_does_not_read_is_refused(tmp_path: Path) -> None:
    """A README in a consistent manifest: the snapshot loaded does not read it, so it is not the
    manifest's snapshot."""
    files = {**example_files(), "README.md": b"# notes\n"}
    manifest = manifest_of(files)
    bundle = make_tar(tmp_path / "b.tar", [(MANIFEST, manifest), *files.items()])
    assert refused(bundle, "does not read it").member == "README.md"


def test_a_bundle_made_with_another_calendar_is_refused(tmp_path: Path) -> None:
    """The manifest's `<calendar cn-mainland>` is not this installation's: refused, naming it."""
    files = example_files()
    bundle = make_tar(
        tmp_path / "b.tar",
        [(MANIFEST, manifest_of(files, [("<calendar cn-mainland>", "1" * 64)])), *files.items()],
    )
    assert refused(bundle, "this installation's").member == "<calendar cn-mainland>"


def test_a_bad_rule_set_in_a_consistent_bundle_names_the_member(tmp_path: Path) -> None:
    """A bundle whose files and manifest agree but whose rules do not load: a RuleSetError whose
    problems name `BUNDLE:member`, not the private folder."""
    files = {**example_files(), "broken.yaml": b"matter: x\nrules: [\n"}
    bundle = make_tar(tmp_path / "b.tar", [(MANIFEST, manifest_of(files)), *files.items()])
    with pytest.raises(RuleSetError) as info:
        open_bundle(bundle)
    assert [p.file for p in info.value.problems] == [f"{bundle}:broken.yaml"]


# ---- files that are not bundles, bundles beyond the bounds ---------------------------------------


def test_a_file_that_is_no_tar_is_refused(tmp_path: Path) -> None:
    (tmp_path / "b.tar").write_bytes(b"not a tar at all" * 100)
    refused(tmp_path / "b.tar", "uncompressed tar")


def test_a_compressed_bundle_is_refused(example: Path, tmp_path: Path) -> None:
    """Only an uncompressed tar is read (its size bounds what it holds)."""
    (tmp_path / "b.tar").write_bytes(gzip.compress(example.read_bytes()))
    refused(tmp_path / "b.tar", "uncompressed tar")


def test_a_bundle_larger_than_the_bound_is_refused(example: Path) -> None:
    refused(example, "larger than 4096 bytes", max_bytes=4096)


def test_a_bundle_of_more_members_than_the_bound_is_refused(example: Path) -> None:
    refused(example, "more than 2 members", max_members=2)


def test_opening_leaves_no_temporary_folder(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The private folder is removed whether the bundle opens or is refused."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    open_bundle(example)
    bad = make_tar(tmp_path / "bad.tar", [*entries(example), ("extra", b"")])
    refused(bad, "not in the manifest")
    assert list(temp.iterdir()) == []


# ---- flipping bytes ------------------------------------------------------------------------------


@functools.cache
def _signed_example() -> tuple[bytes, str, tuple[tuple[int, int], ...]]:
    """The bytes of a signed bundle of docs/examples, its digest, and where each member's data
    lies in it (offset, size)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "b.tar"
        manifest = write_bundle(EXAMPLES, out, signing_key=KEY)
        with tarfile.open(out, "r:") as tar:
            spans = tuple((m.offset_data, m.size) for m in tar.getmembers())
        return out.read_bytes(), manifest.snapshot, spans


@st.composite
def _positions(draw: st.DrawFn) -> int:
    """A byte anywhere in the bundle, or (as often) in a member's data: the manifest, the
    signature or a rule file."""
    data, _, spans = _signed_example()
    if draw(st.booleans()):
        return draw(st.integers(0, len(data) - 1))
    offset, size = draw(st.sampled_from(spans))
    return offset + draw(st.integers(0, size - 1))


@given(position=_positions(), flip=st.integers(1, 255))
def test_a_bundle_with_any_byte_flipped_is_refused_or_unchanged(position: int, flip: int) -> None:
    """Flip one byte of a signed bundle: it is refused (BundleError), or the byte changed nothing
    the bundle holds (tar padding) and it opens to the same digest — never to another."""
    data, digest, _ = _signed_example()
    changed = bytearray(data)
    changed[position] ^= flip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "b.tar"
        path.write_bytes(bytes(changed))
        try:
            opened = open_bundle(path, trusted_keys=[KEY.public], require_signature=True)
        except BundleError:
            return
    assert opened.digest == digest


# ---- a folder or a bundle ------------------------------------------------------------------------


def test_load_rule_set_takes_a_folder_a_rule_file_or_a_bundle(
    example: Path, tmp_path: Path
) -> None:
    """A folder and a rule file load as folders do; a .tar, .bundle or any tar opens as a bundle."""
    digest = RuleSetSnapshot.load(EXAMPLES).digest
    assert load_rule_set(EXAMPLES).digest == digest
    assert (
        load_rule_set(EXAMPLES / EXAMPLE).digest == RuleSetSnapshot.load(EXAMPLES / EXAMPLE).digest
    )
    other = tmp_path / "rules.data"
    other.write_bytes(example.read_bytes())
    assert load_rule_set(example).digest == digest
    assert load_rule_set(other).digest == digest


def test_load_rule_set_refuses_a_folder_when_a_signature_is_required() -> None:
    with pytest.raises(BundleError, match="only a bundle is signed"):
        load_rule_set(EXAMPLES, trusted_keys=[KEY.public], require_signature=True)


def test_load_rule_set_checks_a_bundles_signature(rules_bundle: Path) -> None:
    snapshot = load_rule_set(rules_bundle, trusted_keys=[KEY.public], require_signature=True)
    assert snapshot.digest == RuleSetSnapshot.load(RULES).digest
    with pytest.raises(BundleError, match="verifies against none"):
        load_rule_set(rules_bundle, trusted_keys=[OTHER_KEY.public])


# ---- the command line ----------------------------------------------------------------------------


def test_the_command_line_writes_and_verifies_a_signed_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rules bundle` prints the digest; `verify-bundle` with the key's FILE.pub accepts it (0),
    with another key refuses it (1)."""
    assert main(["audit", "keygen", str(tmp_path / "k.pem")]) == 0
    assert main(["audit", "keygen", str(tmp_path / "other.pem")]) == 0
    out = tmp_path / "rules.tar"
    capsys.readouterr()
    args = ["rules", "bundle", "--rules", str(RULES), "--out", str(out)]
    assert main([*args, "--signing-key", str(tmp_path / "k.pem")]) == 0
    digest = RuleSetSnapshot.load(RULES).digest
    assert capsys.readouterr().out.splitlines()[0] == digest
    assert main(["rules", "verify-bundle", str(out), "--trusted-key", f"{tmp_path}/k.pem.pub"]) == 0
    shown = capsys.readouterr().out
    assert shown.splitlines()[0] == digest
    assert "signed by trusted key" in shown
    assert (
        main(["rules", "verify-bundle", str(out), "--trusted-key", f"{tmp_path}/other.pem.pub"])
        == 1
    )
    assert "refused" in capsys.readouterr().err


def test_verify_bundle_with_a_trusted_key_refuses_an_unsigned_bundle(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "k.pub").write_bytes(KEY.public.to_pem())
    assert (
        main(["rules", "verify-bundle", str(example), "--trusted-key", str(tmp_path / "k.pub")])
        == 1
    )
    assert "not signed" in capsys.readouterr().err
