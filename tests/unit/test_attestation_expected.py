"""The expected launch digest equals the sev-snp-measure command line's output.

Uses Debian's OVMF build (package ``ovmf``, /usr/share/ovmf/OVMF.fd), which
carries the SEV metadata section. It has no SNP_KERNEL_HASHES section, so
measured direct boot is tested only for its refusal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from snpappliance import proc
from snpappliance.attestation.expected import LaunchInputs, expected_digest
from snpappliance.errors import ConfigError

OVMF = Path("/usr/share/ovmf/OVMF.fd")
needs_ovmf = pytest.mark.skipif(not OVMF.is_file(), reason="apt-get install ovmf")
CLI = Path(sys.executable).parent / "sev-snp-measure"


def cli_digest(vcpus: int, vcpu_type: str, vmm_type: str) -> str:
    argv: list[str | Path] = [CLI, "--mode", "snp", "--vcpus", str(vcpus), "--vcpu-type", vcpu_type]
    argv += ["--vmm-type", vmm_type, "--ovmf", OVMF]
    return proc.run(argv).stdout.strip()


@needs_ovmf
@pytest.mark.parametrize(
    ("vcpus", "vcpu_type", "vmm_type"),
    [
        (1, "EPYC-v4", "QEMU"),
        (4, "EPYC-v4", "QEMU"),
        (8, "EPYC-Milan", "QEMU"),
        (2, "EPYC-Genoa", "QEMU"),
        (16, "EPYC-Genoa", "QEMU"),
        (4, "EPYC-Genoa", "ec2"),
    ],
)
def test_digest_equals_cli(vcpus: int, vcpu_type: str, vmm_type: str) -> None:
    digest = expected_digest(LaunchInputs(OVMF, vcpus, vcpu_type, vmm_type))
    assert digest.hex == cli_digest(vcpus, vcpu_type, vmm_type)
    assert len(digest.measurement) == 48
    assert digest.tool == "sev-snp-measure"
    assert digest.tool_version


@needs_ovmf
def test_digest_depends_on_vcpus_and_type() -> None:
    digests = {
        expected_digest(LaunchInputs(OVMF, n, t)).hex
        for n in (1, 2)
        for t in ("EPYC-v4", "EPYC-Genoa")
    }
    assert len(digests) == 4


@needs_ovmf
def test_kernel_hashes_need_an_amdsev_ovmf(tmp_path: Path) -> None:
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"not measured")
    with pytest.raises(ConfigError, match="SNP_KERNEL_HASHES") as err:
        expected_digest(LaunchInputs(OVMF, 1, "EPYC-v4", kernel=kernel, cmdline="console=ttyS0"))
    assert err.value.hint is not None
    assert "AmdSevX64.dsc" in err.value.hint


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (LaunchInputs(OVMF, 0, "EPYC-v4"), "at least 1"),
        (LaunchInputs(OVMF, 1, "EPYC-Nonesuch"), "unknown vCPU type"),
        (LaunchInputs(OVMF, 1, "EPYC-v4", vmm_type="xen"), "unknown VMM type"),
        (LaunchInputs(OVMF, 1, "EPYC-v4", cmdline="quiet"), "only together with a kernel"),
        (LaunchInputs(Path("/nonexistent/OVMF.fd"), 1, "EPYC-v4"), "does not exist"),
    ],
)
def test_bad_inputs_are_config_errors(inputs: LaunchInputs, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        expected_digest(inputs)
