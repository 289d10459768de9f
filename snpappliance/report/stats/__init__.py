"""The statistics of ``snpapp report``, defined so that R reproduces them."""
