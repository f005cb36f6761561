"""Every job compiles cold (engine.compile_cache): torch.compile's on-disk caches are the job's
own and gone after it, so a compile time never depends on what ran on the machine before."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from engine.compile_cache import INDUCTOR_CACHE_ENV, PREFIX, SHARED_ENV, cold_compile_caches
from engine.presets import load_project_arg
from engine.session import Session


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    """tempfile's folder (and the workers', through TMPDIR) is this test's, and the suite's shared
    compile cache (tests/shared_compile_cache.py) is off, as in the app."""
    monkeypatch.delenv(SHARED_ENV, raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_job_gets_an_empty_folder_of_its_own_that_goes_with_it(temp_dir, monkeypatch):
    monkeypatch.setenv(INDUCTOR_CACHE_ENV, "/users/own/choice")
    with cold_compile_caches() as folder:
        assert os.environ[INDUCTOR_CACHE_ENV] == folder
        assert os.path.dirname(folder) == str(temp_dir) and os.listdir(folder) == []
        assert os.path.basename(folder).startswith(f"{PREFIX}{os.getpid()}-")
        (temp_dir / folder / "fxgraph").mkdir()  # what Inductor writes
    assert not os.path.exists(folder)
    assert os.environ[INDUCTOR_CACHE_ENV] == "/users/own/choice"  # restored


def test_the_folders_of_ended_workers_are_removed_and_live_ones_kept(temp_dir):
    orphan = temp_dir / f"{PREFIX}{_a_dead_pid()}-abc"
    live = temp_dir / f"{PREFIX}{os.getppid()}-def"
    other = temp_dir / "someone-elses"
    for folder in (orphan, live, other):
        (folder / "kernels").mkdir(parents=True)
    with cold_compile_caches():
        pass
    assert sorted(p.name for p in temp_dir.iterdir()) == sorted([live.name, other.name])


def _a_dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_suites_shared_folder_is_kept_and_shared(tmp_path, monkeypatch):
    monkeypatch.setenv(SHARED_ENV, str(tmp_path / "shared"))
    for _ in range(2):
        with cold_compile_caches() as folder:
            assert folder == os.environ[INDUCTOR_CACHE_ENV] == str(tmp_path / "shared")
            (tmp_path / "shared" / "kernel.so").touch()
    assert os.listdir(tmp_path / "shared") == ["kernel.so"]


@pytest.mark.slow
@pytest.mark.fresh_workers  # TMPDIR must reach the workers: they start in this test
def test_a_compiled_run_writes_nothing_to_the_shared_cache(temp_dir):
    """Before, Inductor wrote this model's graphs and kernels to <tmp>/torchinductor_<user>, and
    the next run compiled from them."""
    project = load_project_arg("xor_mlp")
    with Session(project, frameworks=("torch:compile",), epochs=1) as session:
        session.start()
        assert session.wait(300)
        run = session.runs["torch:compile"]
        assert run.status == "finished", run.error
        assert run.compiles and run.compiles[0]["graphs"] >= 1  # it compiled
    # Inductor's shared folder holds at most the C++ compiler's precompiled header (the same for
    # every model: a machine pays it once), no graph or kernel of this model
    shared = [p.name for d in temp_dir.glob("torchinductor_*") for p in d.iterdir()]
    assert shared in ([], ["precompiled_headers"]), shared
    # its own folder is gone, or (if its worker exited the moment the session closed its stdin)
    # left for the next job to remove (test_the_folders_of_ended_workers_are_removed...)
    left = [p.name for p in temp_dir.iterdir() if p.name.startswith(PREFIX)]
    assert all(n.startswith(f"{PREFIX}{run.info['pid']}-") for n in left), left
