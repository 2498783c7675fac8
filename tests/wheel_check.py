"""The wheel as a user gets it: built, installed in a fresh venv, run outside the checkout.

    python tests/wheel_check.py [--keep]     # `make wheel-check`, part of `make test`

1. builds the wheel from a clean copy of what it is made of (pyproject.toml, README.md, src/), so
   nothing left in build/ by an earlier build can slip into it, and checks that it holds every
   file of src/secondapproval (modules and package data: templates, YAML, py.typed) and nothing
   beside the package;
2. creates a fresh venv (no system site-packages) and pip-installs the wheel there with its
   dependencies, and none of the extras (the demo's, DEMO_EXTRAS, are added before it runs);
3. from a temporary folder outside the checkout, with no PYTHONPATH: imports every module of the
   package (but the few of OPTIONAL, whose extra is not there), checks that it was imported from
   the venv and that nothing of `benchmarks/` was loaded or can be found; runs `secondapproval
   --help`, `check`, `decide` (the README's example and a bundled sample), `test` on the
   scenarios, `guide`, `bench --rules`, `bench --peers` (a typed error naming `make bench`),
   `packs`, a deployment of the http-json adapter refused with the extra to install, then, with
   the demo's extras, the demo.

The checkout's rules, scenarios and samples are read as data, as a user's own would be. Exit 0
when every check passed; the first failure stops the run with its command and output.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "secondapproval"
BUILT_FROM = ("pyproject.toml", "README.md", "src")
"""What setuptools reads to build the wheel (pyproject: packages under src/, the readme)."""
README_FACTS = {
    "degree": "master",
    "age": 41,
    "graduated_years_ago": 1,
    "has_degree_certificate": True,
    "social_insurance_months": 12,
}
"""The application of the README's embedding example (talent-reference, on 2020-01-01)."""
README_CODES = ["MISSING:criminal_record", "AGE_LIMIT"]
DEMO_EVERY = 6
"""The demo decides every sixth bundled sample (200, of each matter the batch holds): enough to
show that deciding, the audit log, verify and replay work installed, in a second, not ten."""
OPTIONAL = {
    "secondapproval.backends.durable": "durable_rules_engine",
    "secondapproval.pytest_plugin": "pytest",
    "secondapproval.strategies": "hypothesis",
    "secondapproval.sources.http": "httpx",
    "secondapproval.standin": "uvicorn",
    "secondapproval.analysis": "z3",
    "secondapproval.service.app": "starlette",
    "secondapproval.service.body": "starlette",
    "secondapproval.service.metrics": "prometheus_client",
    "secondapproval.service.openapi": "starlette",
    "secondapproval.service.problems": "starlette",
    "secondapproval.service.runtime": "starlette",
    "secondapproval.service.worker": "starlette",
}
"""Modules that need what the core install leaves out, and the module each needs: the durable
backend needs the `durable` extra, the http-json adapter the `sources` extra, the stand-in offices
and the decision service the `service` extra (Starlette, prometheus_client), static analysis the
`analyze` extra (z3); the pytest plug-in and the Hypothesis strategies serve a user who has those.
Any other import error in the core install is a dependency pyproject.toml lacks."""
DEMO_EXTRAS = "sources,service"
"""The extras the demo needs (it gathers over http-json from the stand-in offices); installed into
the venv after the core install's checks."""
IMPORT_ALL = """
import importlib, importlib.util, pkgutil, sys
import secondapproval
optional = dict(arg.split('=') for arg in sys.argv[1:])
names = [m.name for m in pkgutil.walk_packages(secondapproval.__path__, 'secondapproval.')
         if not m.name.endswith('.__main__')]
imported, skipped = 0, []
for name in names:
    try:
        importlib.import_module(name)
        imported += 1
    except ModuleNotFoundError as exc:
        if optional.get(name) != (exc.name or '').partition('.')[0]:
            raise
        skipped.append(name)
loaded = sorted(m for m in sys.modules if m.partition('.')[0] == 'benchmarks')
assert not loaded, f'benchmarks modules loaded: {loaded}'
assert importlib.util.find_spec('benchmarks') is None, 'a benchmarks package can be imported'
print(imported, secondapproval.__file__, *skipped)
"""


