"""Facts about a host, gathered once, so every preflight check is a pure function.

:func:`gather` runs one small POSIX shell script on the host (any
:class:`~snpappliance.hosts.Host`) that prints labelled sections: the first
CPU of /proc/cpuinfo, the kernel command line, the kvm_amd parameters, the
SEV/SNP/IOMMU lines of the kernel log, access to /dev/sev and /dev/kvm, the
memlock limit, ``uname`` and the deployed release. :func:`parse_sections` and
:func:`facts_from_sections` turn that text into a :class:`HostFacts`;
:func:`facts_from_tree` builds the same snapshot from files on disk (a
captured host), so checks run identically on both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from snpappliance.errors import InputError
from snpappliance.formats.release import CURRENT_LINK, RELEASE_JSON, SUMS_FILE, ReleaseInfo
from snpappliance.hosts.base import Host
from snpappliance.hosts.keyvalues import parse_key_values

MARK = "@@snpapp "
KVM_PARAMS = ("sev", "sev_es", "sev_snp")
DEVICES = ("/dev/sev", "/dev/kvm")
_KERNEL_LOG_PATTERN = "sev|snp|amd-vi|iommu|ccp"

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
    .replace("RELEASE_JSON", RELEASE_JSON)
    .replace("SUMS_FILE", SUMS_FILE)
)


@dataclass(frozen=True)
class CpuInfo:
    vendor: str
    family: int | None
    model: int | None
    model_name: str
    flags: frozenset[str]


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
        raise InputError(
            "the host's facts are incomplete (the gather script stopped early)",
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
        flags=frozenset(fields.get("flags", "").split()),
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
    return DeployedRelease(path, info, exit_code, tuple(problems))


def facts_from_sections(sections: Mapping[str, str]) -> HostFacts:
    log = sections.get("kernel_log")
    kernel_log = None if log is None or log.strip() == "@@unreadable" else tuple(log.splitlines())
    return HostFacts(
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


def gather(host: Host, prefix: str) -> HostFacts:
    """Collect :class:`HostFacts` from ``host``: one shell script, plus the release's QEMU."""
    result = host.run(
        ["sh", "-c", GATHER_SCRIPT, "snpapp-doctor", prefix], timeout=120, idempotent=True
    )
    facts = facts_from_sections(parse_sections(result.stdout))
    release = facts.release
    if release is None or release.info is None or not release.info.qemu:
        return facts
    # QEMU was built elsewhere: make sure it starts here (shared libraries present).
    qemu = host.run(
        [f"{release.path}/{release.info.qemu}", "--version"],
        check=False,
        timeout=60,
        idempotent=True,
    )
    first = (qemu.stdout or qemu.stderr).strip().splitlines()
    tried = replace(release, qemu_version=first[0] if first else "", qemu_exit=qemu.returncode)
    return replace(facts, release=tried)


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
    release = root / CURRENT_LINK
    if release.is_dir():
        sections["release_path"] = str(release.resolve())
        sections["release_json"] = _read(release / RELEASE_JSON) or ""
    return facts_from_sections(sections)
