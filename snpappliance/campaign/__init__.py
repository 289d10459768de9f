"""``snpapp campaign``: fresh guest per run, scenarios compared, nothing lost.

:mod:`.commands` holds what the CLI calls. The pieces: the spec (:mod:`.specmodel`,
:mod:`.specload`, :mod:`.specdump`), :mod:`.plan` (run order, pure), :mod:`.qemu`
(command lines, pure), :mod:`.prepare` (preconditions and environment), the
guests behind one interface (:mod:`.guests`), :mod:`.boot` (one boot),
:mod:`.judge` (its verdict), :mod:`.attempt` (retries and commit),
:mod:`.runner` and :mod:`.workers` (the loop), :mod:`.lock` and :mod:`.store`
(the campaign directory's lock and bookkeeping).
"""
