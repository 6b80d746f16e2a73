"""Helpers that several test modules share: make test inputs, run the command line."""
