"""The ``tinct`` command line: one module per sub-command, wired in :mod:`tinct.cli.main`."""
