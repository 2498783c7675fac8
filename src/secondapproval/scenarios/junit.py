"""JUnit XML of scenario results, for CI systems that read test reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .model import CaseResult


def junit_xml(results: list[CaseResult]) -> str:
    """JUnit XML of scenario results, one testsuite per file."""
    root = ET.Element("testsuites")
    by_file: dict[str, list[CaseResult]] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    for file, rs in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file,
            tests=str(len(rs)),
            failures=str(sum(not r.passed for r in rs)),
        )
        for r in rs:
            case = ET.SubElement(
                suite, "testcase", classname=file, name=r.name, time=f"{r.seconds:.6f}"
            )
            if not r.passed:
                failure = ET.SubElement(
                    case, "failure", message=r.diff.splitlines()[0] if r.diff else ""
                )
                failure.text = r.diff
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
