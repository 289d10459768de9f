"""``snpapp doctor`` on this machine (no SEV here), locally and through the loopback sshd."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from snpappliance.doctor.run import Status, run_doctor
from snpappliance.hosts.local import LocalHost
from tests.conftest import SnpappRunner
from tests.integration import sshd
from tests.integration.sshd import SshServer

pytestmark = [pytest.mark.integration]

ssh_server = sshd.ssh_server


def test_doctor_fails_here_with_hints(snpapp: SnpappRunner) -> None:
    code, _, err = snpapp("doctor")
    assert code == 12
    assert "preflight failed" in err
    assert "SEV-SNP preflight of local" in err
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
