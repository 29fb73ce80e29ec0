"""The ``landpatrol`` command line: one module a command group, shared options in ``options``."""
