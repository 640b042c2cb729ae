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
    (("qualification_notice_days = 5", "qualification_notice_days = 4"), r"under 5 \(Art. 20\)"),
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
    (("name_length = 200", "name_length = 300"), "text.name_length"),
    (("[text]", "[txt]"), r"no table \[txt\]"),
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


def test_the_default_file_states_exactly_the_models_defaults():
    import tomllib

    from policies import default_policy_text
    from policies.sections import SECTIONS

    raw = tomllib.loads(default_policy_text())
    for section in SECTIONS:
        table = raw
        for part in section.NAME.split("."):
            table = table[part]
        stated = {k: v for k, v in table.items() if k not in section.SUBSECTIONS}
        assert set(stated) == set(section.names()), section.NAME
        for f in section.settings():
            default = list(f.default) if isinstance(f.default, tuple) else f.default
            assert stated[f.name] == default, (section.NAME, f.name)


def test_absent_optional_settings_take_the_models_defaults(tmp_path):
    from policies import default_policy_text

    path = tmp_path / "policy.toml"
    path.write_text(default_policy_text().replace("pool_size = 2 ", "# removed "))
    policy = load_policy(path)
    assert policy.sandbox.pool_size == 2 and dict(policy.sandbox)["pool_size"] == 2


def test_an_unknown_setting_is_refused(tmp_path):
    from policies import default_policy_text

    path = tmp_path / "policy.toml"
    path.write_text(default_policy_text().replace("[ledger]\n", "[ledger]\nretention_yeras = 9\n"))
    with pytest.raises(PolicyError, match=r"\[ledger\] has no setting 'retention_yeras'"):
        load_policy(path)


def test_a_changed_setting_is_checked_again():
    policy = load_policy()
    assert policy.changed("api", token_days=7).api.token_days == 7
    with pytest.raises(PolicyError, match="lease_seconds must be longer"):
        policy.changed("sandbox", lease_seconds=1)


def test_the_policy_reference_is_current():
    from policies.docs import reference, target

    assert target().read_text(encoding="utf-8") == reference(), \
        "docs/policy.md is out of date: run `python -m policies.docs`"


def test_a_name_limit_fits_the_columns_it_fills():
    """A policy may shorten a name but never allow one longer than its column holds."""
    from catalog.models import Application, Dataset
    from egress.models import EgressRequest
    from policies.sections import Catalog, Text
    fields = {f.name: f for f in (*Text.settings(), *Catalog.settings())}
    for setting, columns in (("name_length", (Application.scenario, EgressRequest.product)),
                             ("max_title_length", (Dataset.title,)),
                             ("max_name_length", (Dataset.name,))):
        widest = fields[setting].metadata["maximum"] or fields[setting].default
        for column in columns:
            assert widest <= column.property.columns[0].type.length, (setting, column)


def test_the_text_limits_bound_what_people_write(home, people, visits_file):
    from catalog import applications
    from tests.conftest import register
    from tests.helpers import refused, set_policy
    register(home, people.provider, visits_file)
    set_policy(home, long_length="40", name_length="8")
    request = applications.Request("门诊分析", "按区统计门诊量" * 6, "卫生规划", "统计表", 6, False,
                                   [{"dataset": "visits", "columns": ["district"],
                                     "raw_columns": []}])
    with refused(home, "scenario description is longer than 40 characters", "invalid"), \
            home.store.transaction() as s:
        applications.submit(s, people.merchant, home.policy, request)
    with refused(home, "scenario name is longer than 8 characters", "invalid"), \
            home.store.transaction() as s:
        applications.submit(s, people.merchant, home.policy, applications.Request(
            "门诊分析门诊分析门诊分析", "短", "卫生规划", "统计表", 6, False, request.items))
