"""A fit that a callback stops early ends its progress output with one line saying why (issue 11):
the bar alone stops at 7% without a word."""

import pytest

from chainrule import nn
from chainrule.data import make_moons
from chainrule.train import EarlyStopping, LambdaCallback, Trainer


@pytest.fixture(scope="module")
def data():
    return make_moons(n=120, seed=0)


def fit(data, callbacks, verbose=1, epochs=30):
    X, y = data
    trainer = Trainer(nn.MLP([2, 8, 2]), learning_rate=0.1, seed=0, callbacks=callbacks, verbose=verbose)
    trainer.fit(X, y, epochs=epochs)
    return trainer


def stop_lines(err):
    return [line for line in err.splitlines() if "training stopped" in line]


def test_early_stopping_names_its_reason(data, capsys):
    # min_delta = 1 on a loss below 1: no epoch improves on the first, so it stops at epoch 3
    trainer = fit(data, [EarlyStopping("loss", patience=2, min_delta=1.0)])
    assert trainer.epoch == 3
    (line,) = stop_lines(capsys.readouterr().err)
    assert line == f"training stopped after 3 of 30 epochs — {trainer.stop_reason}"
    assert trainer.stop_reason.startswith("early stopping: loss did not improve for 2 epochs")


def test_any_callback_that_stops_is_named(data, capsys):
    def stop(trainer, epoch, logs):
        trainer.stop_training = epoch == 4

    fit(data, [LambdaCallback(on_epoch_end=stop)])
    assert stop_lines(capsys.readouterr().err) == [
        "training stopped after 4 of 30 epochs — a callback set trainer.stop_training"]


def test_quiet_or_complete_fits_print_no_such_line(data, capsys):
    fit(data, [EarlyStopping("loss", patience=2, min_delta=1.0)], verbose=0)
    fit(data, [], epochs=5)
    assert stop_lines(capsys.readouterr().err) == []
