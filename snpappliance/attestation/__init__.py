"""SEV-SNP attestation: parse a guest's ATTESTATION_REPORT, compute the expected
launch digest with sev-snp-measure, and judge a report against what a run expects."""
