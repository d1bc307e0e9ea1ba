"""Bad input at the public entry points: one error hierarchy, one line that says what was expected
and what was found — from Python (Trainer, fit, predict, evaluate, the loaders) and from the CLI
(one line on stderr, exit status 2; --debug shows the traceback)."""

import inspect
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import chainrule.errors as errors
from chainrule import data, nn, optim
from chainrule.cli import main
from chainrule.data import make_moons
from chainrule.errors import ChainruleError, ConfigError, DataError
from chainrule.train import Trainer

X, Y = make_moons(n=30, noise=0.1, seed=0)


def one_line(exc_info, *patterns):
    message = str(exc_info.value)
    assert "\n" not in message and len(message) < 400, message
    for pattern in patterns:
        assert re.search(pattern, message), (pattern, message)
    return message


# -- the hierarchy ----------------------------------------------------------------------------------

def test_one_error_hierarchy():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    assert len(classes) >= 11
    for cls in classes:
        assert issubclass(cls, errors.ChainruleError)
        # ...and the built-in exception a Python user would catch.
        assert cls is errors.ChainruleError or issubclass(cls, ValueError | TypeError | ImportError | AssertionError
                                                          | NotImplementedError | FloatingPointError
                                                          | ConnectionError), cls
    from chainrule.data import OptionalDependencyError
    from chainrule.data.sklearn_datasets import OptionalDependencyError as again
    from chainrule.saving.weights import WeightsFileError
    from chainrule.train import NonFiniteError
    from chainrule.train.checkpoint import CheckpointError

    assert OptionalDependencyError is again is errors.OptionalDependencyError
    assert (WeightsFileError, NonFiniteError, CheckpointError) == (
        errors.WeightsFileError, errors.NonFiniteError, errors.CheckpointError)


# -- Trainer ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, kind, pattern", [
    ({"seed": -1}, ConfigError, r"Trainer\(seed=\.\.\.\): expected an int in \[0, inf\), got -1"),
    ({"seed": 1.5}, TypeError, r"Trainer\(seed=\.\.\.\): expected an int in \[0, inf\), got 1.5 \(float\)"),
    ({"batch_size": 0}, DataError, r"batch_size must be a positive integer, found 0"),
    ({"batch_size": True}, DataError, r"batch_size must be a positive integer, found True"),
    ({"dtype": "float32"}, ConfigError, r"dtype=float32 but the model's parameters are already float64"),
    ({"callbacks": [print]}, ConfigError, r"callbacks must be chainrule.train.Callback objects, found "),
    ({"metric_samples": 0}, ConfigError, r"Trainer\(metric_samples=\.\.\.\): expected an int in \[1, inf\), got 0"),
    ({"optimizer": object()}, ConfigError, r"optimizer must be a name or a chainrule.optim optimizer, found object"),
    ({"on_divergence": "ignore"}, ConfigError,
     r"Trainer\(on_divergence=\.\.\.\): expected one of 'stop', 'rollback', got 'ignore'"),
])
def test_trainer_options(kwargs, kind, pattern):
    model = nn.MLP([2, 4, 2])
    model.init(0)
    with pytest.raises(kind) as err:
        Trainer(model, verbose=0, **kwargs)
    one_line(err, pattern)


def test_trainer_needs_a_network_and_its_own_optimizer():
    with pytest.raises(ConfigError) as err:
        Trainer({"0.weight": np.ones((2, 2))})
    one_line(err, r"model must be a chainrule network .* found dict")
    model, other = nn.MLP([2, 4, 2]), nn.MLP([2, 4, 2])
    model.init(0), other.init(1)
    with pytest.raises(ConfigError) as err:
        Trainer(model, optimizer=optim.get("sgd", other.params, learning_rate=0.1))
    one_line(err, "built on other parameters than model.params")
    with pytest.raises(ValueError, match=r"unknown loss 'mse2' \(did you mean 'mse'\?\); valid losses"):
        Trainer(nn.MLP([2, 4, 2]), loss="mse2")


