"""``snpapp report``: statistics, figures and a PDF from a results file or campaign."""
