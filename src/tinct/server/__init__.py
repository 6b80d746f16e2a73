"""``tinct serve``: the HTTP API and the web page for guided colorization.

:func:`tinct.server.app.create_app` builds the app around a loaded colorizer;
:class:`tinct.server.background.BackgroundServer` runs it on a free port in a thread (tests,
benchmarks, screenshots). Nothing is imported or started at import time.
"""
