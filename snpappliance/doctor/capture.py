"""``snpapp doctor --from PATH``: host facts from output someone captured or pasted.

PATH is a file, a directory, or a ``--collect`` bundle (``.tar.gz``). Each file
may hold any mix, in any order, of: kernel log lines (dmesg, ``journalctl -k``
or a grep of either, with or without timestamps, ``kernel:`` prefixes, shell
prompts and markdown), /proc/cpuinfo or ``lscpu``, /proc/cmdline, kvm_amd parameters
(``cat`` of each file or ``grep . /sys/module/kvm_amd/parameters/*``),
``snphost ok`` / ``sevctl ok`` / ``snphost show tcb`` output, a ``cpuid -r``
dump, or the gather output inside a bundle. Sections are recognised by their
content, never by file names. Files are read line by line (huge logs are fine),
binary files are skipped, and facts that are not there stay unknown.
"""

from __future__ import annotations

import re
import tarfile
import zlib
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING

from snpappliance.doctor.facts import (
    KVM_PARAMS,
    MARK,
    SYSCFG,
    HostFacts,
    facts_from_sections,
    parse_sections,
)
from snpappliance.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

#: Kernel log lines kept per capture (a 200 MB log is streamed, not held).
MAX_LOG_LINES = 20_000
#: Longest line considered; longer ones are cut (binary junk has no newlines).
MAX_LINE = 16_384
_SNIFF = 8192

_LOG_LINE = re.compile(
    r"sev|snp|amd-vi|iommu|ccp|rmp|smt: |command line|memory encryption|kvm_amd", re.I
)
#: How a kernel log line starts: a dmesg timestamp, a journal prefix, ``kernel:``, or (for
#: ``dmesg -t``) the prefix of a message doctor knows. Other text naming SEV is not log.
_KERNELISH = re.compile(
    r"^\W*(?:\[\s*\d+\.\d+\]|\w{3}\s+\d+\s+\d\d:\d\d:\d\d|[\d-]+T[\d:.+-]+\s|kernel:"
    r"|ccp |SEV|kvm_amd|AMD-Vi|SMT:|Memory Encryption|(?:Kernel )?Command line:)"
)
_CPUINFO = re.compile(
    r"^\s*(processor|vendor_id|cpu family|model|model name|stepping|microcode|flags)\s*:\s?(.*)$"
)
#: ``lscpu`` fields and the /proc/cpuinfo keys they stand for (``BIOS Model name`` etc. are not).
_LSCPU_KEYS = {
    "Vendor ID": "vendor_id",
    "CPU family": "cpu family",
    "Model": "model",
    "Model name": "model name",
    "Flags": "flags",
}
_LSCPU = re.compile(r"^\s*(Vendor ID|CPU family|Model|Model name|Flags):\s+(\S.*)$")
_KVM_PARAM = re.compile(r"/sys/module/kvm_amd/parameters/(sev|sev_es|sev_snp)\b(?::(\S+))?")
_PARAM_VALUE = re.compile(r"^\s*([YN01])\s*$")
_OK_LINE = re.compile(r"\[\s*(?:PASS|FAIL)\s*\]")
_CPUID = re.compile(r"0x8000001f 0x00: eax=0x[0-9a-f]+ ebx=0x[0-9a-f]+ ecx=0x[0-9a-f]+ edx=0x")
_TCB_HEAD = re.compile(r"\bTCB\b")
_TCB_FIELD = re.compile(r"^\s*(?:Microcode|SNP|TEE|Boot Loader|FMC):\s*\S+\s*$")
#: SYSCFG as ``msr_dump.py`` (AMDSEV#271) or ``rdmsr -x 0xc0010010`` print it.
_SYSCFG_DUMP = re.compile(r"SYSCFG, 0xC0010010, \{'([0-9a-fA-F]+)'\}")
_RDMSR = re.compile(r"\brdmsr\b.*\b0xc0010010\b", re.I)
_HEX = re.compile(r"^\s*(?:0x)?([0-9a-fA-F]+)\s*$")
_MEMLOCK = re.compile(r"Memlock resource limit: Soft: (\d+)")
#: A pasted shell prompt and command: ``$ …``, ``# …``, ``❯ …``, ``user@host:~# …``.
_PROMPT = re.compile(
    r"^\s*(?:[\w.-]+@[\w.-]+:[^#$]*[#$]\s+|[#$❯]\s+|(?=(?:sudo\s+)?(?:dmesg|journalctl|rdmsr)\b))(\S.*)$"
)


