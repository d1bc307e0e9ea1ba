"""Divergence that stays finite (issue 11, defect 3): SGD at learning rate 1e3 on moons drives the
loss to 4e34 in one epoch without a NaN. A step's loss above 1000 × the fit's first loss (and
above 1000: ``divergence.loss_limit``) is divergence: 'stop' raises one line naming the step, the
loss, the likely cause and what to try; 'rollback' goes back to a good state."""

import warnings

import numpy as np
import pytest

from chainrule import nn, runs
from chainrule.errors import ChainruleError, NonFiniteError
from chainrule.train import Trainer
from chainrule.train.divergence import DivergenceWarning, LossExplodedError, loss_limit

MOONS_LR_1E3 = {"data": {"name": "moons"}, "model": {"hidden": [16]}, "seed": 0,
                "optimizer": {"name": "sgd", "learning_rate": 1e3}, "training": {"epochs": 3}}


def _quiet_fit(run):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the recorder's gradient warnings are not under test here
        run.fit()


def test_sgd_lr_1e3_on_moons_stops_with_one_line():
    run = runs.build(MOONS_LR_1E3)
    with pytest.raises(LossExplodedError) as info:
        _quiet_fit(run)
    message = str(info.value)
    assert isinstance(info.value, NonFiniteError) and isinstance(info.value, ChainruleError)
    assert "\n" not in message
    assert message.startswith("training diverged: the loss is ")
    assert "at epoch 1, step " in message and "learning rate is too high" in message
    assert "learning rate 10× smaller" in message
    # It stopped within the first epoch, before the update of the exploded step: parameters finite.
    assert run.trainer.epoch == 0
    assert all(np.isfinite(p).all() for p in run.trainer.model.params.values())


def test_sgd_lr_1e3_on_moons_rolls_back_and_recovers():
    # Each rollback multiplies the rate by 0.1: 1e3 → 1e2 → 10 → 1 trains moons normally.
    cfg = {**MOONS_LR_1E3, "training": {"epochs": 3, "on_divergence": "rollback", "rollback_factor": 0.1,
                                        "max_rollbacks": 6}}
    run = runs.build(cfg)
    with pytest.warns(DivergenceWarning, match="training diverged: the loss is .*rolled back"):
        run.fit()
    trainer = run.trainer
    assert 1 <= trainer.rollbacks <= 6 and trainer.epoch == 3
    first = trainer.history["loss"][0]
    assert max(trainer.history["loss"]) < 10 * max(first, 1.0), trainer.history["loss"]


def test_the_limit_is_relative_with_a_floor():
    assert loss_limit(0.7) == 1e3  # a classification loss of order 1: 1000
    assert loss_limit(1e-6) == 1e3  # a well-trained start does not make a noisy step divergence
    assert loss_limit(50.0) == 5e4  # large-scale targets: 1000 × the start
    assert loss_limit(-2.0) == 2e3


def test_a_loss_that_only_falls_or_wobbles_never_trips():
    # A custom loss whose values are set by the test: 1 → 900 (< 1000) is allowed.
    values = iter([1.0, 900.0, 5.0, 999.0] * 10)
    model = nn.MLP([2, 3, 1])

    def scripted(out, y):
        import chainrule.numpy as cnp
        return cnp.sum(out) * 0.0 + next(values)

    trainer = Trainer(model, loss=scripted, optimizer="sgd", learning_rate=1e-3, batch_size=4, verbose=0,
                      compiled=False)
    X, y = np.zeros((16, 2)), np.zeros((16, 1))
    trainer.fit(X, y, epochs=2)
    assert trainer.step == 8
    values = iter([2.0, 2001.0])  # 1000.5 × the first: over the limit
    trainer2 = Trainer(nn.MLP([2, 3, 1]), loss=scripted, optimizer="sgd", learning_rate=1e-3, batch_size=8,
                       verbose=0, compiled=False)
    with pytest.raises(LossExplodedError, match=r"the loss is 2e\+03 at epoch 1, step 2, over 1000 × the fit's "
                                                r"first loss 2"):
        trainer2.fit(X, y, epochs=1)


def test_cli_train_exits_2_with_one_line(tmp_path, capsys):
    from chainrule.cli import main

    cfg = tmp_path / "c.toml"
    cfg.write_text('seed = 0\n[data]\nname = "moons"\n[model]\nhidden = [16]\n'
                   '[optimizer]\nname = "sgd"\nlearning_rate = 1e3\n[training]\nepochs = 3\n'
                   '[output]\nplots = false\n')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("chainrule: error: training diverged: the loss is "), err
    assert "learning rate is too high" in err