def bad_fit_cases():
    nan = X.copy()
    nan[7, 1] = np.nan
    inf_y = np.where(np.arange(30) == 4, np.inf, 0.5)
    return [
        ("1-D X", (X[:, 0], Y), {}, DataError, r"training data: X must be 2-D \(n_samples, n_features\); got 1-D "
                                                r"array of shape \(30,\); for a single feature use X.reshape"),
        ("empty", (X[:0], Y[:0]), {}, DataError, r"X is empty: expected at least 1 sample and 1 feature; got shape"),
        ("NaN", (nan, Y), {}, DataError, r"X contains NaN at row 7, column 1; expected finite values"),
        ("strings", (np.array([["a", "b"]] * 30), Y), {}, DataError, r"X must hold numbers; got an array of dtype <U1"),
        ("features", (np.c_[X, X], Y), {}, DataError, r"X has 4 features per sample but the model expects 2"),
        ("lengths", (X, Y[:-1]), {}, DataError, r"X has 30, y has 29 samples"),
        ("labels", (X, Y + 1), {}, DataError, r"class labels must be in \[0, 2\) for 2 classes; got y\[\d+\] = 2"),
        ("fractional", (X, Y + 0.5), {}, DataError, r"class labels must be integers; got y\[0\] = "),
        ("epochs", (X, Y), {"epochs": -2}, ConfigError,
         r"Trainer.fit\(epochs\): expected an int in \[0, inf\), got -2"),
        ("epochs-float", (X, Y), {"epochs": 2.0}, TypeError,
         r"Trainer.fit\(epochs\): expected an int in \[0, inf\), got 2.0 \(float\)"),
        ("validation", (X, Y), {"validation_data": X}, DataError, r"validation_data must be a pair \(X_val, y_val\), "
                                                                   r"found ndarray of length 30"),
        ("val-features", (X, Y), {"validation_data": (X[:, :1], Y)}, DataError,
         r"validation data: X has 1 features per sample but the model expects 2"),
        ("inf-target", (X, inf_y), {"loss": "mse"}, DataError, r"y contains inf at row 4, column 0"),
        ("bce-labels", (X, Y * 2), {"loss": "bce", "out": 1}, DataError, r"labels must be in \[0, 2\)"),
        ("logistic", (X, Y), {"loss": "logistic", "out": 1}, DataError,
         r"the logistic loss needs targets -1 or \+1; found 0.0 at row \d+"),
        ("columns", (X, np.ones((30, 3))), {"loss": "mse"}, DataError,
         r"y has 3 target columns but the model has 2 outputs"),
    ]


@pytest.mark.parametrize("name, args, kw, kind, pattern", bad_fit_cases(), ids=[c[0] for c in bad_fit_cases()])
def test_fit_rejects(name, args, kw, kind, pattern):
    kw = dict(kw)
    loss, out = kw.pop("loss", "cross_entropy"), kw.pop("out", 2)
    t = Trainer(nn.MLP([2, 4, out]), loss=loss, verbose=0)
    before = {k: v.copy() for k, v in t.model.params.items()}
    with pytest.raises(kind) as err:
        t.fit(*args, **kw)
    one_line(err, pattern)
    assert t.step == 0 and all(np.array_equal(before[k], t.model.params[k]) for k in before)  # nothing trained


def test_predict_and_evaluate_validate_their_input():
    t = Trainer(nn.MLP([2, 4, 2]), verbose=0)
    assert t.predict(X).shape == (30, 2)
    for bad, pattern in ((X[:, :1], r"X has 1 features per sample but the model expects 2"),
                         (np.full((3, 2), np.inf), r"X contains inf at row 0, column 0"),
                         (X[0], r"X must be 2-D"), ([[1, "x"]], r"X must hold numbers")):
        with pytest.raises(DataError) as err:
            t.predict(bad)
        one_line(err, pattern)
    with pytest.raises(DataError) as err:
        t.evaluate(X, Y + 3)
    one_line(err, r"evaluation data: class labels must be in \[0, 2\)")


