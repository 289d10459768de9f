"""``snpapp doctor`` on this machine (no SEV here), locally and through the loopback sshd."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from snpappliance.doctor.run import Status, run_doctor
from snpappliance.hosts.local import LocalHost

if TYPE_CHECKING:
    from tests.conftest import SnpappRunner
    from tests.integration.sshd import SshServer

pytestmark = [pytest.mark.integration]

CAPTURES = Path(__file__).parents[1] / "fixtures" / "snp-captures"


def test_doctor_fails_here_with_hints(snpapp: SnpappRunner) -> None:
    code, out, err = snpapp("doctor")
    assert code == 12
    assert "preflight failed" in err
    assert "SEV-SNP preflight of local" in out
    # This machine has no SNP: the flags and kvm_amd checks fail and say what to do.
    report = run_doctor(LocalHost())
    assert report.check("cpu_flags").status is Status.FAIL
    assert "BIOS" in report.check("cpu_flags").hint
    assert report.check("kvm_params").status is Status.FAIL
    assert "modprobe kvm_amd" in report.check("kvm_params").hint or "ASID" in (
        report.check("kvm_params").hint
    )
    assert report.check("devices").status is Status.FAIL
    assert "/dev/sev missing" in report.check("devices").evidence
    assert not report.ok


@pytest.mark.ssh
def test_doctor_over_ssh_sees_what_local_sees(ssh_server: SshServer, snpapp: SnpappRunner) -> None:
    code, out, err = snpapp(
        "doctor", "--host", "genoa01", "--ssh-config", str(ssh_server.client_config), "--json"
    )
    assert code == 12, err
    remote = json.loads(out)
    code, out, _ = snpapp("doctor", "--json")
    local = json.loads(out)
    assert remote["host"] == "genoa01"
    assert local["host"] == "local"
    # Same machine behind both transports: identical checks and evidence (hints name the host).
    for check in remote["checks"]:
        check["hint"] = check["hint"].replace("--host genoa01", "--host local")
    assert remote["checks"] == local["checks"]


@pytest.mark.ssh
def test_campaign_runs_doctor_first_and_refuses_a_host_without_snp(
    ssh_server: SshServer, snpapp: SnpappRunner, tmp_path: Path
) -> None:
    code, _, err = snpapp(
        "campaign", "--profile", "genoa", "--host", "genoa01",
        "--ssh-config", str(ssh_server.client_config), "--campaigns", str(tmp_path / "c"),
    )  # fmt: skip
    assert code == 12, err
    assert "genoa01 is not ready for SEV-SNP" in err
    assert "cpu_flags" in err
    assert "kvm_params" in err
    # doctor's own hint for the first failed check, not a second opinion.
    first = run_doctor(LocalHost()).blocking[0]
    assert " ".join(first.hint.split()[:6]) in " ".join(err.replace("│", " ").split())
    assert ssh_server.logins() == 1
    assert not (tmp_path / "c").exists()


def test_doctor_from_a_200_mb_log_streams_it(snpapp: SnpappRunner, tmp_path: Path) -> None:
    big = tmp_path / "huge.log"
    filler = b"[    1.000000] usb 1-1: new high-speed USB device number 2 using xhci_hcd\n"
    with big.open("wb") as stream:
        stream.write((CAPTURES / "amdsev-189-snp-init-milan/dmesg.txt").read_bytes())
        for _ in range(200):
            stream.write(filler * 14_000)
    assert big.stat().st_size > 200_000_000
    code, out, err = snpapp("doctor", "--from", str(big), "--json")
    assert code == 12, err
    assert "snp-init-failed" in [d["cause"] for d in json.loads(out)["diagnosis"]]


def test_collect_here_then_from_gives_the_live_json(snpapp: SnpappRunner, tmp_path: Path) -> None:
    bundle = tmp_path / "local.tar.gz"
    code, _, err = snpapp("doctor", "--collect", str(bundle))
    assert code == 0, err
    assert bundle.stat().st_mode & 0o777 == 0o600
    code, live, _ = snpapp("doctor", "--json")
    code_from, offline, err = snpapp("doctor", "--from", str(bundle), "--json")
    assert (code_from, code) == (12, 12), err
    assert json.loads(offline) == json.loads(live)


@pytest.mark.ssh
def test_collect_over_ssh_then_from_gives_the_live_json(
    ssh_server: SshServer, snpapp: SnpappRunner, tmp_path: Path
) -> None:
    bundle = tmp_path / "genoa01.tar.gz"
    ssh = ("--host", "genoa01", "--ssh-config", str(ssh_server.client_config))
    code, _, err = snpapp("doctor", *ssh, "--collect", str(bundle))
    assert code == 0, err
    _, live, _ = snpapp("doctor", *ssh, "--json")
    _, offline, err = snpapp("doctor", "--from", str(bundle), "--json")
    data = json.loads(offline)
    assert data["host"] == "genoa01"
    assert data == json.loads(live)
