"""The campaign spec's field table drives the loader, the frozen dump and `campaign init`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from snpappliance.campaign.commands import write_spec_template
from snpappliance.campaign.profiles import profile_names, profile_path
from snpappliance.campaign.spec import (
    GuestKind,
    PtsSmoke,
    load_spec,
    parse_spec,
)
from snpappliance.campaign.specdump import dump_spec
from snpappliance.campaign.specmodel import SECTIONS, Section
from snpappliance.errors import ConfigError, OutputError
from snpappliance.toml import settings

if TYPE_CHECKING:
    from pathlib import Path

SHA = "cd" * 32
EVERYTHING = f"""
[campaign]
name = "all.keys_1"
label = "every key set"
host = "user@genoa01"
stack = "genoa-2025"
repetitions = 3
order = "sequential"
seed = 42
max_failures = 2
[release]
prefix = "/srv/snp"
[guest]
kind = "cloud"
vcpus = 4
memory_mib = 4096
cpu = "EPYC-v4"
pin = "3,4,5,6,1"
image_url = "https://example.org/noble.img"
image_sha256 = "{SHA}"
disk_gib = 30
[qemu]
binary = "/usr/bin/qemu-system-x86_64"
accel = "kvm"
firmware = "/srv/OVMF.fd"
[snp]
policy = 0x30000
cbitpos = 51
reduced_phys_bits = 1
[timeouts]
boot_s = 900
workload_s = 600.5
grace_s = 30
[retry]
attempts = 4
backoff_s = 0.5
backoff_max_s = 8
[[scenarios]]
name = "snp-off"
kind = "snp-layout"
baseline = true
[[scenarios]]
name = "snp-on"
kind = "snp"
[workloads.sysbench-cpu]
max_prime = 10000
time_s = 30
[workloads.sysbench-memory]
block_size = "4K"
total_size = "1G"
[workloads.pts]
tests = ["openssl"]
iterations = 2
timeout_s = 3600
[workloads.fio]
disk_size = "2G"
disk_format = "qcow2"
preallocation = "falloc"
disk_dir = "/srv/fio"
cache = "directsync"
[[workloads.fio.jobs]]
name = "mixed-8k"
rw = "randrw"
bs = "8k"
iodepth = 4
numjobs = 2
size = "1G"
runtime_s = 20
direct = false
ioengine = "io_uring"
[workloads.iperf3]
protocol = "udp"
streams = 2
duration_s = 20
length = "1400"
bitrate = "2G"
direction = "host-to-guest"
port = 5301
network = "bridge"
bridge = "br0"
host_address = "192.168.100.1"
guest_address = "192.168.100.2/24"
[workloads.boot]
memory_mib = [1024, 4096]
"""


def _template(profile: str) -> str:
    return write_spec_template(target=None, profile=profile, force=False)


def test_every_key_is_described_with_a_sentence() -> None:
    for section in SECTIONS:
        assert section.help.endswith("."), section.key
        for s in settings(section.cls):
            assert len(s.rule.help) > 10, (section.key, s.name)
            assert s.rule.help.endswith("."), (section.key, s.name)


def test_every_number_has_an_upper_bound_stated_in_its_help() -> None:
    for section in SECTIONS:
        for s in settings(section.cls):
            if s.type in (int, float) and s.name not in ("policy", "seed"):
                assert s.rule.maximum is not None, (section.key, s.name)


def test_a_spec_with_every_key_round_trips_through_the_dump() -> None:
    spec = parse_spec(EVERYTHING, source="every.toml")
    assert spec.guest.kind is GuestKind.CLOUD
    assert spec.workload("pts") == PtsSmoke(tests=("openssl",), iterations=2, timeout_s=3600)
    text = dump_spec(spec)
    assert parse_spec(text, source="dump") == spec
    assert "policy = 0x30000" in text
    for section in SECTIONS:
        header = f"[[{section.key}]]" if section.array else f"[{section.key}]"
        assert header in text


@pytest.mark.parametrize("section", [s for s in SECTIONS if not s.array], ids=lambda s: s.key)
def test_an_unknown_key_is_named_in_every_table(section: Section) -> None:
    key = section.key
    header = f"[{key}]"
    text = EVERYTHING.replace(header, f"{header}\nbogus_key = 1", 1)
    with pytest.raises(ConfigError) as info:
        parse_spec(text, source="s.toml")
    assert info.value.message == f"s.toml: {key}.bogus_key: unknown key"
    assert info.value.hint is not None
    assert info.value.hint.startswith("known keys here:")


@pytest.mark.parametrize("profile", profile_names())
def test_the_template_reads_back_to_the_profile(profile: str) -> None:
    text = _template(profile)
    assert parse_spec(text, source="template") == load_spec(profile_path(profile))


@pytest.mark.parametrize("profile", profile_names())
def test_the_template_lists_every_key_with_its_help(profile: str) -> None:
    text = _template(profile)
    flat = " ".join(line.lstrip("# ") for line in text.splitlines())
    for section in SECTIONS:
        assert re.search(rf"^(# )?\[\[?{re.escape(section.key)}\]", text, re.M), section.key
        for s in settings(section.cls):
            assert re.search(rf"^(# )?{s.name} = ", text, re.M), (section.key, s.name)
            assert " ".join(s.rule.help.split()) in flat, (section.key, s.name)


def test_the_templates_state_bounds_and_keep_the_profiles_values() -> None:
    local, genoa = _template("local"), _template("genoa")
    assert "# Seconds from QEMU start until the workload begins" in local
    assert "Range: 1 to 86400." in " ".join(local.split())
    assert "boot_s = 90.0" in local
    assert '# artifacts = "artifacts/debian-bookworm/guest"' in local
    assert "# [release]" in local
    assert "policy = 0x30000" in genoa
    assert 'prefix = "/opt/snpapp"' in genoa
    assert "# [workloads.pts]" in genoa
    assert genoa.startswith("# snpapp campaign spec: the built-in `genoa` profile")


def test_uncommenting_the_cloud_keys_gives_a_valid_cloud_spec() -> None:
    text = _template("genoa").replace('kind = "minimal"', 'kind = "cloud"')
    text = text.replace(
        '# image_sha256 = "<64 hex digits from SHA256SUMS>"', f'image_sha256 = "{SHA}"'
    )
    spec = parse_spec(text, source="t")
    assert spec.guest.image_sha256 == SHA
    assert spec.guest.artifacts is None


def test_pin_is_off_auto_or_host_cpus() -> None:
    spec = parse_spec(EVERYTHING, source="every.toml")
    assert spec.guest.pin == "3,4,5,6,1"
    assert load_spec(profile_path("genoa")).guest.pin == "auto"
    assert load_spec(profile_path("local")).guest.pin == "off"
    for bad in ("on", "2;3", "-1,2", "", "auto,1"):
        text = EVERYTHING.replace('pin = "3,4,5,6,1"', f"pin = {bad!r}")
        with pytest.raises(ConfigError, match=r"guest\.pin: must be"):
            parse_spec(text, source="s.toml")


def test_init_writes_the_template_once(tmp_path: Path) -> None:
    target = tmp_path / "my.toml"
    text = write_spec_template(target=target, profile="local", force=False)
    assert target.read_text(encoding="utf-8") == text
    with pytest.raises(OutputError, match="already exists"):
        write_spec_template(target=target, profile="local", force=False)
    assert write_spec_template(target=target, profile="genoa", force=True) == _template("genoa")
