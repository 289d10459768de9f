"""The campaign CLI without booting: init, validate, and refusals before any boot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SnpappRunner, require_program

pytestmark = [pytest.mark.integration]


def flat(text: str) -> str:
    """Terminal output without the console's line wrapping."""
    return " ".join(text.split())


def test_init_writes_a_spec_that_validates(snpapp: SnpappRunner, tmp_path: Path) -> None:
    target = tmp_path / "my.toml"
    code, _out, err = snpapp("campaign", "init", str(target), "--profile", "genoa")
    assert code == 0, err
    assert "policy = 0x30000" in target.read_text(encoding="utf-8")
    code, _out, err = snpapp("campaign", "validate", str(target))
    assert code == 0, err
    assert "valid — 2 scenarios (baseline snp-off), 7 workloads, 20 repetitions = 280 runs" in flat(
        err
    )
    code, _out, err = snpapp("campaign", "init", str(target))
    assert code == 5
    assert "already exists" in flat(err)


def test_validate_names_the_bad_key(snpapp: SnpappRunner, tmp_path: Path) -> None:
    code, text, _err = snpapp("campaign", "init")
    assert code == 0
    spec = tmp_path / "bad.toml"
    spec.write_text(text.replace("vcpus = 2", "vcpu = 2"), encoding="utf-8")
    code, _out, err = snpapp("campaign", "validate", str(spec))
    assert code == 3
    assert "guest.vcpu: unknown key" in flat(err)
    assert "known keys here:" in flat(err)


def test_snp_scenarios_are_refused_on_a_host_without_sev_snp(
    snpapp: SnpappRunner, tmp_path: Path
) -> None:
    if Path("/dev/sev").exists():
        pytest.skip("this host has /dev/sev")
    code, _out, err = snpapp(
        "campaign", "--profile", "genoa", "--host", "local", "--campaigns", str(tmp_path / "c")
    )
    assert code == 12
    # doctor's verdict, with its evidence.
    assert "local is not ready for SEV-SNP" in flat(err)
    assert "/dev/sev and /dev/kvm usable: /dev/sev missing" in flat(err)
    assert not (tmp_path / "c").exists()


def test_a_missing_guest_build_stops_at_once(snpapp: SnpappRunner, tmp_path: Path) -> None:
    # A guest named explicitly is never built behind the user's back.
    require_program("qemu-system-x86_64")
    code, text, _ = snpapp("campaign", "init")
    assert code == 0
    commented = '# artifacts = "artifacts/debian-bookworm/guest"'
    assert commented in text
    spec = tmp_path / "spec.toml"
    spec.write_text(text.replace(commented, f'artifacts = "{tmp_path}/nothing/guest"'))
    code, _out, err = snpapp("campaign", "--spec", str(spec), "--campaigns", str(tmp_path / "c"))
    assert code == 14
    assert "guest manifest" in flat(err)
    assert "snpapp build guest" in flat(err)
    assert not (tmp_path / "c").exists()


def test_resume_of_a_directory_that_is_no_campaign(snpapp: SnpappRunner, tmp_path: Path) -> None:
    code, _out, err = snpapp("campaign", "--resume", str(tmp_path))
    assert code == 14
    assert "is not a campaign directory" in flat(err)
    code, _out, err = snpapp("campaign", "status", "--campaigns", str(tmp_path))
    assert code == 14
    assert "no campaign under" in flat(err)
