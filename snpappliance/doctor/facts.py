"""Facts about a host, gathered once, so every preflight check is a pure function.

:func:`gather` runs one small POSIX shell script on the host (any
:class:`~snpappliance.hosts.Host`) that prints labelled sections: the first
CPU of /proc/cpuinfo, the kernel command line, the kvm_amd parameters, the
SEV/SNP/IOMMU lines of the kernel log, CPUID 0x8000001F and the SYSCFG/RMP
MSRs (when /dev/cpu/0/cpuid and /dev/cpu/0/msr are readable), access to
/dev/sev and /dev/kvm, the memlock limit, ``uname`` and the deployed release.
:func:`parse_sections` and :func:`facts_from_sections` turn that text into a
:class:`HostFacts`;
:func:`facts_from_tree` builds the same snapshot from files on disk (a
captured host), so checks run identically on both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from snpappliance.errors import InputError
from snpappliance.formats.release import CURRENT_LINK, RELEASE_JSON, SUMS_FILE, ReleaseInfo
from snpappliance.hosts.keyvalues import parse_key_values

if TYPE_CHECKING:
    from pathlib import Path

    from snpappliance.hosts.base import Host

MARK = "@@snpapp "
KVM_PARAMS = ("sev", "sev_es", "sev_snp")
DEVICES = ("/dev/sev", "/dev/kvm")
_KERNEL_LOG_PATTERN = "sev|snp|amd-vi|iommu|ccp|rmp|smt: |command line|memory encryption"
#: The MSRs doctor reads: SYSCFG, RMP_BASE and RMP_END.
SYSCFG, RMP_BASE, RMP_END = 0xC0010010, 0xC0010132, 0xC0010133
CPUID_LEAF = 0x8000001F
#: Sections the gather script always prints; a capture without one leaves its facts unknown.
CORE_SECTIONS = frozenset(
    {"cpuinfo", "cmdline", "kvm_amd", "kernel_log", "devices", "memlock", "cpuid", "msr",
     "release_path"}
)  # fmt: skip

#: Prints one ``@@snpapp <name>`` header per section; $1 is the snpapp prefix.
GATHER_SCRIPT = (
    r"""
section() { printf '\n@@snpapp %s\n' "$1"; }
prefix=$1
section arch; uname -m
section kernel; uname -r
section os_release; cat /etc/os-release 2>/dev/null
section cpuinfo; awk 'NF == 0 { exit } { print }' /proc/cpuinfo
section cmdline; cat /proc/cmdline 2>/dev/null
section kvm_amd
for p in sev sev_es sev_snp; do
  v=$(cat "/sys/module/kvm_amd/parameters/$p" 2>/dev/null) || v=missing
  printf '%s=%s\n' "$p" "$v"
done
section kernel_log
# dmesg may have rotated early boot lines away; the journal keeps them when it exists.
log=$(dmesg 2>/dev/null; journalctl -k -b --no-pager 2>/dev/null)
if [ -n "$log" ]; then printf '%s\n' "$log" | grep -E -i 'PATTERN'
else echo '@@unreadable'; fi
section cpuid
c=/dev/cpu/0/cpuid
if [ -r "$c" ]; then
  dd if="$c" bs=16 count=1 iflag=skip_bytes skip=CPUID_LEAF 2>/dev/null | od -An -tx4
elif [ -e "$c" ]; then echo '@@unreadable no permission to read /dev/cpu/0/cpuid'
else echo '@@unreadable no /dev/cpu/0/cpuid (cpuid module not loaded)'; fi
section msr
m=/dev/cpu/0/msr
if [ -r "$m" ]; then
  for r in MSRS; do
    v=$(dd if="$m" bs=8 count=1 iflag=skip_bytes skip="$r" 2>/dev/null | od -An -tx8)
    printf '%s %s\n' "$r" "$v"
  done
