"""``snpapp import``: raw benchmark logs brought into the long results format."""
