"""The guest side of attestation: the sh step that asks for a report, and its console line.

:func:`attest_snippet` returns a POSIX sh fragment (busybox ash is enough) that
the guest runs after boot. It asks for an SNP report carrying the run's nonce:

1. through configfs-tsm (``/sys/kernel/config/tsm/report``, Linux ≥ 6.7;
   configfs is mounted when needed): mkdir an entry, write the 64 nonce bytes
   to ``inblob``, read ``outblob``, rmdir;
2. else through ``snp-guest-report`` (Dockerfiles/guest/snp-guest-report.c),
   the SNP_GET_REPORT ioctl on /dev/sev-guest (loading the sev-guest module
   from /lib/modules when it is there);

and prints exactly one line (:data:`ATTEST_MARKER`), ``src`` naming the
interface that answered and ``data`` the base64 report or ``-``::

    SNPGUEST-ATTEST status=<report|no-interface|refused|error>
        src=<configfs-tsm|sev-guest|none> detail=<token> data=<base64|->

(one line on the console; wrapped here). ``detail`` is one token of
``[A-Za-z0-9._,:/+=-]`` (other characters become ``_``).
:func:`parse_attest_line` reads the line back from the console log.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from snpappliance.attestation.nonce import NONCE_SIZE
from snpappliance.errors import ConfigError, ParseError
from snpappliance.formats.attestation import GuestStatus

ATTEST_MARKER = "SNPGUEST-ATTEST"
#: Where the guest image installs the ioctl fallback.
GUEST_TOOL = "/usr/bin/snp-guest-report"
#: Where the guest image keeps the sev-guest kernel module (Linux < 6.7 guests).
SEV_GUEST_MODULE = "/lib/modules/sev-guest.ko"
TSM_REPORT_DIR = "/sys/kernel/config/tsm/report"
#: Exit statuses of snp-guest-report (see its source).
TOOL_EXIT_NO_INTERFACE = 2
TOOL_EXIT_REFUSED = 3
SOURCES = ("configfs-tsm", "sev-guest", "none")

_LINE = re.compile(
    ATTEST_MARKER + r" status=(?P<status>\S+) src=(?P<src>\S+) detail=(?P<detail>\S*)"
    r" data=(?P<data>\S+)[ \t]*$",
    re.MULTILINE,
)

# The sh below is a template: {nonce_hex}, {nonce_octal}, {vmpl}, {tool}, {module},
# {tsm} and {marker} are filled in by attest_snippet. Every failure ends in one
# printed line; the step never stops the script that runs it.
_SNIPPET = r"""
snp_attest() (
  W=$(mktemp -d /tmp/snp-attest.XXXXXX) || W=/tmp/snp-attest.$$
  mkdir -p "$W"
  tok() {{ tr -c 'A-Za-z0-9._,:/+=-' '_' | head -c 200; }}
  say() {{
    if [ -s "$W/report" ]; then D=$(base64 < "$W/report" | tr -d '\n'); else D=-; fi
    echo "{marker} status=$1 src=$2 detail=$(printf '%s' "$3" | tok) data=$D"
    rm -rf "$W"
  }}
  T={tsm}
  if [ ! -d "$T" ] && grep -qw configfs /proc/filesystems 2>/dev/null; then
    mount -t configfs configfs /sys/kernel/config 2>/dev/null
  fi
  if [ -d "$T" ]; then
    E="$T/snpapp-$$"
    if ! mkdir "$E" 2>"$W/err"; then say error configfs-tsm "mkdir:$(cat "$W/err")"; return; fi
    P=$(cat "$E/provider" 2>/dev/null)
    if [ -z "$P" ]; then rmdir "$E"; say no-interface configfs-tsm no-provider; return; fi
    if [ {vmpl} -ne 0 ] && ! echo {vmpl} > "$E/privlevel" 2>"$W/err"; then
      rmdir "$E"; say refused configfs-tsm "privlevel:$(cat "$W/err")"; return
    fi
    printf '{nonce_octal}' > "$E/inblob"
    if cat "$E/outblob" > "$W/report" 2>"$W/err"; then S=report; else S=refused; : > "$W/report"; fi
    G=$(cat "$E/generation" 2>/dev/null)
    rmdir "$E"
    say $S configfs-tsm "provider:$P,generation:$G,$(cat "$W/err")"
    return
  fi
  [ -e /dev/sev-guest ] || [ ! -e {module} ] || insmod {module} 2>/dev/null
  if [ ! -x {tool} ]; then
    if [ -e /dev/sev-guest ]; then say error sev-guest "missing:{tool}"; return; fi
    say no-interface none "no-configfs-tsm,no-/dev/sev-guest,no-{tool}"; return
  fi
  {tool} -l {vmpl} {nonce_hex} > "$W/report" 2>"$W/err"
  R=$?
  case $R in
    0) say report sev-guest "" ;;
    {no_interface}) : > "$W/report"; say no-interface sev-guest "$(cat "$W/err")" ;;
    {refused}) : > "$W/report"; say refused sev-guest "$(cat "$W/err")" ;;
    *) : > "$W/report"; say error sev-guest "exit:$R:$(cat "$W/err")" ;;
  esac
)
snp_attest
"""


def attest_snippet(
    nonce: bytes,
    *,
    vmpl: int = 0,
    tool: str = GUEST_TOOL,
    module: str = SEV_GUEST_MODULE,
    tsm_dir: str = TSM_REPORT_DIR,
) -> str:
    """The sh step that requests a report with ``nonce`` as REPORT_DATA and prints one line.

    Its output goes to stdout; run it where the guest's console gets stdout (the
    benchmark guest's workload script). ``tool``, ``module`` and ``tsm_dir`` are
    the guest image's paths; they are parameters so the step can run on a test
    machine against a freshly built tool.
    """
    if len(nonce) != NONCE_SIZE:
        msg = f"the attestation nonce must be {NONCE_SIZE} bytes, not {len(nonce)}"
        raise ConfigError(msg, hint="Derive it with snpappliance.attestation.nonce.RunNonce.")
    if not 0 <= vmpl <= 3:
        msg = f"VMPL must be 0 to 3, not {vmpl}"
        raise ConfigError(msg, hint="Set the scenario's VMPL to 0 (no SVSM) or the SVSM's level.")
    for label, path in (("tool", tool), ("module", module), ("tsm_dir", tsm_dir)):
        if not re.fullmatch(r"/[A-Za-z0-9._/-]+", path):
            msg = f"{label} path {path!r} must be absolute and need no shell quoting"
            raise ConfigError(msg, hint="Use a plain absolute path (letters, digits, . _ - /).")
    return _SNIPPET.format(
        marker=ATTEST_MARKER,
        nonce_hex=nonce.hex(),
        nonce_octal="".join(f"\\{b:03o}" for b in nonce),
        vmpl=vmpl,
        tool=tool,
        module=module,
        tsm=tsm_dir,
        no_interface=TOOL_EXIT_NO_INTERFACE,
        refused=TOOL_EXIT_REFUSED,
    ).lstrip("\n")


@dataclass(frozen=True)
class GuestAttestation:
    """What the guest's attestation step printed."""

    status: GuestStatus
    source: str
    detail: str
    #: The raw report bytes the guest returned (None without one).
    report: bytes | None


