import pytest

from omnivec2.process_pool import run_in_processes


def square(x: int) -> int:
    return x * x


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is refused")
    return x


def test_every_result_reaches_on_done_under_its_key():
    results = {}
    run_in_processes([(f"job {x}", square, (x,)) for x in range(5)], 2, results.__setitem__, lambda key: key)
    assert results == {f"job {x}": x * x for x in range(5)}


def test_a_failing_job_is_raised_by_name_with_its_error_as_the_cause():
    results = {}
    with pytest.raises(RuntimeError, match="job 3 failed") as raised:
        # one worker: the jobs run in order, so those before the failure have been handed on
        run_in_processes([(f"job {x}", fail_on_three, (x,)) for x in range(6)], 1, results.__setitem__,
                         lambda key: f"{key} failed")
    assert isinstance(raised.value.__cause__, ValueError) and "three is refused" in str(raised.value.__cause__)
    assert {"job 0", "job 1", "job 2"} <= set(results) and "job 3" not in results


def test_no_jobs_start_no_processes():
    run_in_processes([], 2, lambda key, result: pytest.fail("nothing ran"), lambda key: key)
