"""The expected SNP launch digest (MEASUREMENT), computed by sev-snp-measure.

The digest rules are AMD's and sev-snp-measure is the field's implementation of
them: this module only validates the inputs, calls its Python API and records
the tool's version with the digest (a different version or vCPU type is the
usual cause of a digest that does not match the report).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from sevsnpmeasure import guest, vcpu_types, vmm_types
from sevsnpmeasure.sev_mode import SevMode

from snpappliance.errors import ConfigError

TOOL = "sev-snp-measure"
#: The guest features sev-snp-measure assumes by default (SNPActive).
DEFAULT_GUEST_FEATURES = 0x1


@dataclass(frozen=True)
class LaunchInputs:
    """Everything the SNP launch digest depends on."""

    ovmf: Path
    vcpus: int
    vcpu_type: str
    vmm_type: str = "QEMU"
    kernel: Path | None = None
    initrd: Path | None = None
    cmdline: str | None = None
    guest_features: int = DEFAULT_GUEST_FEATURES


@dataclass(frozen=True)
class ExpectedDigest:
    """A launch digest and what produced it."""

    measurement: bytes
    inputs: LaunchInputs
    tool: str
    tool_version: str

    @property
    def hex(self) -> str:
        return self.measurement.hex()


def vcpu_types_known() -> tuple[str, ...]:
    """The vCPU type names sev-snp-measure knows (QEMU's -cpu models)."""
    return tuple(vcpu_types.CPU_SIGS)


def _check(inputs: LaunchInputs) -> None:
    if inputs.vcpus < 1:
        msg = f"vCPU count must be at least 1, not {inputs.vcpus}"
        raise ConfigError(msg, hint="Set the scenario's vcpus to a positive number.")
    if inputs.vcpu_type not in vcpu_types.CPU_SIGS:
        msg = f"unknown vCPU type {inputs.vcpu_type!r} for the launch digest"
        raise ConfigError(msg, hint=f"Use one of: {', '.join(vcpu_types_known())}.")
    if inputs.vmm_type not in vmm_types.VMMType.__members__:
        msg = f"unknown VMM type {inputs.vmm_type!r} for the launch digest"
        known = ", ".join(vmm_types.VMMType.__members__)
        raise ConfigError(msg, hint=f"Use one of: {known}.")
    if (inputs.initrd is not None or inputs.cmdline is not None) and inputs.kernel is None:
        msg = "an initrd or command line is measured only together with a kernel"
        raise ConfigError(msg, hint="Give the kernel too, or drop the initrd and command line.")
    for label, path in (
        ("OVMF", inputs.ovmf),
        ("kernel", inputs.kernel),
        ("initrd", inputs.initrd),
    ):
        if path is not None and not path.is_file():
            msg = f"{label} file {path} does not exist"
            raise ConfigError(msg, hint=f"Build or fetch the {label} first, or fix its path.")


def expected_digest(inputs: LaunchInputs) -> ExpectedDigest:
    """The SNP launch digest the PSP will report for a guest launched from ``inputs``."""
    _check(inputs)
    try:
        measurement = guest.calc_launch_digest(
            SevMode.SEV_SNP,
            inputs.vcpus,
            vcpu_types.CPU_SIGS[inputs.vcpu_type],
            str(inputs.ovmf),
            str(inputs.kernel) if inputs.kernel else None,
            str(inputs.initrd) if inputs.initrd else None,
            inputs.cmdline,
            inputs.guest_features,
            "",
            vmm_types.VMMType[inputs.vmm_type],
        )
    except (RuntimeError, ValueError) as exc:
        msg = f"sev-snp-measure cannot compute the launch digest of {inputs.ovmf}: {exc}"
        hint = (
            "Use an OVMF with SEV metadata; measured direct boot (kernel, initrd, command "
            "line) needs one built from OvmfPkg/AmdSev/AmdSevX64.dsc."
        )
        raise ConfigError(msg, hint=hint) from exc
    if not isinstance(measurement, bytes) or len(measurement) != 48:
        msg = f"sev-snp-measure returned {measurement!r}, not a 48-byte digest"
        raise ConfigError(msg, hint=f"Install a supported {TOOL} version.")
    return ExpectedDigest(
        measurement=measurement, inputs=inputs, tool=TOOL, tool_version=version(TOOL)
    )
