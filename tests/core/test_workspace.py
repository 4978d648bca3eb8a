"""The workspace key: one key, whole, whoever creates it first."""

from __future__ import annotations

import multiprocessing

import pytest

from storewatch.workspace import KeyFileError, Workspace


def _key(home: str, out) -> None:
    try:
        out.put(Workspace(__import__("pathlib").Path(home)).token_key())
    except Exception as exc:  # noqa: BLE001  (the parent asserts on what went wrong)
        out.put(repr(exc))


def test_processes_starting_together_agree_on_one_whole_key(tmp_path, monkeypatch):
    monkeypatch.delenv("STOREWATCH_TOKEN_KEY", raising=False)
    ctx = multiprocessing.get_context("fork")
    for trial in range(10):
        home = tmp_path / f"ws{trial}"
        home.mkdir()
        out = ctx.Queue()
        procs = [ctx.Process(target=_key, args=(str(home), out)) for _ in range(6)]
        for p in procs:
            p.start()
        keys = {out.get() for _ in procs}
        for p in procs:
            p.join()
        assert len(keys) == 1 and len(next(iter(keys))) == 64, keys
        assert sorted(f.name for f in home.iterdir()) == ["token.key"]  # no private copies left behind
        assert (home / "token.key").stat().st_mode & 0o777 == 0o600


def test_an_empty_key_file_is_refused_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv("STOREWATCH_TOKEN_KEY", raising=False)
    ws = Workspace.at(tmp_path / "ws")
    (ws.home / "token.key").write_text("")
    with pytest.raises(KeyFileError, match="is empty"):
        ws.token_key()
