"""cr.fit returns what Trainer.fit returns: the history (issue 11; it returned the Trainer)."""

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import make_moons
from chainrule.train import Trainer


def test_fit_returns_the_history_of_trainer_fit():
    X, y = make_moons(n=100, seed=0)
    options = dict(learning_rate=0.1, batch_size=16, seed=3, verbose=0)
    model = nn.MLP([2, 8, 2])
    history = cr.fit(model, X, y, epochs=4, validation_data=(X[:20], y[:20]), **options)
    twin = nn.MLP([2, 8, 2])
    expected = Trainer(twin, **options).fit(X, y, epochs=4, validation_data=(X[:20], y[:20]))
    assert isinstance(history, dict) and type(history) is type(expected)
    assert set(history) == set(expected) and len(history["loss"]) == 4
    for k in history:
        if k != "time":  # wall-clock seconds differ; everything else is bitwise reproducible
            assert history[k] == expected[k], k
    untrained = Trainer(nn.MLP([2, 8, 2]), **options).model.params  # the same seed's initialization
    assert any(not np.array_equal(untrained[k], v) for k, v in model.params.items())  # trained in place...
    for k, v in model.params.items():  # ...exactly as the Trainer trains it
        np.testing.assert_array_equal(v, twin.params[k])
