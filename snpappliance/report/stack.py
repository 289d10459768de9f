"""Table 1: the hardware and software stack under test, from a campaign's own records.

Read from ``environment.json`` (what the campaign found on the host: CPU, firmware,
kernel, QEMU, the deployed release, the guest's manifest) and the frozen spec
``campaign.toml`` (vCPUs, memory). A fact the campaign did not record is shown as
"not recorded", never guessed; a results file without an environment gets one row
saying so. Pure functions from parsed JSON/TOML to rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NOT_RECORDED = "not recorded"
NO_ENVIRONMENT = (
    "no environment recorded: these results come without a campaign's environment.json, "
    "so the stack under test is unknown"
)


@dataclass(frozen=True)
class StackRow:
    """One line of Table 1."""

    part: str
    item: str
    value: str


def _get(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    return data


def _first(data: Any, *paths: str) -> str | None:
    for path in paths:
        value = _get(data, path)
        if value not in (None, "", [], {}):
            return str(value)
    return None


def _components(env: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Full artefact manifests the environment embeds, by component name."""
    found: dict[str, Mapping[str, Any]] = {}
    for path in ("stack.components", "release.manifests"):
        table = _get(env, path)
        if isinstance(table, Mapping):
            found |= {str(k): v for k, v in table.items() if isinstance(v, Mapping)}
    guest = _get(env, "guest.manifest")
    if isinstance(guest, Mapping):
        found.setdefault("guest", guest)
    return found


def _digests(env: Mapping[str, Any]) -> dict[str, str]:
    """Manifest digests of the stack's components (built locally or deployed)."""
    found: dict[str, str] = {}
    for path in ("stack.manifests", "release.components"):
        table = _get(env, path)
        if isinstance(table, Mapping):
            found |= {str(k): str(v) for k, v in table.items() if isinstance(v, str)}
    return found


def _source(manifest: Mapping[str, Any]) -> str | None:
    """ "commit 1a2b… (url)", "Debian source pkg version" or a local tree."""
    source = manifest.get("source")
    if not isinstance(source, Mapping):
        return None
    if source.get("commit"):
        where = f" ({source['url']})" if source.get("url") else ""
        return f"commit {source['commit']}{where}"
    if source.get("version"):
        return f"Debian source {source.get('package', '')} {source['version']}".replace("  ", " ")
    if source.get("kind") == "local" and source.get("tree"):
        return f"local tree {source['tree']}"
    return None


def _component(env: Mapping[str, Any], names: tuple[str, ...], installed: str | None) -> str:
    """What is known of a component: its source (commit or version), else the installed
    version, else its manifest digest."""
    manifests, digests = _components(env), _digests(env)
    for name in names:
        if name in manifests:
            source = _source(manifests[name])
            if source:
                return f"{source}; {installed}" if installed else source
    if installed:
        return installed
    for name in names:
        if name in digests:
            return f"built by snpapp, manifest {digests[name]}"
    return NOT_RECORDED


def _rust(env: Mapping[str, Any]) -> str:
    versions = {
        str(m["toolchain"]["rustc"])
        for m in _components(env).values()
        if isinstance(m.get("toolchain"), Mapping) and m["toolchain"].get("rustc")
    }
    return "; ".join(sorted(versions)) or NOT_RECORDED


def _cpu(env: Mapping[str, Any]) -> str:
    model = _first(env, "host.cpu.model_name") or NOT_RECORDED
    parts = [
        f"{label} {value}"
        for label, key in (("family", "cpu_family"), ("model", "model"), ("stepping", "stepping"))
        if (value := _first(env, f"host.cpu.{key}")) is not None
    ]
    threads = _first(env, "host.nproc")
    if threads:
        parts.append(f"{threads} threads")
    return f"{model} ({', '.join(parts)})" if parts else model


