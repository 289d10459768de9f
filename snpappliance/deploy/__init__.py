"""``snpapp deploy``: install a built release on a host, atomically and verifiably.

:func:`deploy` reads and verifies the stack's artefacts locally, plans the
deploy (:func:`~snpappliance.deploy.plan.plan_deploy`, pure), then carries it
out through the :class:`~snpappliance.hosts.Host` interface. :func:`rollback`
returns ``current`` to the previous release and makes its kernel the boot default.
"""
