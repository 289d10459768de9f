"""PTS macro smoke runs: spec, plan placement, guest command, seed packages, verdict (pure)."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

import pytest

from snpappliance.campaign import store
from snpappliance.campaign.attempt import run_limits
from snpappliance.campaign.boot import BootRecord, Outcome
from snpappliance.campaign.guests.cloud.guestssh import guest_script
from snpappliance.campaign.guests.cloud.seed import DEFAULT_PACKAGES, CloudSeed, render_seed
from snpappliance.campaign.judge import judge_boot
from snpappliance.campaign.plan import PlannedRun, plan_runs, with_smoke
from snpappliance.campaign.ptsguest import (
    COMPOSITE_MARKER,
    PTS_PACKAGES,
    pts_argv,
    pts_env,
    pts_script,
)
from snpappliance.campaign.scripts import guest_packages, workload_script
from snpappliance.campaign.spec import Order, PtsSmoke, parse_spec
from snpappliance.campaign.specdump import dump_spec
from snpappliance.errors import ConfigError, ParseError
from snpappliance.formats.campaigndir import CampaignDir
from snpappliance.formats.smoke import SmokeStatus, append_smoke, load_smoke, smoke_rows
from snpappliance.workloads.pts import parse_composite_file
from tests.factories import run_kind

FIXTURES = Path(__file__).parent.parent / "fixtures" / "pts"
SPEC = """
[campaign]
name = "t"
repetitions = 3
order = "{order}"
seed = 11
[guest]
{guest}
[[scenarios]]
name = "off"
kind = "snp-layout"
baseline = true
[[scenarios]]
name = "on"
kind = "snp-layout"
[workloads.sysbench-cpu]
[workloads.sysbench-memory]
[workloads.pts]
iterations = 5
"""
PRIVATE = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n"
CLOUD = 'kind = "cloud"\nimage = "/srv/noble.img"'


def spec_text(order: str = "interleaved", guest: str = CLOUD) -> str:
    return SPEC.format(order=order, guest=guest)


def smoke_plan(order: str) -> tuple[PlannedRun, ...]:
    return plan_runs(parse_spec(spec_text(order), source="s"), seed=11)


def test_cloud_guest_accepts_pts_and_the_dump_reads_back() -> None:
    spec = parse_spec(spec_text(), source="s")
    pts = spec.workload("pts")
    assert pts == PtsSmoke(iterations=5)
    assert pts not in spec.statistical_workloads
    assert parse_spec(dump_spec(spec), source="dump") == spec


def test_minimal_guest_still_refuses_pts_with_the_clear_message() -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec(spec_text(guest=""), source="s")
    assert "workloads.pts: the Phoronix smoke tests are unsupported on the minimal guest" in str(
        info.value.message
    )
    assert info.value.hint is not None
    assert "kind = 'cloud'" in info.value.hint


def test_pts_alone_is_refused() -> None:
    text = spec_text().replace("[workloads.sysbench-cpu]\n[workloads.sysbench-memory]\n", "")
    with pytest.raises(ConfigError, match="none is declared"):
        parse_spec(text, source="s")


@pytest.mark.parametrize("order", ["interleaved", "sequential"])
def test_one_smoke_run_per_scenario_right_after_its_last_sysbench_run(order: str) -> None:
    plan = smoke_plan(order)
    smoke = [i for i, r in enumerate(plan) if r.workload == "pts"]
    assert [(plan[i].scenario, plan[i].rep) for i in smoke] in (
        [("off", 1), ("on", 1)],
        [("on", 1), ("off", 1)],
    )
    for i in smoke:
        scenario = plan[i].scenario
        assert plan[i - 1].scenario == scenario
        assert plan[i - 1].workload != "pts"
        assert all(r.scenario != scenario or r.workload == "pts" for r in plan[i + 1 :])
    assert len(plan) == 2 * 2 * 3 + 2
    assert [r.index for r in plan] == list(range(1, len(plan) + 1))
    assert len({r.run_id for r in plan}) == len(plan)


def test_sequential_smoke_ends_each_scenario_block() -> None:
    plan = smoke_plan("sequential")
    assert plan[6] == PlannedRun(7, "off", "pts", 1)
    assert plan[-1] == PlannedRun(14, "on", "pts", 1)


def test_statistical_order_is_unchanged_by_the_smoke_runs() -> None:
    spec = parse_spec(spec_text(), source="s")
    without = replace(spec, workloads=spec.statistical_workloads)
    for order in Order:
        with_pts = plan_runs(replace(spec, order=order), seed=11)
        plain = plan_runs(replace(without, order=order), seed=11)
        stat = [(r.scenario, r.workload, r.rep) for r in with_pts if r.workload != "pts"]
        assert stat == [(r.scenario, r.workload, r.rep) for r in plain]


def test_every_host_gets_its_own_smoke_runs() -> None:
    spec = parse_spec(spec_text(), source="s")
    plan = plan_runs(spec, seed=11, hosts=["genoa01", "genoa02"])
    smoke = [(r.host, r.scenario) for r in plan if r.workload == "pts"]
    assert sorted(smoke) == [
        ("genoa01", "off"),
        ("genoa01", "on"),
        ("genoa02", "off"),
        ("genoa02", "on"),
    ]


def test_with_smoke_is_pure() -> None:
    order = [("a", "cpu", 1), ("b", "cpu", 1), ("a", "mem", 1)]
    assert with_smoke(order, "pts") == [
        ("a", "cpu", 1),
        ("b", "cpu", 1),
        ("b", "pts", 1),
        ("a", "mem", 1),
        ("a", "pts", 1),
    ]


def test_batch_run_command_and_environment() -> None:
    pts = PtsSmoke(iterations=5)
    assert pts_argv(pts, "batch-run") == [
        "phoronix-test-suite",
        "batch-run",
        "pts/compress-7zip",
        "pts/openssl",
        "pts/c-ray",
    ]
    env = pts_env(pts)
    assert env["FORCE_TIMES_TO_RUN"] == "5"
    assert env["TEST_RESULTS_NAME"] == "snpapp-smoke"
    assert env["TEST_RESULTS_IDENTIFIER"] == "snpapp"


def test_guest_script_configures_batch_mode_and_prints_composite_xml() -> None:
    pts = PtsSmoke(tests=("c-ray",), iterations=3)
    script = pts_script(pts)
    lines = script.splitlines()
    assert lines[0] == "yes | phoronix-test-suite enterprise-setup >/dev/null"
    assert "phoronix-test-suite batch-install pts/c-ray </dev/null || exit $?" in lines
    run = next(line for line in lines if "batch-run" in line)
    assert shlex.split(run)[:5] == [
        "env",
        "TEST_RESULTS_NAME=snpapp-smoke",
        "TEST_RESULTS_IDENTIFIER=snpapp",
        "TEST_RESULTS_DESCRIPTION=snpapp macro smoke test",
        "FORCE_TIMES_TO_RUN=3",
    ]
    for setting in (
        "<PromptSaveName>FALSE</PromptSaveName>",
        "<UploadResults>FALSE</UploadResults>",
        "<Configured>TRUE</Configured>",
        "<DynamicRunCount>FALSE</DynamicRunCount>",
    ):
        assert setting in script
    assert f"echo {COMPOSITE_MARKER}" in script
    assert '"$HOME/.phoronix-test-suite/test-results/snpapp-smoke/composite.xml"' in script
    assert workload_script(pts, vcpus=8) == script
    wrapped = guest_script("r0007-off-pts-1", pts, vcpus=8, watchdog_s=7200)
    assert f"timeout 7200 sh -c {shlex.quote(script)} 2>&1" in wrapped


def test_seed_packages_only_when_pts_is_declared() -> None:
    spec = parse_spec(spec_text(), source="s")
    assert guest_packages(spec) == PTS_PACKAGES
    assert "phoronix-test-suite" in PTS_PACKAGES
    assert "php-cli" in PTS_PACKAGES
    assert guest_packages(replace(spec, workloads=spec.statistical_workloads)) == ()


def test_smoke_run_has_its_own_watchdog() -> None:
    spec = parse_spec(spec_text(), source="s")
    t = spec.timeouts
    smoke = run_limits(spec, PlannedRun(7, "off", "pts", 1))
    assert smoke.hard_s == t.boot_s + 7200 + t.grace_s
    assert run_limits(spec, PlannedRun(1, "off", "sysbench-cpu", 1)).hard_s == t.hard_deadline_s


def console(payload: str, rc: int = 0) -> BootRecord:
    text = (
        "SNPGUEST-INIT id=r7 uptime=3.9 nproc=8 mem_kb=1000\n"
        "SNPGUEST-EVIDENCE none\n"
        "===SNP-BEGIN id=r7 src=ssh uptime=4.0===\n"
        f"{payload}"
        f"===SNP-END id=r7 rc={rc} uptime=900.1===\n"
    )
    return BootRecord(text, Outcome.EXITED, 0, 1.0, 2.0, 8.0, 8.1)


def test_verdict_carries_the_smoke_results() -> None:
    xml = (FIXTURES / "smoke-failed.xml").read_text(encoding="utf-8")
    record = console(f"PTS output\n{COMPOSITE_MARKER}\n{xml}")
    verdict = judge_boot(record, run_id="r7", kind=run_kind("pts"), expects_snp=False, log="r7.log")
    assert verdict.status == "ok"
    assert verdict.measurements == ()
    assert [r.status for r in verdict.smoke] == [
        SmokeStatus.OK,
        SmokeStatus.FAILED,
        SmokeStatus.OK,
    ]
    assert verdict.smoke[0].raw == (990.0, 1010.0, 1000.0, 995.0, 1005.0)


def test_smoke_run_without_composite_xml_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="printed no"):
        judge_boot(
            console("no result saved\n"),
            run_id="r7",
            kind=run_kind("pts"),
            expects_snp=False,
            log="l",
        )


def test_resume_drops_smoke_rows_of_uncommitted_runs(tmp_path: Path) -> None:
    cdir = CampaignDir(tmp_path / "c")
    result = parse_composite_file(FIXTURES / "smoke-ok.xml")
    append_smoke(cdir.smoke, smoke_rows(result, scenario="off", host="h", run_id="r7"))
    append_smoke(cdir.smoke, smoke_rows(result, scenario="on", host="h", run_id="r14"))
    store.append_record(cdir.attempts, {"record": store.RECORD_RUN, "run_id": "r7"})
    assert store.prune_uncommitted(cdir) == 3
    assert {r.run_id for r in load_smoke(cdir.smoke)} == {"r7"}


def test_seed_installs_the_pts_packages() -> None:
    seed = CloudSeed(
        hostname="snpapp-guest",
        instance_id="c1",
        ssh_public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB5k k",
        host_key_private=PRIVATE,
        host_key_public="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost h",
        packages=(*DEFAULT_PACKAGES, *PTS_PACKAGES),
    )
    lines = render_seed(seed)["user-data"].splitlines()
    start = lines.index("packages:")
    assert lines[start + 1 : start + 8] == [
        "  - sysbench",
        "  - time",
        "  - phoronix-test-suite",
        "  - php-cli",
        "  - php-xml",
        "  - build-essential",
        "  - unzip",
    ]
