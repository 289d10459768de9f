"""``snpapp doctor``: is a host ready to run SEV-SNP guests with the deployed release?

:func:`run_doctor` gathers one :class:`~snpappliance.doctor.facts.HostFacts`
snapshot through the :class:`~snpappliance.hosts.Host` interface and runs every
check on it; the campaign calls it before SNP scenarios and refuses a host
whose report is not ``ok``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from snpappliance.doctor.checks import ALL_SNP_CHECKS, Check, Status
from snpappliance.doctor.diagnosis import diagnose
from snpappliance.doctor.facts import HostFacts, facts_from_tree, gather
from snpappliance.doctor.release_checks import RELEASE_CHECKS
from snpappliance.doctor.report import DoctorReport
from snpappliance.formats.release import DEFAULT_PREFIX

if TYPE_CHECKING:
    from snpappliance.hosts.base import Host

__all__ = [
    "Check",
    "DoctorReport",
    "HostFacts",
    "Status",
    "evaluate",
    "facts_from_tree",
    "run_doctor",
]


def evaluate(host_name: str, facts: HostFacts) -> DoctorReport:
    """Run every check on ``facts`` (pure)."""
    checks = tuple(check(facts) for check in (*ALL_SNP_CHECKS, *RELEASE_CHECKS))
    named = tuple(replace(c, hint=c.hint.replace("<host>", host_name)) for c in checks)
    return DoctorReport(host_name, named, facts.release, diagnose(facts))


def run_doctor(host: Host, *, prefix: str = DEFAULT_PREFIX) -> DoctorReport:
    """Gather the facts of ``host`` (release under ``prefix``) and check them."""
    return evaluate(host.name, gather(host, prefix))
