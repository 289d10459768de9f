"""The real-host guest: an Ubuntu cloud image booted with a cloud-init NoCloud seed.

``seed`` renders the seed's user-data and meta-data from ``templates/cloud-init``
and builds the ``cidata`` ISO; ``sshkey`` makes the per-campaign key pair the
guest trusts.
"""
