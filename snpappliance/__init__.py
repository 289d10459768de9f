"""snpapp: build, deploy, benchmark and report on AMD SEV-SNP confidential VMs."""

__version__ = "0.1.0"
