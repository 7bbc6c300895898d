"""The dependency locks: src/requirements.txt (what `sam build` puts into the shared layer) pins
every package the layer needs, transitive ones included, with ==; requirements-dev.txt pins the
same versions of every package the two share; and this environment runs the dev lock's versions,
so the tests run what the layer gets.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_IN = ROOT / "src" / "requirements.in"
RUNTIME_LOCK = ROOT / "src" / "requirements.txt"
DEV_IN = ROOT / "requirements-dev.in"  # includes src/requirements.in
DEV_LOCK = ROOT / "requirements-dev.txt"


def requirements(path: Path) -> list[Requirement]:
    """The requirement lines of a requirements file: no comments, no `# via` lines, no options."""
    lines = (line.split(" #", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "-"))]


def pins(path: Path) -> dict[str, set[tuple[str, str]]]:
    """Package -> {(version, marker)}; a universal lock may pin a package once per marker."""
    out: dict[str, set[tuple[str, str]]] = {}
    for req in requirements(path):
        [spec] = req.specifier  # exactly one specifier ...
        assert spec.operator == "==", f"{path.name}: {req} is not pinned with =="  # ... and it pins
        out.setdefault(canonicalize_name(req.name), set()).add((spec.version, str(req.marker or "")))
    return out


def locked_here(lock: Path) -> set[str]:
    """The packages of a lock that this Python installs (a universal lock holds others' too)."""
    return {canonicalize_name(r.name) for r in requirements(lock) if r.marker is None or r.marker.evaluate()}


def closure(roots: list[Requirement]) -> set[str]:
    """Every distribution the roots need on this Python, following the installed packages' metadata."""
    seen: set[str] = set()
    todo = [(req, frozenset(req.extras)) for req in roots]
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        for dep in map(Requirement, metadata.requires(req.name) or []):
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in extras | {""}):
                todo.append((dep, frozenset(dep.extras)))
    return seen


def test_the_runtime_lock_pins_every_package_of_the_layer_with_double_equals():
    locked = pins(RUNTIME_LOCK)
    assert locked_here(RUNTIME_LOCK) == closure(requirements(RUNTIME_IN)), "run `make lock`"
    assert {"aws-xray-sdk", "wrapt", "pydantic-core", "pypdf", "boto3", "botocore"} <= set(locked)


def test_the_dev_lock_pins_every_package_the_tests_need():
    pins(DEV_LOCK)  # every one with ==
    assert locked_here(DEV_LOCK) == closure(requirements(DEV_IN) + requirements(RUNTIME_IN)), "run `make lock`"


def test_the_dev_lock_pins_the_runtime_versions_of_every_package_they_share():
    runtime, dev = pins(RUNTIME_LOCK), pins(DEV_LOCK)
    assert runtime.keys() <= dev.keys(), "the tests need every package the layer has"
    differing = {name: (runtime[name], dev[name]) for name in runtime.keys() & dev.keys() if runtime[name] != dev[name]}
    assert differing == {}


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_the_tests_run_the_locked_versions(lock):
    wanted = {
        canonicalize_name(r.name): next(iter(r.specifier)).version
        for r in requirements(lock)
        if r.marker is None or r.marker.evaluate()
    }
    installed = {name: metadata.version(name) for name in wanted}
    assert installed == wanted, "run `make install`"