class WheelCheckError(Exception):
    """One check of the installed wheel failed; the message says which and shows its output."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder, print it")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="secondapproval-wheel-check-"))
    try:
        if work.is_relative_to(ROOT):
            raise WheelCheckError(f"the temporary folder {work} is inside the checkout {ROOT}")
        wheel = _timed("build the wheel", lambda: build(work))
        print(f"     {wheel.name}")
        _timed("check its contents", lambda: check_contents(wheel))
        venv = work / "venv"
        _timed("install it in a fresh venv", lambda: install(wheel, venv))
        outside = work / "outside"
        outside.mkdir()
        run_installed(venv, outside, wheel)
    except WheelCheckError as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"wheel check passed in {time.perf_counter() - started:.1f} s")
    return 0


def build(work: Path) -> Path:
    """The wheel, built by pip (isolated build, setuptools from pyproject) from a clean copy."""
    source = work / "source"
    source.mkdir()
    for name in BUILT_FROM:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dist), str(source)], work)
    wheels = sorted(dist.glob(f"{PACKAGE}-*.whl"))
    if len(wheels) != 1:
        raise WheelCheckError(f"expected one wheel in {dist}, found {[w.name for w in wheels]}")
    return wheels[0]


def check_contents(wheel: Path) -> None:
    """Every file of src/secondapproval is in the wheel, and nothing but the package is."""
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = next(
            (z.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")), ""
        )
    package = ROOT / "src" / PACKAGE
    expected = {
        path.relative_to(package.parent).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    missing = sorted(expected - names)
    if missing:
        raise WheelCheckError(f"{wheel.name} lacks {len(missing)} file(s) of src/: {missing}")
    tops = {n.split("/", 1)[0] for n in names}
    others = sorted(t for t in tops if t != PACKAGE and not t.endswith(".dist-info"))
    if others:
        raise WheelCheckError(f"{wheel.name} holds more than the package: {others}")
    if "secondapproval = secondapproval.cli:main" not in entry_points:
        raise WheelCheckError(f"{wheel.name} declares no `secondapproval` command")
    data = sorted(n for n in expected if not n.endswith(".py"))
    print(f"     {len(expected)} files of the package, {len(data)} of them data: all there")


def install(wheel: Path, venv: Path) -> None:
    """A fresh venv from this interpreter's base Python, the wheel and its dependencies in it."""
    _run([sys.executable, "-m", "venv", str(venv)], venv.parent)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "install", "--quiet", str(wheel)], venv.parent)


