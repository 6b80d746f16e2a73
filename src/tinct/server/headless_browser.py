"""The chromium that drives the ``tinct serve`` page headless (browser tests, README screenshot).

Playwright launches Debian's chromium (``apt install chromium``) rather than a browser of its
own download, with these arguments:

- ``--headless``: no window; the machines that run it have no display.
- ``--no-sandbox``: chromium's sandbox needs user namespaces, which containers and root lack.
- ``--disable-gpu``: software rendering; there is no GPU for the browser to use.
- ``--no-first-run``: no first-run setup or welcome page in a fresh profile.
- ``--disable-quic``, ``--disable-background-networking``, ``--disable-component-update``,
  ``--disable-sync``: no traffic of the browser's own (QUIC probes, prefetching, component and
  safe-browsing updates, sync); only the local server is visited and the machine may be offline.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
