"""The ``jaxgen`` command line."""
