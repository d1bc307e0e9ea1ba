"""Bad arguments to the optimizers and schedules: options are what they say (issue 12, item 10)."""

import numpy as np
import pytest
from api_cases import assert_refused

from chainrule import optim
from chainrule.optim import schedules

nan = float("nan")


def params():
    return {"w": np.ones(3)}


OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "lbfgs"]

CASES = [
    ("RMSProp-centered-no", lambda: optim.RMSProp(params(), centered="no"), TypeError, "RMSProp(centered=...)",
     "'no'"),
    ("RMSProp-centered-1", lambda: optim.RMSProp(params(), centered=1), TypeError, "RMSProp(centered=...)"),
    ("Adam-amsgrad-yes", lambda: optim.Adam(params(), amsgrad="yes"), TypeError, "Adam(amsgrad=...)", "'yes'"),
    ("AdamW-amsgrad-yes", lambda: optim.AdamW(params(), amsgrad="yes"), TypeError, "AdamW(amsgrad=...)"),
    ("SGD-nesterov-str", lambda: optim.SGD(params(), momentum=0.9, nesterov="true"), TypeError,
     "SGD(nesterov=...)"),
    ("Adam-beta1-nan", lambda: optim.Adam(params(), betas=(nan, 0.999)), ValueError, "Adam(betas=...)", "nan"),
    ("Adam-beta2-1", lambda: optim.Adam(params(), betas=(0.9, 1.0)), ValueError, "Adam(betas=...)", "[0, 1)"),
    ("Adam-beta-negative", lambda: optim.Adam(params(), betas=(-0.1, 0.9)), ValueError, "Adam(betas=...)"),
    ("Adam-betas-str", lambda: optim.Adam(params(), betas="0.9"), TypeError, "Adam(betas=...)"),
    ("SGD-lr-0", lambda: optim.SGD(params(), learning_rate=0), ValueError, "SGD(learning_rate=...)", "(0, inf)"),
    ("SGD-lr-inf", lambda: optim.SGD(params(), learning_rate=float("inf")), ValueError, "SGD(learning_rate=...)"),
    ("SGD-lr-bool", lambda: optim.SGD(params(), learning_rate=True), TypeError, "SGD(learning_rate=...)"),
    ("Adam-lr-str", lambda: optim.Adam(params(), learning_rate="1e-3"), TypeError, "Adam(learning_rate=...)"),
    ("SGD-momentum-nan", lambda: optim.SGD(params(), momentum=nan), ValueError, "SGD(momentum=...)"),
    ("SGD-dampening-2", lambda: optim.SGD(params(), momentum=0.9, dampening=2), ValueError, "SGD(dampening=...)"),
    ("Adagrad-eps-negative", lambda: optim.Adagrad(params(), eps=-1.0), ValueError, "Adagrad(eps=...)"),
    ("RMSProp-alpha-nan", lambda: optim.RMSProp(params(), alpha=nan), ValueError, "RMSProp(alpha=...)"),
    ("Adam-weight-decay-str", lambda: optim.Adam(params(), weight_decay="0.1"), TypeError,
     "Adam(weight_decay=...)"),
    ("Adam-clip-negative", lambda: optim.Adam(params(), clip_value=-1.0), ValueError, "Adam(clip_value=...)"),
    ("LBFGS-history-float", lambda: optim.LBFGS(params(), history_size=2.5), TypeError, "LBFGS(history_size=...)"),
    ("LBFGS-line-search", lambda: optim.LBFGS(params(), line_search="armijo"), ValueError,
     "LBFGS(line_search=...)"),
    ("get-rmsprop-centered", lambda: optim.get("rmsprop", params(), centered="no"), TypeError,
     "RMSProp(centered=...)"),
    ("StepDecay-step-float", lambda: schedules.StepDecay(0.1, step_size=2.5), TypeError,
     "StepDecay(step_size=...)"),
    ("StepDecay-gamma-nan", lambda: schedules.StepDecay(0.1, step_size=2, gamma=nan), ValueError,
     "StepDecay(gamma=...)"),
    ("Cosine-steps-bool", lambda: schedules.Cosine(0.1, total_steps=True), TypeError, "Cosine(total_steps=...)"),
    ("Constant-lr-negative", lambda: schedules.Constant(-1.0), ValueError, "Constant(learning_rate=...)"),
    ("Exponential-gamma-str", lambda: schedules.Exponential(0.1, gamma="0.9"), TypeError,
     "Exponential(gamma=...)"),
    ("Warmup-steps-0", lambda: schedules.LinearWarmup(0, then=0.1), ValueError, "LinearWarmup(warmup_steps=...)"),
    ("Warmup-then-str", lambda: schedules.LinearWarmup(2, then="cosine"), TypeError, "LinearWarmup(then=...)"),
    ("Plateau-patience-negative", lambda: schedules.ReduceOnPlateau(0.1, patience=-1), ValueError,
     "ReduceOnPlateau(patience=...)"),
    ("Plateau-mode", lambda: schedules.ReduceOnPlateau(0.1, mode="up"), ValueError, "ReduceOnPlateau(mode=...)"),
    ("Plateau-cooldown-float", lambda: schedules.ReduceOnPlateau(0.1, cooldown=1.5), TypeError,
     "ReduceOnPlateau(cooldown=...)"),
]


@pytest.mark.parametrize(("name", "call", "builtin", "words"), [(c[0], c[1], c[2], c[3:]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_argument(name, call, builtin, words):
    assert_refused(call, builtin, *words)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_refuses_a_nan_learning_rate_and_a_string_one(name):
    assert_refused(lambda: optim.get(name, params(), learning_rate=nan), ValueError, "(learning_rate=...)", "nan")
    assert_refused(lambda: optim.get(name, params(), learning_rate="0.1"), TypeError, "(learning_rate=...)")


def test_real_booleans_are_kept():
    assert optim.RMSProp(params(), centered=np.bool_(True)).centered is True
    assert optim.Adam(params(), amsgrad=False).amsgrad is False
    assert optim.SGD(params(), momentum=0.9, nesterov=True).nesterov is True
