"""The real-host guest: an Ubuntu cloud image booted with a cloud-init NoCloud seed.

``seed`` renders user-data and meta-data from ``templates/cloud-init`` and builds
the ``cidata`` ISO; ``sshkey`` makes the campaign's client and guest host key
pairs; ``image`` fetches and checks the base image and makes each run's
overlay; ``qemuargs`` adds the disk, seed and forwarded-SSH devices to the
scenario's machine; ``guestssh`` builds the ssh commands and the guest script;
``assets`` places all of it on the host; ``run`` boots one guest and runs one
workload in it.
"""
