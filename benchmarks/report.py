"""What the benchmark reports share: the one-line description of the machine each starts with,
and writing a report as ``NAME.json`` (the record) beside ``NAME.md`` (its table).

Benchmarks import it as ``from report import ...`` (a script's own folder is on ``sys.path``
when it runs as ``python benchmarks/NAME.py``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch


def cpu_name() -> str:
    """The CPU's model name, e.g. ``AMD EPYC 7B13``, else the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(*extra: str) -> str:
    """CPU, cores, load average now, torch and its threads, OS, GPU; then ``extra`` parts.

    The load average is part of it because on a shared 2-core machine other work changes
    timings more than anything else.
    """
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    parts = [
        f"{cpu_name()} ({platform.machine()}), {os.cpu_count()} cores",
        f"load average {os.getloadavg()[0]:.1f}",
        f"torch {torch.__version__} with {torch.get_num_threads()} threads",
        *extra,
        f"{platform.system()} {platform.release()}",
        gpu,
    ]
    return ", ".join(parts)


def timed_in_turns(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each run, timed in turns after one warm-up of each."""
    for run in runs.values():
        run()
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in timings.items()}


def environment_with_src(src: Path | None) -> dict[str, str]:
    """This process's environment, with ``src`` (another checkout's ``src``) first on
    ``PYTHONPATH`` when given: a child process then imports that checkout's tinct."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    return env


def report_header(title: str, machine: str, command: str) -> list[str]:
    """The first lines of a Markdown report: its title, the machine and the command run."""
    return [f"# {title}", "", f"Machine: {machine}  ", f"Command: `{command}`", ""]


def write_report(stem: Path, record: dict, table: str) -> None:
    """Write ``stem.json`` and ``stem.md`` (creating the folder) and print the table."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(table)
    print(table)


# Python source for a child process's own peak RSS in MB. Linux keeps ru_maxrss across fork and
# exec, so getrusage in a child reports at least its parent's peak; VmHWM is the new process's.
PEAK_RSS_MB_SOURCE = """
def peak_rss_mb():
    import resource
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
