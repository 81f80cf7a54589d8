"""Settings for every test run (tests/ and benchmarks/)."""

import os

import pytest

# A kernel bug that loops forever must fail the run, not hang CI (the first test of a
# session may compile every kernel: about 30 s on two cores).
TIMEOUT_S = 900


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Give every test a 900 s timeout when pytest-timeout is installed (the test extras
    install it), unless --timeout or PYTEST_TIMEOUT says otherwise. Set here rather than
    as an ini option, which a pytest without the plugin rejects as unknown (with
    filterwarnings = error, the whole run stops before collecting)."""
    if not config.pluginmanager.hasplugin("timeout"):
        return
    if config.getoption("timeout", None) is None and not os.environ.get("PYTEST_TIMEOUT"):
        config.option.timeout = TIMEOUT_S