def parse_attest_line(console_text: str) -> GuestAttestation:
    """The guest's SNPGUEST-ATTEST line in ``console_text``.

    No line gives status MISSING (the step did not run or its output was lost).
    A line whose data is not base64, or a report status without data, gives
    status ERROR with the cause as detail: the run is then judged invalid, not
    aborted. More than one line is a ParseError (two attestation steps in one
    boot is a bug of the script that ran them).
    """
    lines = list(_LINE.finditer(console_text.replace("\r", "")))
    if not lines:
        if ATTEST_MARKER in console_text:
            return GuestAttestation(GuestStatus.ERROR, "none", "malformed-attest-line", None)
        return GuestAttestation(GuestStatus.MISSING, "none", f"no-{ATTEST_MARKER}-line", None)
    if len(lines) > 1:
        msg = f"the guest printed {len(lines)} {ATTEST_MARKER} lines; one per boot is expected"
        raise ParseError(msg, hint="Run the attestation step once per guest boot.")
    match = lines[0]
    detail = match["detail"]
    try:
        status = GuestStatus(match["status"])
    except ValueError:
        return GuestAttestation(
            GuestStatus.ERROR, "none", f"unknown-status:{match['status']}", None
        )
    if status is GuestStatus.MISSING or match["src"] not in SOURCES:
        bad = f"status:{status}" if status is GuestStatus.MISSING else f"src:{match['src']}"
        return GuestAttestation(GuestStatus.ERROR, "none", f"unexpected-{bad}", None)
    data = match["data"]
    report: bytes | None = None
    if data != "-":
        try:
            report = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return GuestAttestation(GuestStatus.ERROR, match["src"], "data-not-base64", None)
    if status is GuestStatus.REPORT and not report:
        return GuestAttestation(GuestStatus.ERROR, match["src"], "report-without-data", None)
    return GuestAttestation(status, match["src"], detail, report)
