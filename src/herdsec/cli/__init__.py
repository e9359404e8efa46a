"""The ``herdsec`` command line."""
