"""results.sqlite: one row per (configuration, seed), written once; column names from keys are checked."""

import sqlite3

import pytest

from chainrule.errors import ConfigError
from chainrule.sweep.store import Store, quoted


def trial(seeds, status="ok"):
    return {"wall_time": 1.0, "packed": True, "results": [
        {"seed": s, "status": status, "error": None, "final": 0.5 + s, "best": 0.4, "epochs": 2,
         "curves": {"loss": [0.9, 0.5 + s]}} for s in seeds]}


def test_each_key_is_stored_exactly_once(tmp_path):
    store = Store(tmp_path, ["optimizer.learning_rate", "model.hidden"])
    params = {"optimizer.learning_rate": 0.1, "model.hidden": [8, 8]}
    assert len(store.add("abc", params, trial([0, 1]))) == 2
    assert len(store.add("abc", params, trial([0, 1, 2]))) == 1  # seeds 0 and 1 are already there
    rows = store.rows()
    assert sorted(r["key"] for r in rows) == ["abc:0", "abc:1", "abc:2"]
    assert rows[0]["model.hidden"] == [8, 8] and rows[0]["optimizer.learning_rate"] == 0.1
    column = store.db.execute('SELECT "model.hidden" FROM trials WHERE key = ?', ("abc:0",)).fetchone()[0]
    assert column == "[8, 8]"  # a list is stored as its JSON text
    assert store.curve("abc:1", "loss") == [0.9, 1.5]
    assert store.mean_curves("loss") == {"abc": [0.9, 1.5]}  # (0.5 + 1.5 + 2.5) / 3 at epoch 2
    store.close()
    reopened = Store(tmp_path, ["optimizer.learning_rate", "model.hidden"])
    assert reopened.done_keys() == {"abc:0", "abc:1", "abc:2"}
    with pytest.raises(sqlite3.IntegrityError):  # the database itself refuses a second row
        reopened.db.execute("INSERT INTO trials (key, config_hash, seed, status, config) VALUES ('abc:0', 'abc', 0, "
                            "'ok', '{}')")
    reopened.close()


def test_a_failed_transaction_leaves_nothing(tmp_path):
    store = Store(tmp_path, ["optimizer.learning_rate"])
    bad = trial([0, 1])
    bad["results"][1]["curves"] = {"loss": [object()]}  # not storable: the whole configuration is rolled back
    with pytest.raises(TypeError):
        store.add("abc", {"optimizer.learning_rate": 0.1}, bad)
    assert store.done_keys() == set()
    store.close()


@pytest.mark.parametrize("key", ['a"; DROP TABLE trials; --', "model.hidden)", "a b", "1abc", ""])
def test_column_names_from_keys_are_checked(key):
    with pytest.raises(ConfigError):
        quoted(key)
