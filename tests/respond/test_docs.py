"""docs/playbooks.md names every action, setting and shipped playbook the code has."""

from pathlib import Path

from storewatch.respond import http
from storewatch.respond.adapters import ADAPTERS, OPERATIONS
from storewatch.respond.config import env_name
from storewatch.respond.playbook import SHIPPED, load_file

DOC = (Path(__file__).resolve().parents[2] / "docs" / "playbooks.md").read_text()


def test_every_action_setting_and_playbook_is_documented() -> None:
    for name in OPERATIONS:
        assert f"`{name}`" in DOC, name
    specs = [(a.name, s) for a in ADAPTERS.values() for s in a.settings] + [("http", s) for s in http.SETTINGS]
    for adapter, setting in specs:
        assert f"`{env_name(adapter, setting.key)}`" in DOC, env_name(adapter, setting.key)
    for path in SHIPPED.glob("*.yml"):
        assert f"`{load_file(path, 'shipped').name}`" in DOC, path.name
