"""The GRUB selection script of deploy, run by sh against a grub.cfg and stand-in GRUB tools.

The stand-ins record their arguments and keep ``saved_entry`` in a file the way
grub-editenv shows it, so the script's decisions (what it pins, what it selects
for the next boot) are checked on the commands it really runs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from snpappliance.deploy.system import GRUB_SELECT

if TYPE_CHECKING:
    from pathlib import Path

UUID = "7b0b0c1c-e72e-47fe-a3b7-042afb3b34c6"
SUB = f"gnulinux-advanced-{UUID}"
RUNNING, NEW = "6.1.0-50-cloud-amd64", "6.12.95+deb12-cloud-amd64"


def _entry(krel: str) -> str:
    return (
        f"\tmenuentry 'Debian GNU/Linux, with Linux {krel}' --class debian "
        f"$menuentry_id_option 'gnulinux-{krel}-advanced-{UUID}' {{\n\t}}\n"
    )


def _grub(tmp_path: Path, kernels: tuple[str, ...], saved: str | None) -> Path:
    cfg = tmp_path / "grub.cfg"
    cfg.write_text(
        f"menuentry 'Debian GNU/Linux' $menuentry_id_option 'gnulinux-simple-{UUID}' {{\n}}\n"
        f"submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option '{SUB}' {{\n"
        + "".join(_entry(k) for k in kernels)
        + "}\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env, log = tmp_path / "grubenv", tmp_path / "calls"
    if saved is not None:
        env.write_text(f"saved_entry={saved}\n")
    tools = {
        "grub-editenv": f'[ "$1" = list ] && cat "{env}" 2>/dev/null; exit 0',
        "grub-set-default": f'echo "set-default $1" >> "{log}"; echo "saved_entry=$1" > "{env}"',
        "grub-reboot": f'echo "reboot $1" >> "{log}"',
        "uname": f"echo {RUNNING}",
    }
    for name, body in tools.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return cfg


def _select(tmp_path: Path, mode: str, krel: str) -> tuple[proc.Completed, list[str]]:
    cfg = tmp_path / "grub.cfg"
    assert GRUB_SELECT.count("/boot/grub/grub.cfg") == 1
    script = GRUB_SELECT.replace("/boot/grub/grub.cfg", str(cfg))
    path = f"{tmp_path / 'bin'}:{os.environ['PATH']}"
    result = proc.run(["sh", "-c", script, "snpapp-grub", mode, krel], env={"PATH": path},
                      check=False)  # fmt: skip
    log = tmp_path / "calls"
    return result, log.read_text().splitlines() if log.exists() else []


def test_a_host_without_a_saved_default_keeps_the_running_kernel_as_default(
    tmp_path: Path,
) -> None:
    _grub(tmp_path, (NEW, RUNNING), saved=None)
    result, calls = _select(tmp_path, "reboot", NEW)
    assert result.ok, result.stderr
    assert calls == [
        f"set-default {SUB}>gnulinux-{RUNNING}-advanced-{UUID}",
        f"reboot {SUB}>gnulinux-{NEW}-advanced-{UUID}",
    ]
    assert "pinned the running kernel as the GRUB default" in result.stderr
    assert result.stdout.strip() == f"{SUB}>gnulinux-{NEW}-advanced-{UUID}"


def test_a_saved_default_is_left_alone(tmp_path: Path) -> None:
    _grub(tmp_path, (NEW, RUNNING), saved="some-entry-the-admin-chose")
    result, calls = _select(tmp_path, "reboot", NEW)
    assert result.ok, result.stderr
    assert calls == [f"reboot {SUB}>gnulinux-{NEW}-advanced-{UUID}"]


def test_no_entry_for_the_running_kernel_selects_nothing(tmp_path: Path) -> None:
    _grub(tmp_path, (NEW,), saved=None)
    result, calls = _select(tmp_path, "reboot", NEW)
    assert result.returncode == 3
    assert f"no GRUB menu entry for kernel {RUNNING}" in result.stderr
    assert calls == []


@pytest.mark.parametrize("saved", [None, "some-entry"])
def test_default_mode_sets_the_default_only(tmp_path: Path, saved: str | None) -> None:
    _grub(tmp_path, (NEW, RUNNING), saved=saved)
    result, calls = _select(tmp_path, "default", RUNNING)
    assert result.ok, result.stderr
    assert calls == [f"set-default {SUB}>gnulinux-{RUNNING}-advanced-{UUID}"]


def test_an_unknown_kernel_is_refused(tmp_path: Path) -> None:
    _grub(tmp_path, (RUNNING,), saved=None)
    result, calls = _select(tmp_path, "reboot", NEW)
    assert result.returncode == 3
    assert f"no GRUB menu entry for kernel {NEW}" in result.stderr
    assert calls == []
