"""Attestation in a campaign: the expected launch digest, each run's request, its judgement.

Before the first boot, the launch digest an SNP guest must report is computed
on this machine with sev-snp-measure from the exact OVMF the host boots, the
vCPU count and type and the VMM type (:func:`expected_launch`, recorded in
``campaign.json``; a resume reads it back). Every run's workload script starts
with the guest's attestation step (:func:`request_step`): it asks for a report
whose REPORT_DATA is a fresh per-run nonce and prints one ``SNPGUEST-ATTEST``
line. After the boot, :func:`judge_console` judges that line against what the
scenario expects: an SNP scenario needs a report with the nonce, the spec's
policy, VMPL 0 and the expected MEASUREMENT; every other scenario must show no
SNP interface. Anything else makes the run invalid, with the reason.
"""

from __future__ import annotations

import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snpappliance.attestation.expected import LaunchInputs, expected_digest, vcpu_types_known
from snpappliance.attestation.guest import attest_snippet, parse_attest_line
from snpappliance.attestation.judge import NOT_REQUESTED, RunExpectations, judge_run
from snpappliance.attestation.signature import verify_signature
from snpappliance.campaign.guests.minimal import BUILD_INFO_FILE, MinimalGuest
from snpappliance.campaign.hostinfo import read_text
from snpappliance.campaign.pinned import PinnedGuest
from snpappliance.campaign.spec import CampaignSpec, ScenarioKind
from snpappliance.errors import CampaignError, ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from snpappliance.attestation.nonce import RunNonce
    from snpappliance.campaign.guests.base import Guest
    from snpappliance.formats.attestation import AttestationRecord
    from snpappliance.hosts.base import Host

#: The ``campaign.json`` key of the campaign's attestation expectations.
INFO_KEY = "attestation"
#: The VMPL a guest without an SVSM runs at.
GUEST_VMPL = 0


@dataclass(frozen=True)
class AttestationPlan:
    """What every run of one campaign is attested against."""

    #: The expected launch digest (None: the campaign has no snp scenario).
    measurement: bytes | None
    policy: int
    #: Whether report signatures are checked against AMD's key server.
    verify_signature: bool = False

    @classmethod
    def from_info(cls, extra: Mapping[str, Any], spec: CampaignSpec) -> AttestationPlan:
        """The plan ``campaign.json`` recorded (a campaign without one expects no SNP)."""
        recorded = extra.get(INFO_KEY) or {}
        digest = recorded.get("expected_measurement")
        return cls(
            bytes.fromhex(digest) if digest else None,
            spec.snp.policy,
            bool(recorded.get("verify_signature", False)),
        )


def _has_snp(spec: CampaignSpec) -> bool:
    return any(s.kind is ScenarioKind.SNP for s in spec.scenarios)


def expected_launch(
    spec: CampaignSpec, host: Host, firmware: str | None, *, verify_signature: bool = False
) -> dict[str, Any]:
    """The ``campaign.json`` record of what the runs' reports must show."""
    record: dict[str, Any] = {"verify_signature": verify_signature, "vmpl": GUEST_VMPL}
    if not _has_snp(spec) or firmware is None:
        return {
            **record,
            "expected_measurement": None,
            "note": "no snp scenario: every run must show that no SEV-SNP interface exists",
        }
    cpu = spec.guest.cpu
    if cpu is None or cpu not in vcpu_types_known():
        msg = f"guest.cpu = {cpu!r} names no vCPU type whose launch digest snpapp can compute"
        raise CampaignError(
            msg,
            hint=f"set guest.cpu to the QEMU model the guest runs, one of "
            f"{', '.join(vcpu_types_known())} (the genoa profile uses EPYC-v4)",
        )
    with tempfile.TemporaryDirectory(prefix="snpapp-ovmf-") as tmp:
        local = Path(firmware) if host.is_local else Path(tmp) / "OVMF.fd"
        if not host.is_local:
            host.get(firmware, local)
        inputs = LaunchInputs(local, spec.guest.vcpus, cpu)
        try:
            digest = expected_digest(inputs)
        except ConfigError as exc:
            raise CampaignError(exc.message, hint=exc.hint) from exc
    return {
        **record,
        "expected_measurement": digest.hex,
        "policy": spec.snp.policy,
        "inputs": {
            "ovmf": firmware,
            "vcpus": inputs.vcpus,
            "vcpu_type": inputs.vcpu_type,
            "vmm_type": inputs.vmm_type,
            "kernel_hashes": False,
        },
        "tool": f"{digest.tool} {digest.tool_version}",
    }


def check_guest_attests(host: Host, guest: Guest) -> None:
    """Refuse a minimal guest built before it carried the attestation tool."""
    if isinstance(guest, PinnedGuest):
        guest = guest.inner
    if not isinstance(guest, MinimalGuest):
        return
    info = read_text(host, f"{guest.directory}/{BUILD_INFO_FILE}") or ""
    if "snp_guest_report=" not in info:
        msg = (
            f"the guest in {guest.directory} on host {host.name} was built before snpapp "
            "attested every run (it has no snp-guest-report)"
        )
        raise CampaignError(msg, hint="rebuild it: snpapp build guest --stack <stack>")


def request_step(nonce: RunNonce) -> str:
    """The guest's attestation step, run as root (sudo in the cloud guest), one line out."""
    snippet = attest_snippet(nonce.value, vmpl=GUEST_VMPL)
    return f'ROOT=; [ "$(id -u)" = 0 ] || ROOT="sudo -n"\n$ROOT sh -c {shlex.quote(snippet)}\n'


def judge_console(
    console: str, *, expects_snp: bool, nonce: RunNonce, plan: AttestationPlan
) -> AttestationRecord:
    """The attestation record of one boot's console."""
    guest = parse_attest_line(console)
    expected = RunExpectations(
        snp=expects_snp,
        nonce=nonce,
        measurement=plan.measurement,
        policy=plan.policy,
        vmpl=GUEST_VMPL,
    )
    signature = verify_signature(guest) if plan.verify_signature and expects_snp else NOT_REQUESTED
    return judge_run(expected, guest, signature)
