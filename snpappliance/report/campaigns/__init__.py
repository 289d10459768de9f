"""``snpapp report A B …``: the SNP overhead of several campaigns, compared."""
