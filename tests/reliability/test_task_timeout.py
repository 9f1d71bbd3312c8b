"""A django-q2 task that runs past its timeout is stopped and stored as failed, with the reason."""

from __future__ import annotations

import time

import pytest
from django_q.models import Failure, Success, Task
from django_q.tasks import async_task

pytestmark = pytest.mark.worker


def _wait_for_task(task_id: str, seconds: float) -> Task:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        task = Task.objects.filter(id=task_id).first()
        if task is not None:
            return task
        time.sleep(0.25)
    raise AssertionError(f"task {task_id} has no result after {seconds} s")


def test_a_task_past_its_timeout_is_reported_failed_with_the_reason(qcluster_worker) -> None:
    started = time.monotonic()
    task_id = async_task("tests.reliability.fault_tasks.sleep_task", 60, timeout=2, task_name="sleeps-too-long")

    task = _wait_for_task(task_id, seconds=40)

    assert task.success is False
    assert "Task exceeded maximum timeout value (2 seconds)" in task.result
    assert Failure.objects.filter(id=task_id).exists()
    assert time.monotonic() - started < 40  # stopped, not left to sleep its 60 s


def test_a_task_within_its_timeout_succeeds(qcluster_worker) -> None:
    task_id = async_task("tests.reliability.fault_tasks.sleep_task", 0.1, timeout=10)
    task = _wait_for_task(task_id, seconds=40)
    assert task.success is True
    assert task.result == "slept 0.1 s"
    assert Success.objects.filter(id=task_id).exists()
