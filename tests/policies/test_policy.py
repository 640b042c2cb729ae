"""The policy file: defaults as the Measures require, malformed files refused clearly."""

from __future__ import annotations

import pytest

from policies import PolicyError, load_policy


def test_default_policy_matches_the_measures():
    policy = load_policy()
    assert policy.review_working_days == 10
    assert policy.max_grant_years == 5 and policy.max_grant_months == 60
    assert policy.retention_years == 5
    assert policy.overdue_action in ("deemed_approved", "escalate")
    assert sorted(policy.levels) == ["L1", "L2", "L3", "L4"]
    assert policy.level("L3").reviewers == 2 and policy.level("L1").reviewers == 1


@pytest.mark.parametrize("edit,message", [
    (("retention_years = 5", "retention_years = 3"), "may not be shorter than 5 years"),
    (("max_grant_years = 5", "max_grant_years = 6"), "may not exceed 5 years"),
    (('overdue_action = "deemed_approved"', 'overdue_action = "ignore"'), "overdue_action"),
    (("review_working_days = 10", "review_working_days = -1"), "positive whole number"),
    (("[ledger]", "[ledger"), "not valid TOML"),
    (("extra_holidays = []", 'extra_holidays = ["2027-13-01"]'), "ISO dates"),
    (("L4 = {", "L5 = {"), "exactly the levels"),
    (('sweep_cron = "* * * * *"', 'sweep_cron = "every minute"'), "workers.sweep_cron"),
    (('recover_cron = "* * * * * */15"', 'recover_cron = "* * * 13 *"'), "workers.recover_cron"),
    (("task_retries = 3", "task_retries = 0"), "workers.task_retries"),
    (("job_nice = 10", "job_nice = 20"), "sandbox.job_nice"),
    (("job_nice = 10", "job_nice = -5"), "sandbox.job_nice"),
])
def test_malformed_policies_are_refused(tmp_path, edit, message):
    from policies import default_policy_text
    path = tmp_path / "policy.toml"
    old, new = edit
    assert old in default_policy_text()
    path.write_text(default_policy_text().replace(old, new, 1))
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_a_missing_setting_is_named(tmp_path):
    from policies import default_policy_text
    path = tmp_path / "policy.toml"
    path.write_text(default_policy_text().replace("retention_years = 5\n", ""))
    with pytest.raises(PolicyError, match="lacks the setting 'retention_years'"):
        load_policy(path)