@dataclass
class _Found:
    """What the lines of one capture held so far."""

    log: list[str] = field(default_factory=list)
    cpuinfo: list[str] = field(default_factory=list)
    cpu_blocks: int = 0
    cmdline: str = ""
    kvm_amd: dict[str, str] = field(default_factory=dict)
    ok_tool: list[str] = field(default_factory=list)
    tcb: list[str] = field(default_factory=list)
    cpuid: str = ""
    memlock: str = ""
    syscfg: str = ""
    pending_rdmsr: bool = False
    kernel: str = ""
    log_captured: bool = False
    pending_uname: bool = False
    gathered: list[str] = field(default_factory=list)
    in_gather: bool = False
    in_tcb: bool = False
    pending_param: str = ""

    def sections(self) -> dict[str, str]:
        found = {
            "kernel": self.kernel,
            "kernel_log": "\n".join(self.log) or ("\n" if self.log_captured else ""),
            "cpuinfo": "\n".join(self.cpuinfo),
            "cmdline": self.cmdline,
            "kvm_amd": "\n".join(f"{p}={v}" for p, v in self.kvm_amd.items()),
            "ok_tool": "\n".join(self.ok_tool),
            "tcb": "\n".join(self.tcb),
            "cpuid": self.cpuid,
            "memlock": self.memlock,
            "msr": f"{SYSCFG} {self.syscfg}" if self.syscfg else "",
        }
        return {name: text for name, text in found.items() if text}


def _prompt(found: _Found, command: str) -> None:
    """A pasted command: ``dmesg``/``journalctl`` means the kernel log was captured, even empty."""
    if re.search(r"\b(dmesg|journalctl)\b", command):
        found.log_captured = True
    found.pending_uname = bool(re.search(r"\buname -r\b", command))
    found.pending_rdmsr = bool(_RDMSR.search(command))


#: Cheap first filter (substring tests, fast on a 200 MB log): a line none of the
#: recognisers could want is dropped at once.
_WANTED = (
    "sev", "snp", "amd-vi", "iommu", "ccp", "rmp", "smt", "command line", "encryption",
    "kvm_amd", "pass", "fail", "eax=", "tcb", "processor", "vendor_id", "cpu family", "model",
    "stepping", "microcode", "flags", "vendor id", "boot_image", "tee", "boot loader", "fmc",
    "dmesg", "journalctl", "uname", "#", "$", "❯", "syscfg", "rdmsr",
)  # fmt: skip


def _wanted(line: str) -> bool:
    low = line.lower()
    return any(token in low for token in _WANTED) or low.strip() in ("y", "n", "0", "1")


