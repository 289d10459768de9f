"""One host interface for running commands and moving files, locally or over SSH.

The campaign runner, ``deploy`` and ``doctor`` talk to a :class:`~.base.Host` and
never care which transport is behind it (:mod:`.local`, :mod:`.ssh`);
:func:`~.connect.connect` picks one by name. Arguments are always passed as argv
lists; implementations that go through a shell quote every one of them.
"""
