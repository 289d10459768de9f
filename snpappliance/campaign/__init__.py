"""``snpapp campaign``: fresh guest per run, scenarios compared, nothing lost.

The plain functions the CLI calls live here; the pieces are :mod:`.spec`
(TOML → frozen spec), :mod:`.plan` (run order, pure), :mod:`.qemu` (command
lines, pure), :mod:`.boot` (one guest boot), :mod:`.judge` (its verdict),
:mod:`.attempt` (retries and commit), :mod:`.runner` (the loop) and
:mod:`.store` (the campaign directory and its bookkeeping).
"""