def _feed(found: _Found, line: str) -> None:
    if found.pending_rdmsr and line.strip():
        found.pending_rdmsr = False
        if value := _HEX.match(line):
            found.syscfg = found.syscfg or value.group(1)
            return
    if not (found.pending_uname or found.pending_param or _wanted(line)):
        return
    if found.pending_uname and line.strip():
        found.pending_uname = False
        found.kernel = found.kernel or line.strip()
        return
    if found.pending_param:
        value = _PARAM_VALUE.match(line)
        if value or line.strip():
            if value:
                found.kvm_amd[found.pending_param] = value.group(1)
            found.pending_param = ""
            if value:
                return
    param = _KVM_PARAM.search(line)
    if param:
        if param.group(2):
            found.kvm_amd[param.group(1)] = param.group(2)
        else:
            found.pending_param = param.group(1)
        return
    prompt = _PROMPT.match(line)
    if prompt:
        _prompt(found, prompt.group(1))
        return
    if _OK_LINE.search(line):
        found.ok_tool.append(line)
        memlock = _MEMLOCK.search(line)
        if memlock:
            found.memlock = str(int(memlock.group(1)) // 1024)
        return
    if _TCB_HEAD.search(line) and not _OK_LINE.search(line):
        found.in_tcb = True
        found.tcb.append(line)
        return
    if found.in_tcb and _TCB_FIELD.match(line):
        found.tcb.append(line)
        return
    found.in_tcb = False
    if syscfg := _SYSCFG_DUMP.search(line):
        found.syscfg = found.syscfg or syscfg.group(1)
        return
    if _CPUID.search(line.lower()):
        found.cpuid = line.lower()
        return
    cpuinfo = _CPUINFO.match(line)
    if cpuinfo:
        found.cpu_blocks += cpuinfo.group(1) == "processor"
        if found.cpu_blocks <= 1:
            found.cpuinfo.append(line.strip())
        return
    lscpu = _LSCPU.match(line)
    if lscpu:
        found.cpuinfo.append(f"{_LSCPU_KEYS[lscpu.group(1)]}\t: {lscpu.group(2).strip()}")
        return
    if line.startswith("BOOT_IMAGE=") and not found.cmdline:
        found.cmdline = line.strip()
        return
    if _LOG_LINE.search(line) and _KERNELISH.match(line) and len(found.log) < MAX_LOG_LINES:
        found.log.append(line)


def _lines(stream: IO[bytes]) -> Iterator[str]:
    """Lines of at most :data:`MAX_LINE` bytes (a longer one comes in pieces)."""
    while raw := stream.readline(MAX_LINE):
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _is_binary(head: bytes) -> bool:
    return b"\x00" in head


def _read_stream(found: _Found, stream: IO[bytes]) -> bool:
    """Feed one file's lines; ``False`` when it is binary (skipped)."""
    head = stream.read(_SNIFF)
    if _is_binary(head):
        return False
    found.in_gather = False
    first = head.split(b"\n")
    rest = _lines(stream)
    # The sniffed head ends mid-line: join its last piece with the stream's first line.
    tail = first.pop().decode("utf-8", errors="replace")
    lines: Iterable[str] = (b.decode("utf-8", errors="replace") for b in first)
    for line in lines:
        _take(found, line)
    try:
        joined = tail + next(rest)
    except StopIteration:
        joined = tail
    _take(found, joined)
    for line in rest:
        _take(found, line)
    return True


def _take(found: _Found, line: str) -> None:
    found.in_gather = found.in_gather or line.startswith(MARK)
    if found.in_gather:
        found.gathered.append(line)
    else:
        _feed(found, line)


@dataclass(frozen=True)
class Capture:
    """The facts read from PATH and where they came from."""

    host: str
    facts: HostFacts
    files: int
    skipped: tuple[str, ...]


def _files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    else:
        yield path


def _read_path(found: _Found, path: Path, skipped: list[str]) -> int:
    count = 0
    for file in _files(path):
        try:
            if tarfile.is_tarfile(file):
                count += _read_tar(found, file, skipped)
                continue
            with file.open("rb") as stream:
                if _read_stream(found, stream):
                    count += 1
                else:
                    skipped.append(f"{file} (binary)")
        except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
            skipped.append(f"{file} ({exc})")
    return count


def _read_tar(found: _Found, file: Path, skipped: list[str]) -> int:
    count = 0
    with tarfile.open(file) as tar:
        for member in tar:
            stream = tar.extractfile(member) if member.isfile() else None
            if stream is None:
                continue
            with stream:
                if _read_stream(found, stream):
                    count += 1
                else:
                    skipped.append(f"{file}:{member.name} (binary)")
    return count


def read_capture(path: Path) -> Capture:
    """:class:`HostFacts` from captured host output at ``path`` (file, directory or bundle).

    Raises :class:`InputError` when ``path`` is missing or holds nothing doctor recognises.
    """
    if not path.exists():
        msg = f"{path} does not exist"
        raise InputError(msg, hint="pass a file or directory of host output")
    found = _Found()
    skipped: list[str] = []
    files = _read_path(found, path, skipped)
    host = f"capture:{path.name}"
    if found.gathered:
        sections = parse_sections("\n".join(found.gathered))
        host = sections.get("collected_from", "").strip() or host
        extra = found.sections()
        facts = facts_from_sections({**extra, **sections})
    else:
        sections = found.sections()
        if not sections:
            shown = f"; skipped {', '.join(skipped[:3])}" if skipped else ""
            msg = f"no SEV/SNP host output recognised in {path} ({files} file(s) read{shown})"
            raise InputError(
                msg,
                hint="pass the host's dmesg or `journalctl -k`, /proc/cpuinfo, /proc/cmdline, "
                "kvm_amd parameters, `snphost ok` output, or a bundle from "
                "`snpapp doctor --collect`",
            )
        facts = facts_from_sections(sections)
        kvm = {p: found.kvm_amd[p] for p in KVM_PARAMS if p in found.kvm_amd}
        facts = replace(facts, kvm_amd=kvm)
    return Capture(host, facts, files, tuple(skipped))
