"""`tinct colorize --engine ray` on a real local Ray instance (and a two-node one): the same
outputs as the local engine, and nothing lost or duplicated when a worker or the driver is
killed. Each test starts Ray, which takes seconds, so they are marked slow."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinct.cli.main import main

ray = pytest.importorskip("ray", reason="needs Ray: pip install 'tinct[ray]'")

pytestmark = pytest.mark.slow

PHOTOS = 80  # enough that a kill after the second photo lands mid-run on a fast CPU too
RUN_TIMEOUT = 300  # seconds: Ray's start on a busy 2-core machine, then the photos


def _photo(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    small = Image.fromarray((rng.random((6, 8)) * 255).astype(np.uint8))
    small.resize((320, 240), Image.BILINEAR).save(path)


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PHOTOS gray photos and one file that is not an image."""
    folder = tmp_path_factory.mktemp("photos")
    for index in range(PHOTOS):
        _photo(folder / f"p{index:02d}.png", index)
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    return folder


@pytest.fixture(scope="module")
def local_results(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local engine's outputs for ``photos``: what every Ray run must match."""
    out = tmp_path_factory.mktemp("local") / "out"
    assert main(["colorize", str(photos), "-o", str(out)]) == 1  # the broken file fails
    return out


def _python(*arguments: str) -> subprocess.Popen[str]:
    """``python ARGUMENTS`` in a child process of its own session (so its leftovers can be
    stopped), with stdout and stderr captured as text."""
    return subprocess.Popen(
        [sys.executable, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _tinct(*arguments: str) -> subprocess.Popen[str]:
    """``tinct ARGUMENTS`` as :func:`_python` runs it."""
    return _python("-m", "tinct", *arguments)


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        _stop_session(process.pid)
    return process.returncode, out, err


def _stop_session(session: int) -> None:
    """Kill whatever the child's session left running (a local Ray's processes)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(session, signal.SIGKILL)


def _assert_same_as_local(out: Path, local: Path) -> None:
    names = sorted(path.name for path in local.glob("*.png"))
    assert sorted(path.name for path in out.glob("*.png")) == names
    assert not [path for path in out.iterdir() if path.name.startswith(".")]  # no temp files
    for name in names:
        ours = np.asarray(Image.open(out / name), dtype=np.int16)
        theirs = np.asarray(Image.open(local / name), dtype=np.int16)
        assert np.abs(ours - theirs).max() <= 1, name


def _wait_for_outputs(out: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    while len(list(out.glob("*.png"))) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no outputs appeared"
        time.sleep(0.05)


def _actor_pids() -> list[int]:
    """Processes whose title names tinct's Ray actor (Ray titles them ``ray::CLASS...``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if entry.name.isdigit() and b"PhotoFileBatches" in title and b"ray::" in title:
            pids.append(int(entry.name))
    return pids


def test_ray_gives_the_local_engines_outputs_and_failures(
    photos: Path, local_results: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = _finish(
        _tinct("colorize", str(photos), "-o", str(out), "--engine", "ray", "--workers", "2")
    )
    assert code == 1, stderr  # the broken file, and only it, failed
    assert "broken.jpg" in stderr and stdout.count(" -> ") == PHOTOS
    _assert_same_as_local(out, local_results)
    failures = (out / "failures.jsonl").read_text().splitlines()
    assert len(failures) == 1 and "broken.jpg" in failures[0]


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(
    photos: Path, local_results: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    process = _tinct("colorize", str(photos), "-o", str(out), "--engine", "ray", "--workers", "2")
    try:
        _wait_for_outputs(out, 2, process)
        victims = _actor_pids()
        assert victims, "no tinct actor found"
        os.kill(victims[0], signal.SIGKILL)
    finally:
        code, stdout, stderr = _finish(process)
    assert code == 1, stderr  # the broken file, and only it, failed: the killed batch was retried
    assert stdout.count(" -> ") == PHOTOS
    _assert_same_as_local(out, local_results)


def test_a_killed_driver_is_finished_by_a_rerun(
    photos: Path, local_results: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    command = ("colorize", str(photos), "-o", str(out), "--engine", "ray", "--workers", "2")
    first = _tinct(*command)
    try:
        _wait_for_outputs(out, 2, first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        _stop_session(first.pid)
    done = len(list(out.glob("*.png")))
    assert done < PHOTOS, "the run ended before it was killed; make it longer"
    code, stdout, stderr = _finish(_tinct(*command, "--skip-existing"))
    assert code == 1, stderr
    assert "skipping" in stderr  # what the killed run finished is not redone
    _assert_same_as_local(out, local_results)


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[str]:
    """A Ray cluster of two nodes of one CPU each on this machine; its address."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        yield cluster.address
    finally:
        cluster.shutdown()


def test_one_command_spreads_over_two_nodes(
    two_nodes: str, photos: Path, local_results: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, _, stderr = _finish(
        _tinct(
            "colorize",
            str(photos),
            "-o",
            str(out),
            "--engine",
            "ray",
            "--ray-address",
            two_nodes,
            "--workers",
            "2",
        )
    )
    assert code == 1, stderr
    shares = next(line for line in stderr.splitlines() if "photos per node" in line)
    assert shares.count(",") == 1, shares  # two nodes did work
    _assert_same_as_local(out, local_results)


def test_the_batch_callable_runs_in_ray_data(two_nodes: str, tmp_path: Path) -> None:
    import tinct

    out = tmp_path / "rows.npz"
    driver = Path(__file__).parent / "helpers" / "ray_data_driver.py"
    code, _, stderr = _finish(_python(str(driver), two_nodes, str(out)))
    assert code == 0, stderr
    arrays = np.load(out)
    colorizer = tinct.load(backend="torch")
    for index in range(4):  # ±1: the actor runs on fewer threads
        image, colour = arrays[f"image_{index}"], arrays[f"colorized_{index}"]
        difference = colour.astype(np.int16) - colorizer(image).astype(np.int16)
        assert np.abs(difference).max() <= 1


def test_videos_run_one_task_each_with_the_local_engines_results(tmp_path: Path) -> None:
    from .helpers.video import decoded, make_clip

    clips = tmp_path / "clips"
    for index in range(2):
        make_clip(clips / f"c{index}.mp4", frames=6, size=(64, 48))
    (clips / "broken.mp4").write_bytes(b"not a video")
    fast = ("--working-side", "64")
    local, spread = tmp_path / "local", tmp_path / "ray"
    assert main(["video", str(clips), "-o", str(local), *fast]) == 1
    code, stdout, stderr = _finish(
        _tinct("video", str(clips), "-o", str(spread), *fast, "--engine", "ray", "--workers", "2")
    )
    assert code == 1 and "broken.mp4" in stderr, stderr
    assert stdout.count(" -> ") == 2
    for name in ("c0.mp4", "c1.mp4"):  # the same frames, up to encoding a ±1 chroma change
        ours, theirs = decoded(spread / name), decoded(local / name)
        assert len(ours) == len(theirs) == 6
        for mine, reference in zip(ours, theirs, strict=True):
            difference = mine.to_ndarray(format="rgb24").astype(np.int16) - reference.to_ndarray(
                format="rgb24"
            )
            assert np.abs(difference).mean() < 1.0, name
