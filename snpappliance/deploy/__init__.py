"""``snpapp deploy``: install a built release on a host, atomically and verifiably.

:mod:`.commands` holds ``deploy`` and ``rollback``: the stack's artefacts are read
and verified locally (:mod:`.artifacts`), the deploy is planned (:mod:`.plan`,
pure) and carried out through the host interface (:mod:`.execute`,
:mod:`.system`, :mod:`.reboot`, :mod:`.rollback`).
"""
