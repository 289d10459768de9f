"""``snpapp build``: pinned toolchain images and checksummed artefacts.

The plain functions other parts of snpapp (and their tests) call:

* :func:`build_components` builds components of a stack and returns one
  :class:`BuildResult` per component (raising :class:`BuildError` after the
  summary if any failed);
* :func:`build_base` makes sure the stack's base image exists;
* :func:`artifacts_dir` is where a component's artefacts and manifest live.
"""
