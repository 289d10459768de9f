"""The deploy plan, the system steps and the host-fit rules (pure functions)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import pytest

from snpappliance.deploy.artifacts import LocalComponent, load_components, safe_relative_path
from snpappliance.deploy.execute import failed_paths, prefix_not_writable, sudo_refusal
from snpappliance.deploy.plan import (
    describe_plan,
    describe_release,
    describe_rollback,
    plan_deploy,
    plan_rollback,
    release_name,
)
from snpappliance.deploy.system import (
    GRUB_SELECT,
    SUDO,
    host_fit_problems,
    make_default_step,
    reboot_step,
    system_steps,
)
from snpappliance.errors import ConfigError, DeployError, UsageError
from snpappliance.formats.manifest import Manifest, describe_files
from snpappliance.formats.release import ReleaseInfo

if TYPE_CHECKING:
    from pathlib import Path

DEB = "linux-image-6.12.0-snp-host-0a1b2c3d_6.12.0-1_amd64.deb"


def _component(root: Path, name: str, files: dict[str, bytes]) -> LocalComponent:
    directory = root / "st" / name
    for rel, data in files.items():
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_bytes(data)
    manifest = Manifest(stack="st", component=name, files=describe_files(directory))
    manifest.save(directory)
    return LocalComponent(name, directory, manifest)


@pytest.fixture
def components(tmp_path: Path) -> list[LocalComponent]:
    return [
        _component(tmp_path, "kernel", {DEB: b"deb", "linux-image-6.12.0-snp-host-0a1b2c3d-dbg_"
                                        "6.12.0-1_amd64.deb": b"dbg", "config": b"CONFIG"}),
        _component(tmp_path, "qemu", {"qemu-x86_64-softmmu.tar.xz": b"xz"}),
        _component(tmp_path, "ovmf", {"OVMF.fd": b"fd", "OVMF_CODE.fd": b"code"}),
        _component(tmp_path, "svsm", {"coconut-qemu.igvm": b"igvm", "svsm.bin": b"bin"}),
    ]  # fmt: skip


def test_roles_are_found_by_name(components: list[LocalComponent]) -> None:
    info = describe_release("st", components)
    assert info.kernel_release == "6.12.0-snp-host-0a1b2c3d"
    assert info.kernel_packages == (f"kernel/{DEB}",)
    assert info.qemu == "qemu/root/usr/local/bin/qemu-system-x86_64"
    assert info.ovmf == "ovmf/OVMF.fd"
    assert info.svsm == ("svsm/coconut-qemu.igvm", "svsm/svsm.bin")
    assert ReleaseInfo.from_json(info.to_json()) == info


def test_release_name_follows_the_manifests(
    components: list[LocalComponent], tmp_path: Path
) -> None:
    name = release_name("st", components)
    assert name.startswith("st-")
    assert len(name) == len("st-") + 12
    assert release_name("st", list(reversed(components))) == name
    changed = _component(tmp_path / "v2", "svsm", {"coconut-qemu.igvm": b"other"})
    assert release_name("st", [*components[:3], changed]) != name


def test_plan_paths_sums_and_unpack(components: list[LocalComponent]) -> None:
    plan = plan_deploy("genoa01", "/opt/snpapp/", "st", components)
    name = plan.info.name
    assert plan.final == f"/opt/snpapp/releases/{name}"
    assert plan.staging == f"/opt/snpapp/releases/.staging-{name}"
    assert plan.link_target == f"releases/{name}"
    sums = next(m for m in plan.metadata if m.path == "SHA256SUMS").content
    listed = [line.split("  ", 1)[1] for line in sums.splitlines()]
    assert f"kernel/{DEB}" in listed
    assert "ovmf/manifest.json" in listed
    assert "release.json" in listed
    assert "system/snpapp-kvm_amd.conf" in listed
    assert listed == sorted(listed)
    assert [(u.tarball, u.into) for u in plan.unpacks] == [
        ("qemu/qemu-x86_64-softmmu.tar.xz", "qemu/root")
    ]


def test_system_steps_and_their_check_twins() -> None:
    steps = system_steps("/opt/r", (f"kernel/{DEB}",), "6.12.0-snp-host-0a1b2c3d")
    assert [s.argv[:2] for s in steps] == [("dpkg", "-i"), ("install", "-D"), ("sh", "-c")]
    assert steps[0].argv[-1] == f"/opt/r/kernel/{DEB}"
    assert "dpkg-deb --info" in steps[0].check_argv[2]
    assert steps[1].argv[-1] == "/etc/modprobe.d/snpapp-kvm_amd.conf"
    assert steps[2].argv[-2:] == ("reboot", "6.12.0-snp-host-0a1b2c3d")
    assert "grub-reboot" in steps[2].argv[2]
    # Without a kernel there is nothing to install or boot.
    assert [s.argv[0] for s in system_steps("/opt/r", (), None)] == ["install"]


def test_dry_run_lists_commands_in_order(components: list[LocalComponent]) -> None:
    plan = plan_deploy("genoa01", "/opt/snpapp", "st", components)
    lines = describe_plan(plan, system_mode="check", reboot=True)
    text = "\n".join(lines)
    assert text.index("rsync") < text.index("sha256sum") < text.index("mv -T")
    assert text.index("mv -T") < text.index("[check]") < text.index("ln -sfn")
    assert "dpkg-deb --info" in text
    assert lines[-1].startswith("  [check] reboot")


@pytest.mark.parametrize("prefix", ["relative/dir", "/opt/../etc", "/opt/snp\napp"])
def test_prefix_must_be_absolute(components: list[LocalComponent], prefix: str) -> None:
    with pytest.raises(UsageError):
        plan_deploy("genoa01", prefix, "st", components)


def test_hostile_names_are_refused(components: list[LocalComponent]) -> None:
    with pytest.raises(ConfigError):
        plan_deploy("genoa01", "/opt/snpapp", "st; rm -rf /", components)


@pytest.mark.parametrize(
    ("path", "ok"),
    [("OVMF.fd", True), ("bin/qemu", True), ("../etc/passwd", False), ("/etc/passwd", False),
     ("a\nb", False), ("a\\b", False), ("", False)],
)  # fmt: skip
def test_safe_relative_paths(path: str, ok: bool) -> None:
    assert safe_relative_path(path) is ok


def test_artefacts_that_differ_from_their_manifest_are_refused(
    components: list[LocalComponent], tmp_path: Path
) -> None:
    assert len(load_components(tmp_path, "st")) == 4
    (tmp_path / "st" / "ovmf" / "OVMF.fd").write_bytes(b"FD")
    with pytest.raises(DeployError) as caught:
        load_components(tmp_path, "st")
    assert "refusing to deploy" in caught.value.message
    assert caught.value.detail == "OVMF.fd: SHA-256 mismatch"
    with pytest.raises(DeployError):
        load_components(tmp_path, "missing-stack")


@pytest.mark.parametrize(
    ("probe", "problems"),
    [
        ({"arch": "x86_64", "id": "ubuntu", "id_like": "debian", "dpkg": "yes"}, 0),
        ({"arch": "x86_64", "id": "debian", "id_like": "", "dpkg": "yes"}, 0),
        ({"arch": "aarch64", "id": "ubuntu", "id_like": "debian", "dpkg": "yes"}, 1),
        ({"arch": "x86_64", "id": "fedora", "id_like": "", "dpkg": "no", "pretty": "Fedora"}, 2),
    ],
)
def test_host_fit(probe: dict[str, str], problems: int) -> None:
    assert len(host_fit_problems(probe)) == problems


def test_sha256sum_failures_are_parsed() -> None:
    out = (
        "sha256sum: svsm/x.igvm: No such file or directory\n"
        "svsm/x.igvm: FAILED open or read\nqemu/a b.tar.xz: FAILED\n"
        "sha256sum: WARNING: 1 listed file could not be read\n"
    )
    assert failed_paths(out) == ["svsm/x.igvm", "qemu/a b.tar.xz"]


def test_grub_script_quotes_the_kernel_release() -> None:
    steps = system_steps("/opt/r", (f"kernel/{DEB}",), "6.12'; reboot; '")
    assert shlex.split(steps[2].command)[-1] == "6.12'; reboot; '"


def test_sudo_wraps_the_system_steps_and_their_checks_only(
    components: list[LocalComponent],
) -> None:
    as_root = plan_deploy("genoa01", "/opt/snpapp", "st", components)
    with_sudo = plan_deploy("genoa01", "/opt/snpapp", "st", components, sudo=True)
    assert len(with_sudo.system) == len(as_root.system) == 3
    for plain, wrapped in zip(as_root.system, with_sudo.system, strict=True):
        assert wrapped.argv == ("sudo", "-n", "--", *plain.argv)
        assert wrapped.check_argv == ("sudo", "-n", "--", *plain.check_argv)
        assert wrapped.title == plain.title
        assert plain.argv[0] != "sudo"
    # The script stays one argument: sudo never hands a joined string to a shell.
    grub = with_sudo.system[2].argv
    assert grub[3:6] == ("sh", "-c", as_root.system[2].argv[2])
    assert shlex.split(with_sudo.system[2].command) == list(grub)
    # Everything else is the same plan.
    assert (with_sudo.uploads, with_sudo.metadata, with_sudo.unpacks) == (
        as_root.uploads, as_root.metadata, as_root.unpacks
    )  # fmt: skip
    assert make_default_step("6.12", sudo=True).argv[:4] == (*SUDO, "sh")
    assert make_default_step("6.12", sudo=True).check_argv[:3] == SUDO
    assert reboot_step(sudo=True).argv == ("sudo", "-n", "--", "systemctl", "reboot")
    assert reboot_step().argv == ("systemctl", "reboot")


def test_dry_run_shows_sudo_exactly_on_the_system_commands(
    components: list[LocalComponent],
) -> None:
    plan = plan_deploy("genoa01", "/opt/snpapp", "st", components, sudo=True)
    lines = describe_plan(plan, system_mode="apply", reboot=True)
    with_sudo = [line for line in lines if " sudo -n " in line]
    assert with_sudo[0] == "  ssh genoa01 sudo -n true (passwordless sudo for the system steps)"
    assert all("[apply]" in line for line in with_sudo[1:])
    assert len(with_sudo) == 1 + len(plan.system) + 1  # the probe, the steps, the reboot
    assert all(": ssh genoa01 sudo -n -- " in line for line in with_sudo[1:])
    assert "ssh genoa01 sudo -n -- dpkg -i -- /opt/snpapp/releases/" in "\n".join(lines)
    assert "reboot: ssh genoa01 sudo -n -- systemctl reboot" in lines[-1]
    check = describe_plan(plan, system_mode="check", reboot=False)
    assert any("[check]" in line and "sudo -n -- sh -c" in line for line in check)
    root = plan_deploy("genoa01", "/opt/snpapp", "st", components)
    root_lines = describe_plan(root, system_mode="apply", reboot=True)
    assert not any(" sudo -n " in line for line in root_lines)


def test_sudo_that_cannot_run_unattended_is_explained() -> None:
    assert sudo_refusal("genoa01", 0, "") is None
    missing = sudo_refusal("genoa01", 127, "sh: 1: sudo: not found")
    assert missing is not None
    assert missing.message == "--sudo: sudo is not installed on genoa01"
    assert missing.hint is not None
    assert "leave out --sudo" in missing.hint
    password = sudo_refusal("genoa01", 1, "sudo: a password is required\n")
    assert password is not None
    assert "without a password" in password.message
    assert password.detail == "sudo: a password is required"
    assert password.hint is not None
    assert "NOPASSWD" in password.hint


def test_an_unwritable_prefix_says_what_to_do() -> None:
    owned = prefix_not_writable("genoa01", "/opt/snpapp", "/opt/snpapp/releases", "ana")
    assert owned.message == (
        "ana cannot write /opt/snpapp/releases on genoa01, so the release cannot be "
        "uploaded to /opt/snpapp"
    )
    assert owned.hint is not None
    assert "--prefix" in owned.hint
    assert "ssh genoa01 sudo chown -R ana /opt/snpapp" in owned.hint
    missing = prefix_not_writable("genoa01", "/opt/snp app", "/opt", "ana")
    assert missing.hint is not None
    assert "ssh genoa01 sudo install -d -o ana '/opt/snp app'" in missing.hint


def _previous(kernel: str | None) -> ReleaseInfo:
    return ReleaseInfo(
        name="st-old", stack="st", components={}, kernel_release=kernel,
        kernel_packages=(f"kernel/{DEB}",) if kernel else (), qemu=None, ovmf=None, svsm=(),
    )  # fmt: skip


def test_rollback_makes_the_previous_kernel_the_boot_default() -> None:
    links = {"current": "releases/st-new", "previous": "releases/st-old"}
    plan = plan_rollback(
        "genoa01", "/opt/snpapp", **links, previous_info=_previous("6.1.0-old"), sudo=False
    )
    assert plan.kernel_release == "6.1.0-old"
    assert plan.boot_default is not None
    assert plan.boot_default.argv == ("sh", "-c", GRUB_SELECT, "snpapp-grub", "default",
                                      "6.1.0-old")  # fmt: skip
    assert "grub-set-default" in plan.boot_default.title
    lines = describe_rollback(plan, system_mode="apply", reboot=True)
    assert lines[0] == "roll back genoa01:/opt/snpapp to releases/st-old (current: releases/st-new)"
    assert lines[1].startswith("  [apply] make kernel 6.1.0-old the default (grub-set-default): "
                               "ssh genoa01 sh -c ")  # fmt: skip
    assert lines[1].endswith(" snpapp-grub default 6.1.0-old")
    assert "ln -sfn releases/st-old /opt/snpapp/current" in lines[2]
    assert lines[3] == ("  [apply] reboot: ssh genoa01 systemctl reboot, "
                        "wait for uname -r = 6.1.0-old")  # fmt: skip
    check = describe_rollback(plan, system_mode="check", reboot=False)
    assert check[1].startswith("  [check] make kernel 6.1.0-old the default")
    assert check[1].endswith(" snpapp-check")  # the check twin, not grub-set-default
    assert len(check) == 3

    with_sudo = plan_rollback(
        "genoa01", "/opt/snpapp", **links, previous_info=_previous("6.1.0-old"), sudo=True
    )
    assert with_sudo.boot_default is not None
    assert with_sudo.boot_default.argv == (*SUDO, *plan.boot_default.argv)
    assert with_sudo.boot_default.check_argv == (*SUDO, *plan.boot_default.check_argv)
    lines = describe_rollback(with_sudo, system_mode="apply", reboot=True)
    assert lines[1] == "  ssh genoa01 sudo -n true (passwordless sudo for GRUB)"
    assert ": ssh genoa01 sudo -n -- sh -c " in lines[2]
    assert " sudo -n " not in lines[3]  # the links stay with the SSH user
    assert "ssh genoa01 sudo -n -- systemctl reboot" in lines[4]


def test_rollback_to_a_release_without_a_kernel_leaves_the_boot_default() -> None:
    plan = plan_rollback(
        "genoa01", "/opt/snpapp", current="releases/st-new", previous="releases/st-old",
        previous_info=_previous(None), sudo=True,
    )  # fmt: skip
    assert plan.boot_default is None
    lines = describe_rollback(plan, system_mode="apply", reboot=True)
    assert lines[1] == "  releases/st-old has no host kernel: the boot default stays as it is"
    assert len(lines) == 3
    assert not any("sudo" in line or "grub" in line for line in lines)
