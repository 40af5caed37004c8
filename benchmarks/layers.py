"""Layer copies for the benchmarks, built for this machine's architecture (the deployed layer is
arm64 and cannot be imported here): the real layer (`layers/common/Makefile`, byte-compiled), the
same without bytecode, and the naive full dependency set (uv.lock's runtime dependencies plus the
`naive` group: boto3 and all of supabase included) for the side-by-side comparison."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

from devstack.database import REPO_ROOT

WORK = REPO_ROOT / ".bench"
HOST_PLATFORM = f"{platform.machine()}-manylinux_2_28"


def python313() -> str:
    return subprocess.run(
        [str(REPO_ROOT / "scripts" / "find-python313")], capture_output=True, text=True, check=True
    ).stdout.strip()


def uv() -> str:
    return shutil.which("uv") or str(REPO_ROOT / ".tools" / "uv" / "bin" / "uv")


def build_layer(out: Path) -> Path:
    """The real layer, through its own Makefile, for the host platform."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = os.environ | {"ARTIFACTS_DIR": str(out), "LAYER_PLATFORM": HOST_PLATFORM, "PYTHON": python313()}
    subprocess.run(
        ["make", "-s", "-C", str(REPO_ROOT / "layers" / "common"), "build-CommonLayer"], env=env, check=True
    )
    return out / "python"


def without_bytecode(layer: Path, out: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(layer, out / "python", ignore=shutil.ignore_patterns("__pycache__"))
    return out / "python"


def _fresh(out: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return out


def _locked_requirements(out: Path, only: list[str] | None = None, groups: tuple[str, ...] = ()) -> Path:
    """The lock's runtime requirements (all of them, or only the named packages) and those of the
    named dependency groups, as a file."""
    exported = subprocess.run(
        [
            uv(),
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--format",
            "requirements-txt",
            *(arg for group in groups for arg in ("--group", group)),
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | {"UV_PYTHON_DOWNLOADS": "never"},
    ).stdout.splitlines()
    pins = [line for line in exported if "==" in line and not line.startswith(" ")]
    if only is not None:
        pins = [line for line in pins if line.split("==")[0].strip().lower() in only]
    requirements = out / "requirements.txt"
    requirements.write_text("\n".join(pins) + "\n")
    return requirements


def _install_compiled(requirements: Path, target: Path) -> Path:
    subprocess.run(
        [
            uv(),
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            "--python-version",
            "3.13",
            "--python-platform",
            HOST_PLATFORM,
            "--only-binary",
            ":all:",
            "-r",
            str(requirements),
        ],
        check=True,
    )
    subprocess.run(
        [
            python313(),
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(target),
        ],
        check=True,
        capture_output=True,
    )
    return target


def build_naive(out: Path) -> Path:
    """Every runtime dependency of the lock and the naive stack's own (supabase and boto3 whole),
    byte-compiled like ours."""
    out = _fresh(out)
    return _install_compiled(_locked_requirements(out, groups=("naive",)), out / "python")


# What the python3.13 Lambda runtime provides at /var/runtime, after the layer on sys.path.
RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six"]


def build_runtime(out: Path) -> Path:
    """Stand-in for Lambda's /var/runtime: boto3 and what it needs, at the lock's versions."""
    out = _fresh(out)
    return _install_compiled(_locked_requirements(out, only=RUNTIME_PACKAGES), out / "python")


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
