"""``snpapp doctor``: is a host ready to run SEV-SNP guests with the deployed release?

:func:`run_doctor` gathers one :class:`~snpappliance.doctor.facts.HostFacts`
snapshot through the :class:`~snpappliance.hosts.Host` interface and runs every
check on it; the campaign calls it before SNP scenarios and refuses a host
whose report is not ``ok``.
"""
