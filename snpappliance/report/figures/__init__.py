"""The report's figures: pure plots, their shared style, and their rendering."""
