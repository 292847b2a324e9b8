"""What an installed rlvr contains: built as a wheel, as `pip install rlvr` would install it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_installs_only_rlvr_and_carries_the_configs_and_dockerfile(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path),
                    str(ROOT)], check=True, timeout=300, cwd=tmp_path)
    (wheel,) = tmp_path.glob("rlvr-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    # no bare top-level `envs`, `verifiers`, `sandbox`, `trainers`, `benchmarks` module
    assert {name.split("/")[0] for name in names} == {"rlvr", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    # `rlvr demo` outside the source tree reads rlvr/configs/demo.yaml; `rlvr sandbox build-image` the Dockerfile
    assert {"rlvr/configs/demo.yaml", "rlvr/sandbox/Dockerfile", "rlvr/trainers/demo.py"} <= set(names)
