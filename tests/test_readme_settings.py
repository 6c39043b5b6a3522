"""The README's Configuration table is the one list of environment variables (docs/operations.md
links to it): every variable tradingbot/settings.py reads has a row there."""

import re

from tests.limiter_harness import ROOT


def test_every_variable_the_settings_read_is_in_the_readme_table():
    source = (ROOT / "tradingbot" / "settings.py").read_text()
    read = set(re.findall(r'(?:env_\w+\(|environ\.get\(|environ\[)"([A-Z][A-Z0-9_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]
    assert len(read) > 20
    assert sorted(v for v in read if f"`{v}`" not in table) == []
