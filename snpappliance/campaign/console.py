"""What the guest said on its serial console: markers, evidence and the workload output.

The guest's /init prints::

    SNPGUEST-INIT id=<id> uptime=<s> nproc=<n> mem_kb=<kb>
    SNPGUEST-EVIDENCE <kernel line> | SNPGUEST-EVIDENCE none
    ===SNP-BEGIN id=<id> src=<source> uptime=<s>===
    SNPGUEST-ATTEST status=<…> src=<…> detail=<…> data=<base64 report | ->
    ...workload output...
    ===SNP-END id=<id> rc=<rc> uptime=<s>===

Success is judged by these markers only, never by QEMU's exit status. Markers
are found with a search, not an anchored match: OVMF writes ANSI escapes onto
the serial line before the first marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from snpappliance.campaign.scripts import WALL_MARKER

INIT_RE = re.compile(r"SNPGUEST-INIT id=(\S+)")
INIT_UPTIME_RE = re.compile(r"SNPGUEST-INIT id=\S+ uptime=([0-9]+(?:\.[0-9]+)?)\b")
EVIDENCE_RE = re.compile(r"SNPGUEST-EVIDENCE (.*)$")
BEGIN_RE = re.compile(r"===SNP-BEGIN id=(\S+) src=(\S+) uptime=[0-9.]+===")
END_RE = re.compile(r"===SNP-END id=(\S+) rc=(-?\d+) uptime=[0-9.]+===")
#: The attestation step's line (judged by :mod:`.attest`), kept out of the workload output.
ATTEST_MARKER = "SNPGUEST-ATTEST "
#: The guest kernel's line when SEV-SNP memory encryption is active.
SNP_ACTIVE = "Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP"


@dataclass(frozen=True)
class GuestOutput:
    """The parsed console of one boot."""

    run_id: str | None
    evidence: tuple[str, ...]
    began: bool
    rc: int | None
    payload: str
    #: The guest kernel's uptime (s) when the INIT line was printed.
    init_uptime: float | None = None

    @property
    def finished(self) -> bool:
        return self.rc is not None

    @property
    def snp_active(self) -> bool:
        return any(SNP_ACTIVE in line for line in self.evidence)

    def sections(self) -> tuple[str, str]:
        """(workload output, GNU time output) of the payload."""
        head, _, wall = self.payload.partition(WALL_MARKER + "\n")
        return head, wall


def clean_lines(text: str) -> list[str]:
    """Console text as lines without carriage returns."""
    return [line.rstrip("\r") for line in text.replace("\r\n", "\n").split("\n")]


def parse_console(text: str) -> GuestOutput:
    """Find the markers in a serial console log (a later END than the first is ignored)."""
    run_id: str | None = None
    init_uptime: float | None = None
    evidence: list[str] = []
    began = False
    rc: int | None = None
    payload: list[str] = []
    for line in clean_lines(text):
        if rc is not None:
            break
        if not began:
            if m := INIT_RE.search(line):
                run_id = m.group(1)
                if u := INIT_UPTIME_RE.search(line):
                    init_uptime = float(u.group(1))
            elif m := EVIDENCE_RE.search(line):
                if m.group(1).strip() != "none":
                    evidence.append(m.group(1).strip())
            elif BEGIN_RE.search(line):
                began = True
            continue
        if m := END_RE.search(line):
            rc = int(m.group(2))
        elif ATTEST_MARKER not in line:
            payload.append(line)
    return GuestOutput(run_id, tuple(evidence), began, rc, "\n".join(payload) + "\n", init_uptime)


def marker_kind(line: str) -> str | None:
    """``init``, ``begin`` or ``end`` if ``line`` carries that marker (for live timing)."""
    if INIT_RE.search(line):
        return "init"
    if BEGIN_RE.search(line):
        return "begin"
    if END_RE.search(line):
        return "end"
    return None
