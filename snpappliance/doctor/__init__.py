"""``snpapp doctor``: is a host ready to run SEV-SNP guests, and if not, why not?

:mod:`.run` gathers the facts of a host (:mod:`.facts`, or captured output via
:mod:`.capture` and :mod:`.collect`) and runs every check (:mod:`.checks`,
:mod:`.release_checks`) on them; :mod:`.kernel_log` and :mod:`.diagnosis` name
the causes; :mod:`.report` is the verdict. Deploy and the campaign call it.
"""
