"""requirements.lock pins every transitive dependency with hashes, and agrees with pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> dict[str, str]:
    """The project's direct requirements (dependencies and the dev extra): name -> pinned version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    out = {}
    for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        name, _, version = spec.partition("==")
        out[norm(re.sub(r"\[.*\]", "", name))] = version
    return out


def locked(text: str) -> dict[str, dict]:
    """Each locked package: its version, hashes and whether pyproject.toml asks for it directly."""
    out: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        if m := PIN.match(line):
            current = out[norm(m[1])] = {"version": m[2], "hashes": 0, "direct": False}
        elif current is not None and "--hash=sha256:" in line:
            current["hashes"] += 1
        elif current is not None and "advisor (pyproject.toml)" in line:
            current["direct"] = True
    return out


def disagreements(wanted: dict[str, str], lock: dict[str, dict]) -> list[str]:
    """What makes the lock stale for pyproject.toml, one line each (empty: they agree)."""
    problems = []
    for name, version in wanted.items():
        got = lock.get(name)
        if got is None:
            problems.append(f"{name} is in pyproject.toml but not in requirements.lock")
        elif version and got["version"].split("+")[0] != version:
            problems.append(f"{name}: pyproject.toml pins {version}, requirements.lock {got['version']}")
    problems += [
        f"{n} is locked as a direct requirement but pyproject.toml does not ask for it"
        for n, got in lock.items()
        if got["direct"] and n not in wanted
    ]
    problems += [f"{n} is locked without a hash" for n, got in lock.items() if not got["hashes"]]
    return problems


def test_the_lock_agrees_with_pyproject_and_hashes_every_package():
    lock = locked((ROOT / "requirements.lock").read_text())
    assert disagreements(declared(), lock) == []
    assert len(lock) > len(declared()) + 50  # transitive dependencies are locked too


def test_a_stale_lock_is_told_apart():
    lock = {
        "numpy": {"version": "2.4.6", "hashes": 2, "direct": True},
        "torch": {"version": "2.13.0+cpu", "hashes": 1, "direct": True},
        "old": {"version": "1.0", "hashes": 0, "direct": True},
    }
    assert disagreements({"numpy": "2.4.6", "torch": "2.13.0"}, {k: lock[k] for k in ("numpy", "torch")}) == []
    assert disagreements({"numpy": "2.5.0", "new": "1.0", "torch": "2.13.0"}, lock) == [
        "numpy: pyproject.toml pins 2.5.0, requirements.lock 2.4.6",
        "new is in pyproject.toml but not in requirements.lock",
        "old is locked as a direct requirement but pyproject.toml does not ask for it",
        "old is locked without a hash",
    ]


def test_make_installs_only_from_the_lock_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    installs = [ln.strip() for ln in makefile.splitlines() if "pip install" in ln and "pip-tools" not in ln]
    assert installs and all("--require-hashes" in ln or "--no-deps" in ln for ln in installs)
    assert any("-r requirements.lock" in ln and "--require-hashes" in ln for ln in installs)