def _bios(env: Mapping[str, Any]) -> str:
    parts = [
        value
        for key in ("vendor", "version", "date")
        if (value := _first(env, f"host.bios.{key}", f"host.bios_{key}")) is not None
    ]
    return " ".join(parts) if parts else "not readable or not recorded"


def _memory(spec: Mapping[str, Any] | None) -> str:
    value = _get(spec, "guest.memory_mib")
    if isinstance(value, list):
        return ", ".join(f"{v} MiB" for v in value) + " (swept)"
    return f"{value} MiB" if value is not None else NOT_RECORDED


def _guest_tools(env: Mapping[str, Any]) -> str:
    info = _get(env, "guest.build_info")
    if not isinstance(info, Mapping):
        return NOT_RECORDED
    tools = [f"{k} {v}" for k, v in info.items() if k not in ("kernel_package", "kernel_release")]
    return ", ".join(tools) or NOT_RECORDED


def stack_rows(env: Mapping[str, Any] | None, spec: Mapping[str, Any] | None) -> list[StackRow]:
    """Table 1 for one host's environment (``None``: one row saying none was recorded)."""
    if env is None:
        return [StackRow("—", "environment", NO_ENVIRONMENT)]
    snp_usable = _get(env, "snp.usable")
    qemu = _first(env, "qemu.version")
    accel = _first(env, "qemu.accel")
    ovmf = _first(env, "firmware.debian_package", "firmware.path")
    release = _first(env, "release.name")
    verified = _get(env, "release.verified")
    rows = [
        ("Host", "CPU", _cpu(env)),
        ("Host", "microcode", _first(env, "host.cpu.microcode") or NOT_RECORDED),
        ("Host", "SEV firmware", _first(env, "host.sev.firmware", "snp.firmware")
         or NOT_RECORDED),
        ("Host", "SEV TCB", _first(env, "host.sev.tcb", "snp.tcb") or NOT_RECORDED),
        ("Host", "BIOS", _bios(env)),
        ("Host", "kernel", _first(env, "host.kernel") or NOT_RECORDED),
        ("Host", "SEV-SNP usable", NOT_RECORDED if snp_usable is None
         else ("yes" if snp_usable else "no (preflight failed)")),
        ("Virtualisation", "QEMU", _component(
            env, ("qemu",), f"{qemu} ({accel})" if qemu and accel else qemu)),
        ("Virtualisation", "OVMF", _component(env, ("ovmf", "edk2"), ovmf)),
        ("Virtualisation", "SVSM", _component(env, ("svsm", "coconut-svsm"), None)),
        ("Virtualisation", "Rust toolchain", _rust(env)),
        ("Virtualisation", "stack", _first(env, "stack.name") or NOT_RECORDED),
        ("Virtualisation", "deployed release", NOT_RECORDED if release is None
         else f"{release} ({'checksums verified' if verified else 'checksums not verified'})"),
        ("Guest", "image", " ".join(
            v for v in (_first(env, "guest.kind"), _first(env, "guest.manifest.image_id")) if v
        ) or NOT_RECORDED),
        ("Guest", "kernel", _first(env, "guest.build_info.kernel_package",
                                   "guest.build_info.kernel_release") or NOT_RECORDED),
        ("Guest", "vCPUs", _first(spec, "guest.vcpus") or NOT_RECORDED),
        ("Guest", "memory", _memory(spec)),
        ("Guest", "workload tools", _guest_tools(env)),
    ]  # fmt: skip
    return [StackRow(part, item, value) for part, item, value in rows]


def host_environments(data: Any) -> dict[str, Mapping[str, Any]]:
    """environment.json as {host: environment}: one entry, or one per host of a
    multi-host file (``{"hosts": {...}}``)."""
    if not isinstance(data, Mapping):
        return {}
    hosts = data.get("hosts")
    if isinstance(hosts, Mapping) and len(data) == 1:
        return {str(k): v for k, v in hosts.items() if isinstance(v, Mapping)}
    return {str(_first(data, "host.name") or ""): data}
