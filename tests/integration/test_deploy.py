"""``snpapp deploy`` against the real loopback sshd, into a temporary prefix.

System-changing steps run with ``--system-steps check`` so this machine's boot
configuration is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance import proc
from snpappliance.deploy.artifacts import load_components
from snpappliance.deploy.plan import plan_deploy
from snpappliance.doctor.run import Status, run_doctor
from snpappliance.formats.release import current_release
from snpappliance.fsutil import sha256_file
from tests.conftest import SnpappRunner, require_program, wait_for
from tests.integration.deploy_fixtures import (
    KERNEL_DEB,
    KERNEL_RELEASE,
    STACK,
    build_guest,
    build_stack,
    rebuild_svsm,
)

if TYPE_CHECKING:
    from tests.integration.sshd import SshServer

pytestmark = [pytest.mark.integration, pytest.mark.ssh]

REPO = Path(__file__).parents[2]


def _deploy_args(server: SshServer, artifacts: Path, prefix: Path, *extra: str) -> list[str]:
    return [
        "deploy", "--host", "genoa01", "--ssh-config", str(server.client_config),
        "--stack", STACK, "--artifacts", str(artifacts), "--prefix", str(prefix),
        "--system-steps", "check", *extra,
    ]  # fmt: skip


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    require_program("dpkg-deb")
    return build_stack(tmp_path / "artifacts")


def _link(path: Path) -> str:
    return str(path.readlink())


def _release_name(artifacts: Path, prefix: Path) -> str:
    return plan_deploy("genoa01", str(prefix), STACK, load_components(artifacts, STACK)).info.name


def test_deploy_into_a_temporary_prefix(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    prefix = tmp_path / "opt snpapp"
    code, out, err = snpapp(*_deploy_args(ssh_server, artifacts, prefix))
    assert code == 0, err
    name = _release_name(artifacts, prefix)
    release = prefix / "releases" / name
    assert out.strip() == str(release)
    assert _link(prefix / "current") == f"releases/{name}"
    assert not (prefix / "previous").exists()
    # Every artefact arrived intact, and the release verifies on its own.
    for component in ("kernel", "qemu", "ovmf", "svsm", "guest"):
        for local in (artifacts / STACK / component).iterdir():
            assert sha256_file(release / component / local.name) == sha256_file(local)
    assert proc.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=release).ok
    qemu = release / "qemu/root/usr/local/bin/qemu-system-x86_64"
    assert os.access(qemu, os.X_OK)
    assert "qemu/root/usr/local/bin/qemu-system-x86_64" in (release / "SHA256SUMS").read_text()
    assert (
        (release / "system/snpapp-kvm_amd.conf")
        .read_text()
        .endswith("options kvm_amd sev=1 sev_es=1 sev_snp=1\n")
    )
    # The system steps were only checked: the commands are shown, nothing was installed.
    assert f"would run: dpkg -i -- '{release}/kernel/{KERNEL_DEB}'" in err
    assert "install the host kernel package(s)" in err
    assert "check: ok" in err  # dpkg-deb validated the package
    assert not Path("/etc/modprobe.d/snpapp-kvm_amd.conf").exists()
    assert not Path(f"/boot/snpapp-test-{KERNEL_RELEASE}").exists()
    # doctor sees the release: verified and complete, but its kernel is not running here.
    report = run_doctor(ssh_server.host(), prefix=str(prefix))
    assert report.check("release").status is Status.PASS
    assert report.check("release_parts").status is Status.PASS
    assert report.check("release_qemu").evidence == "stand-in for the deploy tests"
    assert report.check("running_kernel").status is Status.FAIL
    assert KERNEL_RELEASE in report.check("running_kernel").evidence


def test_redeploy_reuses_and_rollback_returns(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    prefix = tmp_path / "prefix"
    assert snpapp(*_deploy_args(ssh_server, artifacts, prefix))[0] == 0
    first = _release_name(artifacts, prefix)
    code, _, err = snpapp(*_deploy_args(ssh_server, artifacts, prefix))
    assert code == 0
    assert "already on genoa01 and verified" in err
    assert not (prefix / "previous").exists()

    rebuild_svsm(artifacts, b"svsm v2\n")
    second = _release_name(artifacts, prefix)
    assert second != first
    assert snpapp(*_deploy_args(ssh_server, artifacts, prefix))[0] == 0
    assert _link(prefix / "current") == f"releases/{second}"
    assert _link(prefix / "previous") == f"releases/{first}"

    # Check mode: the boot default of this machine is never touched.
    rollback = _rollback_args(ssh_server, prefix)
    code, out, err = snpapp(*rollback, "--dry-run")
    assert code == 0, err
    lines = out.splitlines()
    assert (
        lines[0] == f"roll back genoa01:{prefix} to releases/{first} (current: releases/{second})"
    )
    assert lines[1].startswith(f"  [check] make kernel {KERNEL_RELEASE} the default")
    assert _link(prefix / "current") == f"releases/{second}"  # the dry run changed nothing

    code, _, err = snpapp(*rollback)
    assert code == 0, err
    assert _link(prefix / "current") == f"releases/{first}"
    assert _link(prefix / "previous") == f"releases/{second}"
    said = _squeeze(err)
    assert _squeeze(f"[check] make kernel {KERNEL_RELEASE} the default (grub-set-default)") in said
    assert _squeeze(f"snpapp-grub default {KERNEL_RELEASE}") in said
    assert _squeeze("check: ") in said
    assert _squeeze(f"rolled back genoa01: current is releases/{first} again") in said
    assert _squeeze("the boot default of genoa01 was left unchanged (--system-steps check)") in said

    # Rolling back again returns to the newer release; --reboot is only checked.
    code, _, err = snpapp(*rollback, "--reboot")
    assert code == 0, err
    assert _link(prefix / "current") == f"releases/{second}"
    assert "would run: systemctl reboot" in err
    assert _squeeze(f"wait up to 900 s for uname -r = {KERNEL_RELEASE}") in _squeeze(err)


def _rollback_args(server: SshServer, prefix: Path) -> list[str]:
    return [
        "deploy", "--host", "genoa01", "--ssh-config", str(server.client_config),
        "--prefix", str(prefix), "--rollback", "--system-steps", "check",
    ]  # fmt: skip


def test_rollback_to_a_release_without_a_kernel_keeps_the_boot_default(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    prefix = tmp_path / "prefix"
    kernel = artifacts / STACK / "kernel"
    kernel.rename(tmp_path / "kernel")
    assert snpapp(*_deploy_args(ssh_server, artifacts, prefix))[0] == 0
    first = _link(prefix / "current")
    (tmp_path / "kernel").rename(kernel)
    assert snpapp(*_deploy_args(ssh_server, artifacts, prefix))[0] == 0
    second = _link(prefix / "current")

    rollback = _rollback_args(ssh_server, prefix)
    code, _, err = snpapp(*rollback, "--reboot")
    assert code == 13
    assert _squeeze(f"{first} has none") in _squeeze(err)
    assert _link(prefix / "current") == second  # refused before anything changed

    code, _, err = snpapp(*rollback)
    assert code == 0, err
    assert _link(prefix / "current") == first
    said = _squeeze(err)
    assert _squeeze(f"{first} has no host kernel: the boot default of genoa01 was left "
                    "unchanged") in said  # fmt: skip
    assert "grub" not in said


def test_sudo_runs_the_system_checks_through_sudo(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    # The test sshd logs in as the user running the tests (root in CI), for whom
    # real sudo works without a password: this proves the commands pass through it.
    require_program("sudo")
    prefix = tmp_path / "prefix"
    code, _, err = snpapp(*_deploy_args(ssh_server, artifacts, prefix, "--sudo"))
    assert code == 0, err
    release = prefix / "releases" / _release_name(artifacts, prefix)
    assert f"would run: sudo -n -- dpkg -i -- {release}/kernel/{KERNEL_DEB}" in err
    dpkg = err.split("install the host kernel package(s)", 1)[1]
    assert dpkg.split("\n")[2].strip() == "check: ok"  # dpkg-deb ran through sudo
    assert "would run: sudo -n -- install -D -m 0644 --" in err
    assert "would run: sudo -n -- sh -c '" in err
    # The upload and the link stayed with the SSH user.
    assert _link(prefix / "current") == f"releases/{release.name}"


def _without_sudo(server: SshServer, tmp_path: Path) -> None:
    """Restart ``server`` with a PATH that has every program of this machine but sudo."""
    bin_dir = tmp_path / "bin-without-sudo"
    bin_dir.mkdir()
    for directory in (
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ):
        for program in sorted(Path(directory).iterdir()):
            link = bin_dir / program.name
            if not program.name.startswith("sudo") and not link.is_symlink():
                link.symlink_to(program)
    with (server.root / "sshd_config").open("a") as config:
        config.write(f"SetEnv PATH={bin_dir}\n")
    server.restart()


def test_sudo_missing_on_the_host_is_refused_before_upload(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    _without_sudo(ssh_server, tmp_path)
    prefix = tmp_path / "prefix"
    code, _, err = snpapp(*_deploy_args(ssh_server, artifacts, prefix, "--sudo"))
    assert code == 13
    assert "--sudo: sudo is not installed on genoa01" in err
    assert _squeeze("leave out --sudo") in _squeeze(err)
    assert not prefix.exists()


def test_an_unwritable_prefix_is_refused_before_upload(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    # Root may write anywhere, but not below a regular file: the same refusal a
    # user gets for a prefix they do not own.
    blocker = tmp_path / "opt"
    blocker.write_text("not a directory\n")
    code, _, err = snpapp(*_deploy_args(ssh_server, artifacts, blocker / "snpapp"))
    assert code == 13
    assert _squeeze(f"cannot write {blocker} on genoa01") in _squeeze(err)
    assert _squeeze("pass --prefix with a directory") in _squeeze(err)
    assert _squeeze(f"sudo install -d -o {ssh_server.user} {blocker}/snpapp") in _squeeze(err)
    assert blocker.read_text() == "not a directory\n"


def test_rollback_without_a_previous_release_is_refused(
    ssh_server: SshServer, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    code, _, err = snpapp(*_rollback_args(ssh_server, tmp_path / "empty"))
    assert code == 13
    assert "no previous release" in err


def test_corrupted_artefact_is_refused_before_upload(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    ovmf = artifacts / STACK / "ovmf" / "OVMF.fd"
    data = bytearray(ovmf.read_bytes())
    data[100] ^= 0xFF
    ovmf.write_bytes(bytes(data))
    prefix = tmp_path / "prefix"
    code, _, err = snpapp(*_deploy_args(ssh_server, artifacts, prefix))
    assert code == 13
    assert "refusing to deploy" in err
    assert "OVMF.fd: SHA-256 mismatch" in err
    assert not prefix.exists()
    assert ssh_server.connections() == 0


def test_damaged_file_on_the_host_is_detected_and_sent_again(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    prefix = tmp_path / "prefix"
    plan = plan_deploy("genoa01", str(prefix), STACK, load_components(artifacts, STACK))
    # A leftover staging copy whose file has the right size and time but wrong bytes:
    # rsync's quick check would keep it, the SHA-256 verification must not.
    staged = Path(plan.staging) / "svsm"
    staged.mkdir(parents=True)
    local = artifacts / STACK / "svsm" / "coconut-qemu.igvm"
    damaged = staged / local.name
    damaged.write_bytes(local.read_bytes().upper())
    stat = local.stat()
    os.utime(damaged, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    code, _, err = snpapp(*_deploy_args(ssh_server, artifacts, prefix))
    assert code == 0, err
    assert "1 file(s) differ on the host; uploading them again" in err
    assert (Path(plan.final) / "svsm" / local.name).read_bytes() == local.read_bytes()


def test_interrupted_upload_keeps_the_previous_release_then_resumes(
    ssh_server: SshServer, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    require_program("dpkg-deb")
    artifacts = build_stack(tmp_path / "artifacts", guest_size=4 * 1024 * 1024)
    prefix = tmp_path / "prefix"
    assert snpapp(*_deploy_args(ssh_server, artifacts, prefix))[0] == 0
    first = _link(prefix / "current")

    (artifacts / STACK / "guest").rename(tmp_path / "old-guest")
    build_guest(artifacts / STACK / "guest", 4 * 1024 * 1024)
    plan = plan_deploy("genoa01", str(prefix), STACK, load_components(artifacts, STACK))
    partial = Path(plan.staging) / "guest" / ".snpapp-partial"
    argv = [sys.executable, "-m", "snpappliance",
            *_deploy_args(ssh_server, artifacts, prefix, "--bwlimit", "512")]  # fmt: skip
    with proc.spawn(argv, cwd=REPO, stdout=subprocess.DEVNULL) as child:
        target = Path(plan.staging) / "guest" / "initramfs.cpio.xz"
        wait_for(lambda: child.poll() is not None or _has_partial_data(target.parent),
                 "the upload's first bytes", 60)  # fmt: skip
        child.send_signal(signal.SIGINT)  # Ctrl-C in the middle of the transfer
        assert child.wait(timeout=30) == 130
    assert not target.exists() or target.stat().st_size < 4 * 1024 * 1024
    assert partial.exists() or target.exists()
    # The interrupted deploy left the previous release in place and working.
    assert _link(prefix / "current") == first
    assert not Path(plan.final).exists()

    code, _, err = snpapp(*_deploy_args(ssh_server, artifacts, prefix))
    assert code == 0, err
    assert _link(prefix / "current") == f"releases/{plan.info.name}"
    assert _link(prefix / "previous") == first
    assert proc.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=Path(plan.final)).ok


def _has_partial_data(directory: Path) -> bool:
    """True once rsync has written part of a file below ``directory``."""
    if not directory.is_dir():
        return False
    return any(p.is_file() and p.stat().st_size > 0 for p in directory.rglob("*"))


def test_dry_run_prints_every_step_and_connects_nowhere(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    prefix = tmp_path / "prefix"
    code, out, _ = snpapp(
        "deploy", "--host", "genoa01", "--ssh-config", str(ssh_server.client_config),
        "--stack", STACK, "--artifacts", str(artifacts), "--prefix", str(prefix),
        "--dry-run", "--reboot",
    )  # fmt: skip
    assert code == 0
    name = _release_name(artifacts, prefix)
    assert f"deploy release {name} to genoa01:{prefix}/releases/{name}" in out
    for component in ("kernel", "qemu", "ovmf", "svsm", "guest"):
        assert f"rsync --archive --partial {artifacts / STACK / component}/" in out
    assert "sha256sum --check --strict SHA256SUMS" in out
    assert f"[apply] install the host kernel package(s) {KERNEL_DEB}: ssh genoa01 dpkg -i --" in out
    assert "enable SEV-SNP in kvm_amd (/etc/modprobe.d/snpapp-kvm_amd.conf)" in out
    assert "grub-reboot" in out
    assert f"wait for uname -r = {KERNEL_RELEASE}" in out
    assert ssh_server.connections() == 0
    assert not prefix.exists()


def test_reboot_in_check_mode_shows_the_commands(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    code, _, err = snpapp(*_deploy_args(ssh_server, artifacts, tmp_path / "p", "--reboot"))
    assert code == 0, err
    assert "would run: systemctl reboot" in err
    assert f"wait up to 900 s for uname -r = {KERNEL_RELEASE}" in err
    assert "grub-set-default" in err


CAMPAIGN_SPEC = """
[campaign]
name = "after-deploy"
stack = "{stack}"
[release]
prefix = "{prefix}"
[qemu]
accel = "{accel}"
[[scenarios]]
name = "off"
kind = "snp-layout"
baseline = true
[[scenarios]]
name = "on"
kind = "{kind}"
[workloads.sysbench-cpu]
"""


def _campaign(
    snpapp: SnpappRunner, server: SshServer, tmp_path: Path, **values: str
) -> tuple[int, str]:
    spec = tmp_path / "spec.toml"
    spec.write_text(CAMPAIGN_SPEC.format(**values), encoding="utf-8")
    code, _, err = snpapp(
        "campaign", "--spec", str(spec), "--host", "genoa01",
        "--ssh-config", str(server.client_config), "--campaigns", str(tmp_path / "c"),
    )  # fmt: skip
    return code, _squeeze(err.replace("│", ""))


def _squeeze(text: str) -> str:
    """``text`` without whitespace: the terminal may wrap long paths anywhere."""
    return "".join(text.split())


def test_doctor_and_the_campaign_find_the_deployed_release(
    ssh_server: SshServer, artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    prefix = tmp_path / "prefix"
    assert snpapp(*_deploy_args(ssh_server, artifacts, prefix))[0] == 0
    name = _release_name(artifacts, prefix)
    # The paths the campaign defaults to are the ones deploy created.
    paths = current_release(str(prefix))
    assert os.access(paths.qemu, os.X_OK)
    assert sha256_file(Path(paths.firmware)) == sha256_file(artifacts / STACK / "ovmf/OVMF.fd")
    assert (Path(paths.guest) / "manifest.json").is_file()
    release_json = json.loads((prefix / "current" / "release.json").read_text())
    assert release_json["guest"] == "guest"

    code, out, err = snpapp(
        "doctor", "--host", "genoa01", "--ssh-config", str(ssh_server.client_config),
        "--prefix", str(prefix), "--json",
    )  # fmt: skip
    assert code == 12, err  # no SEV-SNP on this machine
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    assert checks["release"]["status"] == "pass"
    assert checks["release"]["evidence"] == f"{prefix}/releases/{name}: every file matches"
    assert checks["release_qemu"]["evidence"] == "stand-in for the deploy tests"

    # SNP scenarios: doctor runs first and its verdict refuses this host.
    base = {"prefix": str(prefix), "stack": STACK}
    code, err = _campaign(snpapp, ssh_server, tmp_path, **base, accel="kvm", kind="snp")
    assert code == 12
    assert _squeeze("genoa01 is not ready for SEV-SNP") in err
    assert "release" not in err.split("failed(")[1].split(")")[0]  # the release passed
    # Without SNP the campaign gets past doctor and checks the release it runs from.
    other = {"prefix": str(prefix), "stack": "genoa-2025"}
    code, err = _campaign(snpapp, ssh_server, tmp_path, **other, accel="tcg", kind="snp-layout")
    assert code == 14
    assert _squeeze(f"({name}) is of stack {STACK}, but the campaign uses stack genoa-2025") in err
    code, err = _campaign(snpapp, ssh_server, tmp_path, **base, accel="tcg", kind="snp-layout")
    # QEMU and OVMF.fd came from the release; the test stack's guest has no kernel.
    assert code == 14
    missing = f"guest artefact {prefix}/current/guest/vmlinuz does not exist on host genoa01"
    assert _squeeze(missing) in err
    assert _squeeze(f"snpapp deploy --host genoa01 --stack {STACK} --prefix {prefix}") in err
    assert not (tmp_path / "c").exists()


def test_a_stack_without_a_guest_is_deployed_with_a_warning(
    artifacts: Path, tmp_path: Path, snpapp: SnpappRunner
) -> None:
    shutil.rmtree(artifacts / STACK / "guest")
    code, out, err = snpapp(
        "deploy", "--host", "genoa01", "--stack", STACK, "--artifacts", str(artifacts),
        "--prefix", str(tmp_path / "prefix"), "--dry-run",
    )  # fmt: skip
    assert code == 0, err
    assert _squeeze(f"{STACK} has no built benchmark guest") in _squeeze(err)
    assert _squeeze(f"snpapp build guest --stack {STACK}") in _squeeze(err)
    assert "/guest/" not in out
