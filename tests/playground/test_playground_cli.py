"""`chainrule playground`: the command, its URL line, the warning for other interfaces, a bad port and a
missing extra (one line naming pip install "chainrule[playground]"); the datasets and the CSV reader."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from chainrule.cli.main import main
from chainrule.errors import DataError, OptionalDependencyError
from chainrule.playground import datasets, require_extra, serve
from chainrule.playground.upload import read_upload


@pytest.fixture
def no_serving(monkeypatch):
    """uvicorn's Server.run returns at once (the command's set-up runs for real)."""
    uvicorn = pytest.importorskip("uvicorn")
    opened = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: opened.append(sockets))
    return opened


def test_the_command_prints_the_url_and_binds_loopback(no_serving, capsys):
    assert main(["playground", "--no-browser"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("chainrule playground: http://127.0.0.1:") and err == ""
    (sock,) = no_serving[0]
    assert sock.getsockname()[0] == "127.0.0.1" and f":{sock.getsockname()[1]}/" in out
    sock.close()


def test_another_interface_is_served_with_a_warning(no_serving, capsys):
    assert serve(host="0.0.0.0", port=0, open_browser=False) == 0
    _, err = capsys.readouterr()
    assert "warning" in err and "0.0.0.0" in err
    no_serving[0][0].close()


def test_a_bad_port_is_one_line(capsys):
    assert main(["playground", "--port", "70000", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--port" in err and "70000" in err


def test_a_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn now raises ImportError
    with pytest.raises(OptionalDependencyError, match=r'pip install "chainrule\[playground\]"'):
        require_extra()


@pytest.mark.parametrize("name", list(datasets.GENERATORS))
def test_datasets_are_seeded_sized_and_on_the_canvas(name):
    X, y = datasets.generate(name, 300, 10, seed=3)
    X2, y2 = datasets.generate(name, 300, 10, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, datasets.generate(name, 300, 10, seed=4)[0])
    assert X.shape == (300, 2) and len(y) == 300 and np.all(np.abs(X) < 8)
    if name in datasets.BY_TASK["classification"]:
        classes = 3 if name in ("spiral3", "blobs") else 2
        assert y.dtype == np.int64 and sorted(set(y.tolist())) == list(range(classes))
    else:
        assert y.shape == (300, 1) and np.all(np.isfinite(y))


def test_noise_free_xor_is_xor():
    X, y = datasets.generate("xor", 200, 0, seed=0)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(np.int64))


def test_features():
    X = np.array([[1.0, -2.0]])
    names = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]
    assert datasets.features(X, names).tolist() == [[1.0, -2.0, 1.0, 4.0, -2.0, np.sin(1.0), np.sin(-2.0)]]


def test_upload_reader():
    problem, P, y = read_upload("\ufeffa,b,c\n1,2,5\n\n3,4,7\n5,6,5\n", "classification")
    assert problem == "classification" and P.tolist() == [[1, 2], [3, 4], [5, 6]] and y.tolist() == [0, 1, 0]
    _, P, y = read_upload("1,2,0.5\n3,4,-1.5\n", "regression")  # no header
    assert y.tolist() == [[0.5], [-1.5]]
    for text, match in [("x,y,v\n1,2,0.5\n3,4,1\n", "integers"), ("1,2,0\n3,4,0\n", "2 to 10"),
                        ("1,2,0\n3,nan,1\n", "finite"), ("1,2,0\n3,4\n", "3"), ("1,2,0\n", "at least 2"),
                        ("1,2,0\n1e300,4,1\n", "finite")]:
        with pytest.raises(DataError, match=match):
            read_upload(text, "classification")
