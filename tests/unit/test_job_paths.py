"""Every job Baton enqueues by dotted path exists, and the worker's preload covers every job module."""

from __future__ import annotations

import importlib

import pytest

from workers.api import EMBED_PENDING_JOB, JOBS, RECONCILE_JOB, job_modules

PATHS = sorted({path for _queue, path in JOBS.values()} | {RECONCILE_JOB, EMBED_PENDING_JOB})


@pytest.mark.parametrize("path", PATHS)
def test_every_job_path_names_a_function(path):
    module, _, name = path.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))


def test_the_preload_covers_every_job_module():
    assert set(job_modules()) == {path.rpartition(".")[0] for path in PATHS}