elif [ -e "$m" ]; then echo '@@unreadable no permission to read /dev/cpu/0/msr (run as root)'
else echo '@@unreadable no /dev/cpu/0/msr (msr module not loaded: modprobe msr)'; fi
section devices
for d in /dev/sev /dev/kvm; do
  if [ -e "$d" ]; then
    r=no; w=no; [ -r "$d" ] && r=yes; [ -w "$d" ] && w=yes
    printf '%s present read=%s write=%s\n' "$d" "$r" "$w"
  else printf '%s missing\n' "$d"; fi
done
section memlock; ulimit -l
section release_path; [ -d "$prefix/current" ] && readlink -f "$prefix/current"
section release_json; cat "$prefix/current/RELEASE_JSON" 2>/dev/null
section release_sums
if [ -f "$prefix/current/SUMS_FILE" ]; then
  (cd "$prefix/current" && sha256sum --check --quiet SUMS_FILE 2>&1; echo "exit=$?")
fi
section end
""".replace("PATTERN", _KERNEL_LOG_PATTERN)
    .replace("CPUID_LEAF", str(CPUID_LEAF))
    .replace("MSRS", " ".join(str(m) for m in (SYSCFG, RMP_BASE, RMP_END)))
    .replace("RELEASE_JSON", RELEASE_JSON)
    .replace("SUMS_FILE", SUMS_FILE)
)


@dataclass(frozen=True)
class CpuInfo:
    vendor: str
    family: int | None
    model: int | None
    model_name: str
    #: ``None`` when the capture holds no ``flags`` line (a pasted excerpt): flags unknown.
    flags: frozenset[str] | None


@dataclass(frozen=True)
class Device:
    path: str
    present: bool
    readable: bool = False
    writable: bool = False


@dataclass(frozen=True)
class DeployedRelease:
    path: str
    info: ReleaseInfo | None
    sums_exit: int | None
    sums_problems: tuple[str, ...] = ()
    #: First line of ``<release QEMU> --version`` and its exit status (None: not tried).
    qemu_version: str = ""
    qemu_exit: int | None = None


@dataclass(frozen=True)
class HostFacts:
    """One snapshot of everything the preflight checks look at."""

    arch: str = ""
    kernel: str = ""
    os_release: Mapping[str, str] = field(default_factory=dict)
    cpu: CpuInfo | None = None
    cmdline: str = ""
    kvm_amd: Mapping[str, str] = field(default_factory=dict)
    kernel_log: tuple[str, ...] | None = None
    devices: Mapping[str, Device] = field(default_factory=dict)
    memlock_kib: int | None = None
    release: DeployedRelease | None = None
    #: CPUID 0x8000001F as (eax, ebx, ecx, edx), when it could be read.
    cpuid: tuple[int, int, int, int] | None = None
    #: MSR values by number (SYSCFG, RMP_BASE, RMP_END), when they could be read.
    msrs: Mapping[int, int] = field(default_factory=dict)
    #: Why the CPUID or MSRs could not be read ("" when they were, or were not captured).
    cpuid_problem: str = ""
    msr_problem: str = ""
    #: ``(PASS|FAIL, text)`` lines of a captured ``snphost ok`` / ``sevctl ok``.
    ok_lines: tuple[tuple[str, str], ...] = ()
    #: SNP SVN of the platform TCB (from a captured ``snphost show tcb``).
    tcb_snp_svn: int | None = None
    #: Gather sections a capture did not hold: their facts are unknown, not absent.
    unseen: frozenset[str] = frozenset()


def parse_sections(text: str) -> dict[str, str]:
    """Split the gather script's output into ``{section: body}``."""
    sections: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith(MARK):
            if name is not None:
                sections[name] = "\n".join(lines).strip("\n")
            name, lines = line[len(MARK) :].strip(), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        sections[name] = "\n".join(lines).strip("\n")
    if "end" not in sections:
        msg = "the host's facts are incomplete (the gather script stopped early)"
        raise InputError(
            msg,
            hint="run `snpapp doctor --debug` to see the raw output",
        )
    return sections


