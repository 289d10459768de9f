"""The cloud-init seed's rendered user-data and meta-data (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from snpappliance.campaign.guests.cloud.seed import CloudSeed, genisoimage_argv, render_seed
from snpappliance.errors import ConfigError

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB5k snpapp-genoa"
HOST_PRIVATE = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n"
)
HOST_PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost snpapp-guest-host"
SEED = CloudSeed(
    hostname="snpapp-guest",
    instance_id="genoa-20261126",
    ssh_public_key=KEY,
    host_key_private=HOST_PRIVATE,
    host_key_public=HOST_PUBLIC,
)


def test_user_data_installs_the_workload_programs_and_trusts_the_key() -> None:
    user_data = render_seed(SEED)["user-data"]
    lines = user_data.splitlines()
    assert lines[0] == "#cloud-config"
    assert "hostname: snpapp-guest" in lines
    assert "  - name: snpapp" in lines
    assert f"      - {json.dumps(KEY)}" in lines
    start = lines.index("packages:")
    assert lines[start + 1 : start + 3] == ["  - sysbench", "  - time"]
    assert "ssh_pwauth: false" in lines


def test_user_data_gives_the_guest_the_campaigns_host_key() -> None:
    lines = render_seed(SEED)["user-data"].splitlines()
    assert f"  ed25519_private: {json.dumps(HOST_PRIVATE)}" in lines
    assert f"  ed25519_public: {json.dumps(HOST_PUBLIC)}" in lines
    assert "ssh_genkeytypes: []" in lines


def test_user_data_ends_with_the_readiness_marker() -> None:
    user_data = render_seed(SEED)["user-data"]
    assert '  - [sh, -c, "mkdir -p /var/lib/snpapp && touch /var/lib/snpapp/ready"]' in user_data
    assert 'final_message: "SNPAPP-CLOUD-READY id=genoa-20261126 uptime=$UPTIME"' in user_data


def test_meta_data_names_the_instance() -> None:
    assert render_seed(SEED)["meta-data"] == (
        "instance-id: genoa-20261126\nlocal-hostname: snpapp-guest\n"
    )


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("hostname", "Bad_Host", "hostname 'Bad_Host' is not a DNS label"),
        ("instance_id", "a b", "instance-id 'a b'"),
        ("ssh_public_key", "not a key\n- evil", "not one OpenSSH public key line"),
        ("packages", ("sysbench", "x; rm"), "package 'x; rm'"),
        ("host_key_public", "ssh-rsa AAAA x", "not one ssh-ed25519 public key line"),
        ("host_key_private", "secret", "not an OpenSSH private key"),
    ],
)
def test_invalid_values_are_refused(field: str, value: object, problem: str) -> None:
    seed = CloudSeed(**{**SEED.__dict__, field: value})
    with pytest.raises(ConfigError) as exc:
        render_seed(seed)
    assert problem in exc.value.message
    assert exc.value.hint


def test_genisoimage_writes_a_cidata_volume() -> None:
    argv = genisoimage_argv(Path("/s/seed.iso"), [Path("/s/user-data"), Path("/s/meta-data")])
    assert argv[:5] == ["genisoimage", "-output", "/s/seed.iso", "-volid", "cidata"]
    assert argv[-2:] == ["/s/user-data", "/s/meta-data"]
