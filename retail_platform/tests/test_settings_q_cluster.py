"""The django-q2 cluster settings keep a long task from being delivered twice."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def test_retry_stays_above_the_task_timeout() -> None:
    # The ORM broker hands a task out again after `retry` seconds without an acknowledgement.
    assert settings.Q_CLUSTER["retry"] > settings.Q_CLUSTER["timeout"]


def test_timeout_and_retry_follow_q_task_timeout_from_the_environment() -> None:
    code = "from retail_platform.settings.q_cluster import Q_CLUSTER as q; print(q['timeout'], q['retry'])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "Q_TASK_TIMEOUT": "5"},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    timeout, retry = map(int, result.stdout.split())
    assert timeout == 5
    assert retry > timeout


def test_failed_tasks_are_acknowledged_not_retried_for_ever() -> None:
    assert settings.Q_CLUSTER["ack_failures"] is True
    assert settings.Q_CLUSTER["max_attempts"] >= 1


def _q_cluster_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess[str]:
    code = "from retail_platform.settings.q_cluster import Q_CLUSTER as q; print(q['timeout'], q['retry'])"
    return subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, cwd=settings.BASE_DIR
    )


def test_retry_can_be_set_from_the_environment_above_the_timeout() -> None:
    result = _q_cluster_in_a_fresh_process(Q_TASK_TIMEOUT="4", Q_TASK_RETRY="6")
    assert result.stdout.split() == ["4", "6"]


def test_a_retry_not_above_the_timeout_is_refused_at_start_up() -> None:
    result = _q_cluster_in_a_fresh_process(Q_TASK_TIMEOUT="10", Q_TASK_RETRY="10")
    assert result.returncode != 0
    assert "Q_TASK_RETRY (10 s) must be above Q_TASK_TIMEOUT (10 s)" in result.stderr
