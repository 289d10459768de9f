"""The guests a campaign boots: the minimal guest and the cloud guest."""
