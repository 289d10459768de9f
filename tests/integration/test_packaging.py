"""`pip install .` works outside the checkout: the wheel carries every data file."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from snpappliance import proc

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_wheel_ships_dockerfiles_patches_templates_stacks_and_profiles(tmp_path: Path) -> None:
    proc.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path, ROOT])
    (wheel,) = tmp_path.glob("snpapp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for top in ("Dockerfiles", "patches", "templates", "stacks"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file():
                relative = path.relative_to(ROOT).as_posix()
                assert f"snpappliance/_data/{relative}" in names, relative
    profiles = sorted(
        p.name for p in (ROOT / "snpappliance" / "campaign" / "profiles").glob("*.toml")
    )
    assert profiles
    for name in profiles:
        assert f"snpappliance/campaign/profiles/{name}" in names
    assert any(n.endswith("entry_points.txt") for n in names)
