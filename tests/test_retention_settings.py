"""RETENTION_DAYS and the windows that read the history are checked at start-up: a bad value stops
it with one line naming the variable (docs/operations.md, "Data lifecycle")."""

import pytest

from tests.test_settings import manage_check


@pytest.mark.parametrize(
    "env, message",
    [
        ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS must be a whole number of days, at least 1"),
        ({"RETENTION_DAYS": "ninety"}, "RETENTION_DAYS must be an integer"),
        ({"RETENTION_DAYS": "7", "EFFECTIVENESS_WINDOW_DAYS": "30"}, "must not exceed RETENTION_DAYS (7)"),
        ({"PRUNE_BATCH_SIZE": "0"}, "PRUNE_BATCH_SIZE must be at least 1"),
    ],
)
def test_a_bad_retention_setting_stops_start_up_with_one_line(tmp_path, env, message):
    done = manage_check(tmp_path, **env)
    line = done.stderr.strip()
    assert done.returncode != 0 and line.startswith("Configuration error: ") and "\n" not in line
    assert message in line