def run_installed(venv: Path, outside: Path, wheel: Path) -> None:
    """Each check of the installed package, from `outside`, with the venv's command only."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    python = str(venv / "bin" / "python")
    cli = str(venv / "bin" / "secondapproval")
    rules, matters = ROOT / "rules", ROOT / "benchmarks" / "matters"

    def installed(what: str, argv: list[str], expect: int = 0) -> subprocess.CompletedProcess[str]:
        return _timed(what, lambda: _run(argv, outside, env, expect))

    optional = [f"{module}={needs}" for module, needs in OPTIONAL.items()]
    argv = [python, "-c", IMPORT_ALL, *optional]
    done = installed("import every module, nothing of benchmarks", argv)
    count, where, *skipped = done.stdout.split()
    if not Path(where).is_relative_to(venv):
        raise WheelCheckError(f"secondapproval was imported from {where}, not from the venv {venv}")
    print(f"     {count} modules from {Path(where).parent}; not without their extra: {skipped}")

    installed("secondapproval --help", [cli, "--help"])
    installed("secondapproval check rules", [cli, "check", str(rules)])

    facts = outside / "facts.json"
    facts.write_text(json.dumps(README_FACTS), encoding="utf-8")
    argv = [
        cli,
        "decide",
        "talent-reference",
        str(facts),
        "--rules",
        str(matters),
        "--vouch",
        "all",
    ]
    done = installed("secondapproval decide (README)", [*argv, "--on", "2020-01-01", "--json"])
    decision = json.loads(done.stdout)
    codes = [reason["code"] for reason in decision["reasons"]]
    if (decision["outcome"], codes) != ("refer", README_CODES):
        raise WheelCheckError(f"the README's example decided {decision['outcome']} {codes}")
    print(f"     {decision['outcome']} {codes}, as the README says")

    with (ROOT / "samples" / "applications.jsonl").open(encoding="utf-8") as f:
        sample = json.loads(f.readline())
    facts.write_text(json.dumps(sample["facts"], ensure_ascii=False), encoding="utf-8")
    argv = [cli, "decide", sample["matter"], str(facts), "--on", sample["on"], "--vouch", "all"]
    done = installed("secondapproval decide (a bundled sample)", [*argv, "--rules", str(rules)])
    print(f"     {sample['matter']} on {sample['on']}: {done.stdout.split(maxsplit=1)[0]}")

    argv = [cli, "test", str(ROOT / "scenarios"), "--rules", str(rules), "--quiet"]
    done = installed("secondapproval test scenarios", argv)
    print(f"     {done.stdout.strip().splitlines()[-1]}")

    guide = outside / "guide.html"
    argv = [cli, "guide", "graduate-hukou-shenzhen", "--rules", str(rules), "--on", "2020-01-01"]
    installed("secondapproval guide (templates)", [*argv, "--out", str(guide)])
    if "<html" not in guide.read_text(encoding="utf-8"):
        raise WheelCheckError(f"the guide {guide} is not an HTML page")

    argv = [cli, "bench", "graduate-hukou-shenzhen", "--rules", str(rules), "--n", "2000"]
    done = installed("secondapproval bench --rules", argv)
    print(f"     {done.stdout.strip().splitlines()[-1].strip()}")
    argv = [cli, "bench", "talent-reference", "--rules", str(matters), "--peers"]
    done = installed("secondapproval bench --peers: says make bench", argv, expect=2)
    if "make bench" not in done.stderr:
        raise WheelCheckError(f"bench --peers did not point to make bench: {done.stderr}")

    done = installed("secondapproval packs (entry points)", [cli, "packs"])
    if "indicators" not in done.stdout or "measures" not in done.stdout:
        raise WheelCheckError(f"the bundled packs are not installed:\n{done.stdout}")

    deployment = ROOT / "samples" / "deployment.yaml"
    argv = [cli, "check", str(rules), "--deployment", str(deployment)]
    env["SECONDAPPROVAL_DEMO_OFFICES"] = "http://127.0.0.1:9"  # the file's ${…}: any address
    done = installed("check --deployment: http-json needs its extra", argv, expect=1)
    del env["SECONDAPPROVAL_DEMO_OFFICES"]
    if "secondapproval[sources]" not in done.stderr:
        raise WheelCheckError(f"the missing extra was not named:\n{done.stderr}")

    pip = [python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    installed(f"install the demo's extras [{DEMO_EXTRAS}]", [*pip, f"{wheel}[{DEMO_EXTRAS}]"])
    lines = (ROOT / "samples" / "applications.jsonl").read_text(encoding="utf-8").splitlines()
    samples = outside / "samples.jsonl"
    samples.write_text("\n".join(lines[::DEMO_EVERY]) + "\n", encoding="utf-8")
    argv = [python, "-m", "secondapproval.demo", "--rules", str(rules), "--samples", str(samples)]
    argv += ["--deployment", str(deployment), "--out", "demo"]
    done = installed("the demo (gather, decide, audit, verify, replay)", argv)
    if "replay ok" not in done.stdout:
        raise WheelCheckError(f"the demo did not replay its audit log:\n{done.stdout}")


def _timed(what: str, do: Callable[[], T]) -> T:
    t0 = time.perf_counter()
    out = do()
    print(f"ok   {what} ({time.perf_counter() - t0:.1f} s)", flush=True)
    return out


def _run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None, expect: int = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != expect:
        raise WheelCheckError(
            f"{' '.join(argv)} (in {cwd}) exited {done.returncode}, not {expect}\n"
            f"--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
        )
    return done


if __name__ == "__main__":
    sys.exit(main())