def parse_cpuinfo(text: str) -> CpuInfo | None:
    """The first processor block of /proc/cpuinfo (``None`` if there is none)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    if not fields:
        return None
    return CpuInfo(
        vendor=fields.get("vendor_id", ""),
        family=_int(fields.get("cpu family")),
        model=_int(fields.get("model")),
        model_name=fields.get("model name", ""),
        flags=frozenset(fields["flags"].split()) if "flags" in fields else None,
    )


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def parse_devices(text: str) -> dict[str, Device]:
    devices: dict[str, Device] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            present = parts[1] == "present"
            devices[parts[0]] = Device(
                parts[0], present, "read=yes" in parts[2:], "write=yes" in parts[2:]
            )
    return devices


def parse_memlock(text: str) -> int | None:
    """``ulimit -l`` output in KiB; ``-1`` for unlimited; ``None`` if unknown."""
    value = text.strip()
    if value == "unlimited":
        return -1
    return int(value) if value.isdigit() else None


def parse_release(sections: Mapping[str, str]) -> DeployedRelease | None:
    path = sections.get("release_path", "").strip()
    if not path:
        return None
    raw = sections.get("release_json", "").strip()
    info = ReleaseInfo.from_json(raw) if raw else None
    sums = sections.get("release_sums", "").strip().splitlines()
    exit_code: int | None = None
    problems: list[str] = []
    for line in sums:
        match = re.fullmatch(r"exit=(\d+)", line.strip())
        if match:
            exit_code = int(match.group(1))
        elif line.strip():
            problems.append(line.strip())
    qemu_exit: int | None = None
    qemu_version = ""
    qemu = sections.get("release_qemu")
    if qemu is not None:
        status, _, qemu_version = qemu.partition("\n")
        found = re.fullmatch(r"exit=(-?\d+)", status.strip())
        qemu_exit = int(found.group(1)) if found else None
    return DeployedRelease(path, info, exit_code, tuple(problems), qemu_version.strip(), qemu_exit)


_UNREADABLE = "@@unreadable"
_OK_LINE = re.compile(r"\[\s*(PASS|FAIL)\s*\]\s*-?\s*(.+)")
_CPUID_DUMP = re.compile(r"eax=0x([0-9a-f]+) ebx=0x([0-9a-f]+) ecx=0x([0-9a-f]+) edx=0x([0-9a-f]+)")


def _problem(text: str) -> str:
    body = text.strip()
    return body[len(_UNREADABLE) :].strip() or "unreadable" if body.startswith(_UNREADABLE) else ""


def parse_cpuid(text: str) -> tuple[int, int, int, int] | None:
    """CPUID 0x8000001F from ``od -tx4`` words or a ``cpuid -r`` line (``eax=0x… ebx=0x…``)."""
    match = _CPUID_DUMP.search(text)
    words = match.groups() if match else tuple(text.split())
    if len(words) != 4 or not all(re.fullmatch(r"[0-9a-fA-F]{1,8}", w) for w in words):
        return None
    eax, ebx, ecx, edx = (int(w, 16) for w in words)
    return eax, ebx, ecx, edx


def parse_msrs(text: str) -> dict[int, int]:
    """``<msr number> <hex value>`` lines (the gather script's ``od -tx8`` output)."""
    out: dict[int, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and re.fullmatch(r"[0-9a-fA-F]+", parts[1]):
            out[int(parts[0])] = int(parts[1], 16)
    return out


def parse_ok_lines(text: str) -> tuple[tuple[str, str], ...]:
    """The ``[ PASS ] - …`` / ``[ FAIL ] - …`` lines of ``snphost ok`` or ``sevctl ok``."""
    found = (_OK_LINE.search(line) for line in text.splitlines())
    return tuple((m.group(1), m.group(2).strip()) for m in found if m)


def parse_tcb_snp_svn(text: str) -> int | None:
    """The ``SNP:`` SVN of the ``Platform TCB`` block of ``snphost show tcb``."""
    in_platform = False
    for line in text.splitlines():
        if "TCB" in line:
            in_platform = "Platform TCB" in line
        match = re.match(r"\s*SNP:\s*(\d+)\s*$", line)
        if in_platform and match:
            return int(match.group(1))
    return None


def facts_from_sections(sections: Mapping[str, str]) -> HostFacts:
    log = sections.get("kernel_log")
    kernel_log = None if log is None or log.strip() == _UNREADABLE else tuple(log.splitlines())
    cpuid_text = sections.get("cpuid", "")
    msr_text = sections.get("msr", "")
    return HostFacts(
        cpuid=parse_cpuid(cpuid_text),
        cpuid_problem=_problem(cpuid_text),
        msrs=parse_msrs(msr_text),
        msr_problem=_problem(msr_text),
        ok_lines=parse_ok_lines(sections.get("ok_tool", "")),
        tcb_snp_svn=parse_tcb_snp_svn(sections.get("tcb", "")),
        unseen=CORE_SECTIONS - sections.keys(),
        arch=sections.get("arch", "").strip(),
        kernel=sections.get("kernel", "").strip(),
        os_release=parse_key_values(sections.get("os_release", "")),
        cpu=parse_cpuinfo(sections.get("cpuinfo", "")),
        cmdline=sections.get("cmdline", "").strip(),
        kvm_amd=parse_key_values(sections.get("kvm_amd", "")),
        kernel_log=kernel_log,
        devices=parse_devices(sections.get("devices", "")),
        memlock_kib=parse_memlock(sections.get("memlock", "")),
        release=parse_release(sections),
    )


def gather_text(host: Host, prefix: str) -> str:
    """Everything doctor reads from ``host``, as labelled sections (what --collect stores).

    One shell script, plus ``<release QEMU> --version`` when a release is deployed
    (QEMU was built elsewhere: it must start here, with its shared libraries).
    """
    result = host.run(
        ["sh", "-c", GATHER_SCRIPT, "snpapp-doctor", prefix], timeout=120, idempotent=True
    )
    text = result.stdout
    release = parse_release(parse_sections(text))
    if release is None or release.info is None or not release.info.qemu:
        return text
    qemu = host.run(
        [f"{release.path}/{release.info.qemu}", "--version"],
        check=False,
        timeout=60,
        idempotent=True,
    )
    first = (qemu.stdout or qemu.stderr).strip().splitlines()
    shown = first[0] if first else ""
    return f"{text.rstrip()}\n{MARK}release_qemu\nexit={qemu.returncode}\n{shown}\n"


def gather(host: Host, prefix: str) -> HostFacts:
    """Collect :class:`HostFacts` from ``host`` (release under ``prefix``)."""
    return facts_from_sections(parse_sections(gather_text(host, prefix)))


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def facts_from_tree(root: Path) -> HostFacts:
    """:class:`HostFacts` from a captured host: files laid out as on the host.

    Reads ``proc/cpuinfo``, ``proc/cmdline``, ``sys/module/kvm_amd/parameters/*``,
    ``etc/os-release`` and the snpapp-specific ``kernel.log`` (the kernel log
    lines), ``uname-r``, ``uname-m``, ``devices`` (``/dev/sev present read=yes
    write=yes`` lines) and ``memlock`` (``ulimit -l`` output). Missing files
    leave the fact unknown.
    """
    params = root / "sys/module/kvm_amd/parameters"
    sections: dict[str, str] = {
        "kvm_amd": "\n".join(f"{p}={(_read(params / p) or 'missing').strip()}" for p in KVM_PARAMS),
    }
    files = {
        "cpuinfo": "proc/cpuinfo",
        "cmdline": "proc/cmdline",
        "os_release": "etc/os-release",
        "kernel_log": "kernel.log",
        "kernel": "uname-r",
        "arch": "uname-m",
        "devices": "devices",
        "memlock": "memlock",
    }
    for section, name in files.items():
        text = _read(root / name)
        if text is not None:
            sections[section] = text
    sections["release_path"] = ""
    release = root / CURRENT_LINK
    if release.is_dir():
        sections["release_path"] = str(release.resolve())
        sections["release_json"] = _read(release / RELEASE_JSON) or ""
    return facts_from_sections(sections)