def test_model_apply_losses_and_optimizers_say_what_they_expected():
    # Owned by chainrule.nn and chainrule.optim; the Trainer relies on these checks.
    model = nn.MLP([2, 4, 3])
    model.init(0)
    for bad, pattern in ((np.ones(2), r"model input must be 2-D \(batch, 2\), found shape \(2,\)"),
                         (np.ones((3, 5)), r"model expects 2 input features, found 5")):
        with pytest.raises(ValueError) as err:
            model.apply(model.params, bad)
        one_line(err, pattern)
    with pytest.raises(ValueError) as err:
        nn.losses.cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    one_line(err, r"labels must lie in \[0, 2\], found values in \[0, 3\]")
    with pytest.raises(ValueError) as err:
        nn.losses.mse(np.zeros((2, 3)), np.zeros((2, 2)))
    one_line(err, r"prediction of shape \(2, 3\) but target of shape \(2, 2\)")
    with pytest.raises(ChainruleError) as err:
        optim.get("adam", model.params, learning_rate=float("nan"))
    one_line(err, r"Adam\(learning_rate=\.\.\.\): expected a finite real number .*, got nan")
    with pytest.raises(ChainruleError) as err:
        optim.get("sgd", model.params, learning_rate=0.1).step({"0.weight": np.ones((4, 2))})
    one_line(err, r"grads are missing \['0.bias', '2.bias', '2.weight'\]")


def test_csv_loader_rejects_bad_files(tmp_path):
    cases = {
        "latin1.csv": (b"a,b,y\n1,2,caf\xe9\n", r"not UTF-8 text .* save it as UTF-8 CSV"),
        "nul.csv": (b"a,b,y\n1,\x002,0\n", r"row 2, column 'b': non-numeric value '\\x002'"),
        "long.csv": (b"a,b,y\n1," + b"9" * 500 + b"x,0\n", r"non-numeric value '9{37}\.\.\.'"),
        "inf.csv": (b"a,b,y\n1,inf,0\n", r"row 2, column 'b': 'inf' is not a finite number"),
    }
    for name, (content, pattern) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataError) as err:
            data.load_csv(tmp_path / name, label="y")
        one_line(err, pattern)
    with pytest.raises(DataError) as err:
        data.load_csv(tmp_path, label="y")
    one_line(err, "is a directory, expected a CSV file")


# -- the command line -------------------------------------------------------------------------------

CONFIG = """
seed = 1
[data]
name = "moons"
options = {{ n = 80, noise = 0.15 }}
[model]
hidden = [8]
[training]
epochs = 3
batch_size = 16
checkpoint_every_steps = 2
gradient_check = false
{training}
[output]
plots = false
{top}
"""


def write_config(tmp_path, training="", top="", name="c.toml"):
    path = tmp_path / name
    text = CONFIG.format(training=training, top=top)
    if "checkpoint_every_steps" in training:  # replaces the default line rather than repeating the key
        text = text.replace("checkpoint_every_steps = 2\n", "", 1)
    path.write_text(text)
    return path


