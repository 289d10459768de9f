"""``snpapp build``: pinned toolchain images and checksummed artefacts.

:mod:`.commands` holds what the CLI calls (``build_components``, ``build_base``);
:mod:`.plan` plans a build (pure), :mod:`.execute` carries it out, one
:mod:`.component` at a time in its container (:mod:`.docker_engine`), from
:mod:`.sources` and :mod:`.patches`; :mod:`.pincheck` asks whether the pins are
still served.
"""
