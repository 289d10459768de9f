"""Table 1 from a real campaign's environment.json and spec, and without one."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from snpappliance.report.stack import NO_ENVIRONMENT, NOT_RECORDED, host_environments, stack_rows

FIXTURES = Path(__file__).parent.parent / "fixtures" / "report-environment"


def _rows(env: object, spec: object) -> dict[str, str]:
    return {f"{r.part}/{r.item}": r.value for r in stack_rows(env, spec)}  # type: ignore[arg-type]


def test_a_local_campaigns_environment_fills_table_1() -> None:
    env = json.loads((FIXTURES / "environment.json").read_text(encoding="utf-8"))
    spec = tomllib.loads((FIXTURES / "campaign.toml").read_text(encoding="utf-8"))
    [(host, one)] = host_environments(env).items()
    assert host == "local"
    rows = _rows(one, spec)
    assert rows["Host/CPU"].startswith("AMD EPYC (family 25, model 1, stepping 1, 2 threads)")
    assert rows["Host/microcode"] == "0x1000065"
    assert rows["Host/kernel"].startswith("Linux 6.18.44")
    assert rows["Host/SEV firmware"] == NOT_RECORDED
    assert rows["Virtualisation/QEMU"] == (
        "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3) (tcg)"
    )
    assert rows["Virtualisation/OVMF"] == "ovmf 2022.11-6+deb12u2"
    assert rows["Guest/kernel"] == "linux-image-6.1.0-57-amd64 6.1.192-3"
    assert rows["Guest/vCPUs"] == "2"
    assert rows["Guest/memory"] == "512 MiB"
    assert rows["Guest/image"] == f"minimal {one['guest']['manifest']['image_id']}"


def test_component_sources_and_rust_come_from_embedded_manifests() -> None:
    env = {
        "stack": {"name": "genoa", "components": {
            "qemu": {"source": {"kind": "git", "url": "https://example.org/qemu",
                                "commit": "0123456789abcdef0123456789abcdef01234567"}},
            "svsm": {"source": {"kind": "git", "commit": "89abcdef"},
                     "toolchain": {"rustc": "rustc 1.83.0 (90b35a623 2024-11-26)"}},
        }},
    }  # fmt: skip
    rows = _rows(env, {"guest": {"memory_mib": [2048, 8192]}})
    assert rows["Virtualisation/QEMU"].startswith(
        "commit 0123456789abcdef0123456789abcdef01234567 (https://example.org/qemu)"
    )
    assert rows["Virtualisation/SVSM"] == "commit 89abcdef"
    assert rows["Virtualisation/Rust toolchain"] == "rustc 1.83.0 (90b35a623 2024-11-26)"
    assert rows["Guest/memory"] == "2048 MiB, 8192 MiB (swept)"


def test_no_environment_says_so() -> None:
    [row] = stack_rows(None, None)
    assert row.value == NO_ENVIRONMENT