def cli(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def cli_error(args, capsys, pattern):
    code, _, err = cli(args, capsys)
    line = err.strip()
    assert code == 2 and "\n" not in line and line.startswith("chainrule: error:"), err
    assert re.search(pattern, line), line
    return line


@pytest.mark.parametrize("training, pattern", [
    ("checkpoint_every_steps = -1", r"training.checkpoint_every_steps must be >= 0, found -1"),
    ("on_divergence = 'explode'", r"training.on_divergence must be 'stop' or 'rollback', found 'explode'"),
    ("rollback_factor = 2", r"training.rollback_factor must be in \(0, 1\), found 2.0"),
    ("max_rollbacks = true", r"training.max_rollbacks must be int, found True \(bool\)"),
    ("checkpoint_keep = 'all'", r"training.checkpoint_keep must be int, found 'all' \(str\)"),
    ("check_gradient = true", r"unknown key 'check_gradient' in \[training\] \(did you mean 'check_gradients'\?\)"),
])
def test_new_training_keys_are_validated(tmp_path, capsys, training, pattern):
    cli_error(["train", write_config(tmp_path, training), "--out", tmp_path / "r"], capsys, pattern)


def test_config_values_that_would_allocate_too_much_or_make_no_sense(tmp_path, capsys):
    path = tmp_path / "seed.toml"
    path.write_text(CONFIG.format(training="", top="").replace("seed = 1", "seed = -3"))
    cli_error(["train", path, "--out", tmp_path / "r1"], capsys, r"seed must be a non-negative integer, found -3")
    path.write_text(CONFIG.format(training="", top="").replace("hidden = [8]", "hidden = [10000000]"))
    cli_error(["train", path, "--out", tmp_path / "r2"], capsys, r"model.hidden must be a list of positive integers "
                                                                  r"\(at most 1048576\), found \[10000000\]")
    path.write_text(CONFIG.format(training="", top="").replace("hidden = [8]", "hidden = [100000, 100000]"))
    cli_error(["train", path, "--out", tmp_path / "r3"], capsys, r"limits.memory_gb: this run would need about "
                                                                  r"[\d.]+ GiB of memory")
    path.write_bytes(b"seed = 1\n[data]\nname = '\xff'\n")
    cli_error(["train", path], capsys, r"is not a UTF-8 text file \(invalid start byte at byte 24\)")
    path.write_text("x = " + "[" * 5000 + "]" * 5000)
    cli_error(["train", path], capsys, r"is not valid TOML")


def test_resume_usage_errors(tmp_path, capsys):
    cfg = write_config(tmp_path)
    cli_error(["train", cfg, "--resume", tmp_path], capsys, r"give no CONFIG and no --out with it")
    cli_error(["train", "--resume", tmp_path / "nope"], capsys, r"--resume: run folder not found: .*nope")
    cli_error(["train", "--resume", tmp_path], capsys, r"is not a run folder \(config.json not found\)")
    run = tmp_path / "run"
    assert cli(["train", cfg, "--out", run, "--quiet"], capsys)[0] == 0
    cli_error(["train", cfg, "--out", run], capsys, r"already holds a run: choose another --out \(or "
                                                    r"'chainrule train --resume .*run' to continue an unfinished one\)")
    (run / "config.json").write_text('{"seed": 1, "data": ')
    cli_error(["train", "--resume", run], capsys, r"config.json is not valid JSON \(Expecting value at line 1")


def test_resume_with_corrupted_checkpoints(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli(["train", write_config(tmp_path), "--out", run, "--quiet"], capsys)[0] == 0
    checkpoints = sorted((run / "checkpoints").iterdir())
    newest, previous = checkpoints[-1], checkpoints[-2]
    (newest / "tensors.safetensors").write_bytes(b"garbage")
    code, out, err = cli(["train", "--resume", run, "--quiet"], capsys)
    assert code == 0
    warning = err.strip()
    assert warning.count("\n") == 0 and warning.startswith("chainrule: warning: skipping checkpoint"), err
    assert str(newest) in warning and str(previous) in warning and "checksum" in warning
    assert f"resuming from {previous.name}" in out
    for path in (run / "checkpoints").iterdir():
        (path / "state.json").write_text("{}")
    cli_error(["train", "--resume", run], capsys, r"no intact checkpoint in .*state.json does not match its checksum")
    proc = subprocess.run([sys.executable, "-m", "chainrule.cli.main", "--debug", "train", "--resume", str(run)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "CheckpointError" in proc.stderr


def test_resume_before_the_first_checkpoint_starts_over(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli(["train", write_config(tmp_path), "--out", run, "--quiet"], capsys)[0] == 0
    reference = (run / "model" / "model.safetensors").read_bytes()
    shutil.rmtree(run / "checkpoints")  # as if killed before its first checkpoint: still 'running'
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    code, out, _ = cli(["train", "--resume", run, "--quiet"], capsys)
    assert code == 0 and "no checkpoint in" in out and "from the beginning" in out
    assert (run / "model" / "model.safetensors").read_bytes() == reference


def test_resume_refuses_changed_data_and_evaluate_an_unfinished_run(tmp_path, capsys):
    rows = "a,b,y\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(40))
    (tmp_path / "d.csv").write_text(rows)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[data]\nname = "csv"\npath = "{tmp_path / "d.csv"}"\nlabel = "y"\n[model]\nhidden = [4]\n'
                   "[training]\nepochs = 2\nbatch_size = 8\ncheckpoint_every = 1\ngradient_check = false\n"
                   "[output]\nplots = false\n")
    run = tmp_path / "run"
    assert cli(["train", cfg, "--out", run, "--quiet"], capsys)[0] == 0
    (tmp_path / "d.csv").write_text(rows.replace("\n6,", "\n5,"))
    cli_error(["train", "--resume", run], capsys, r"cannot resume .*run: its data changed since the run started")
    shutil.rmtree(run / "model")
    cli_error(["evaluate", run], capsys, r"has no trained model yet \(model/ is missing\): the run did not finish")
    (run / "preprocessing.json").write_text(json.dumps({"task": "clustering"}))
    cli_error(["predict", run, tmp_path / "d.csv"], capsys, r"preprocessing.json is not a chainrule preprocessing file")
