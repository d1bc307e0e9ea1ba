"""Bad input: one-line errors that name the parameter or argument, and the registry by name."""

import numpy as np
import pytest

import chainrule.optim as optim
from chainrule.errors import ChainruleError, ShapeError


def make_params():
    return {"0.weight": np.ones((3, 2)), "0.bias": np.ones(3)}


def good_grads():
    return {"0.weight": np.ones((3, 2)), "0.bias": np.ones(3)}


@pytest.mark.parametrize(("grads", "error", "match"), [
    ({"0.weight": np.ones((3, 2))}, ValueError, r"grads are missing \['0.bias'\]"),
    ({**good_grads(), "1.weight": np.ones(2)}, ValueError, r"unknown names \['1.weight'\]"),
    ({"0.weight": np.ones((3, 2)), "0.bias": np.ones((3, 1))}, ShapeError,
     r"Adam.step: gradient for '0.bias' has shape \(3, 1\) but the parameter has shape \(3,\)"),
    ({"0.weight": np.ones((3, 2), np.float32), "0.bias": np.ones(3)}, ValueError,
     "gradient for '0.weight' has dtype float32 but the parameter has dtype float64"),
    ({"0.weight": [[1.0] * 2] * 3, "0.bias": np.ones(3)}, ValueError, "'0.weight' must be a numpy array, got list"),
    ([np.ones((3, 2)), np.ones(3)], ValueError, "grads must be a dict"),
])
def test_bad_grads_change_nothing(grads, error, match):
    params = make_params()
    opt = optim.Adam(params)
    with pytest.raises(error, match=match) as info:
        opt.step(grads)
    assert isinstance(info.value, ChainruleError) and "\n" not in str(info.value)
    # checked before any update: the weights and the step count are as they were
    assert opt.step_count == 0
    np.testing.assert_array_equal(params["0.weight"], np.ones((3, 2)))


@pytest.mark.parametrize(("make", "match"), [
    (lambda: optim.SGD({}), "params must be a non-empty dict"),
    (lambda: optim.SGD([np.ones(2)]), "params must be a non-empty dict"),
    (lambda: optim.SGD({"w": np.ones(2, dtype=np.int64)}),
     "'w' must be a float32 or float64 numpy array, got array of int64"),
    (lambda: optim.SGD(make_params(), learning_rate=-0.1), r"SGD\(learning_rate=\.\.\.\): .* \(0, inf\) .*, got -0.1"),
    (lambda: optim.SGD(make_params(), learning_rate=float("nan")),
     r"learning_rate=\.\.\.\): expected a finite real number .*, got nan"),
    (lambda: optim.SGD(make_params(), learning_rate="0.1"), r"learning_rate=\.\.\.\): expected .*, got '0.1' \(str\)"),
    (lambda: optim.SGD(make_params(), nesterov=True), "nesterov=True needs momentum > 0"),
    (lambda: optim.Adam(make_params(), betas=(0.9, 1.0)),
     r"Adam\(betas=\.\.\.\): expected .* in \[0, 1\), got \(0.9, 1.0\)"),
    (lambda: optim.Adam(make_params(), betas=0.9),
     r"Adam\(betas=\.\.\.\): expected a list or tuple of at least 2 items"),
    (lambda: optim.Adam(make_params(), clip_norm=0.0),
     r"clip_norm=\.\.\.\): expected None or a finite real number in \(0, inf\), got 0.0"),
    (lambda: optim.RMSProp(make_params(), alpha=1.5), r"RMSProp\(alpha=\.\.\.\): expected a .* in \[0, 1\], got 1.5"),
    (lambda: optim.Adagrad(make_params(), weight_decay=-1),
     r"Adagrad\(weight_decay=\.\.\.\): expected a .* in \[0, inf\), got -1"),
    (lambda: optim.LBFGS(make_params(), line_search="wolfe"),
     r"LBFGS\(line_search=\.\.\.\): expected None or one of .strong_wolfe., got .wolfe."),
    (lambda: optim.LBFGS(make_params(), clip_norm=1.0), "only with line_search=None"),
    (lambda: optim.LBFGS({"a": np.ones(2), "b": np.ones(2, np.float32)}), "share one dtype"),
])
def test_bad_construction(make, match):
    with pytest.raises((ValueError, TypeError), match=match) as info:
        make()
    assert isinstance(info.value, ChainruleError)


def test_read_only_parameters_are_refused():
    w = np.ones(2)
    w.flags.writeable = False
    with pytest.raises(ValueError, match="'w' is read-only"):
        optim.SGD({"w": w})


def test_lbfgs_line_search_needs_a_closure():
    opt = optim.LBFGS({"w": np.ones(2)})
    with pytest.raises(ValueError, match="needs closure"):
        opt.step({"w": np.ones(2)})


def test_registry_builds_each_name():
    for name, (cls, defaults) in optim.OPTIMIZERS.items():
        opt = optim.get(name, make_params())
        assert type(opt) is cls and all(getattr(opt, k) == v for k, v in defaults.items())
    assert optim.get("Nesterov", make_params()).nesterov  # names are case-insensitive
    rebuilt = optim.get(params=make_params(), **optim.Adam(make_params(), learning_rate=0.5, amsgrad=True).config())
    assert rebuilt.learning_rate == 0.5 and rebuilt.amsgrad


def test_registry_learning_rate_may_be_a_schedule_config():
    opt = optim.get("sgd", make_params(), learning_rate={"name": "cosine", "learning_rate": 0.1, "total_steps": 4})
    assert isinstance(opt.schedule, optim.Cosine) and opt.learning_rate_now == 0.1


def test_unknown_optimizer_lists_names_and_suggests():
    with pytest.raises(ValueError, match=r"unknown optimizer 'adma'; valid names: sgd, momentum, nesterov, "
                                         r"adagrad, rmsprop, adam, adamw, lbfgs; did you mean 'adam'\?"):
        optim.get("adma", make_params())


def test_unknown_schedule_lists_names_and_suggests():
    with pytest.raises(ValueError, match=r"valid names: constant, .*; did you mean 'cosine'\?"):
        optim.get_schedule("cosin", learning_rate=0.1, total_steps=3)


def test_unknown_keyword_is_a_type_error_naming_the_valid_ones():
    with pytest.raises(TypeError, match=r"'adam' got an unknown argument 'lr'; valid arguments: learning_rate, "
                                        r"betas, eps, amsgrad, .*; did you mean 'learning_rate'\?"):
        optim.get("adam", make_params(), lr=0.1)
    with pytest.raises(TypeError, match=r"unknown argument 'momentun'.*did you mean 'momentum'\?"):
        optim.get("sgd", make_params(), momentun=0.9)
    with pytest.raises(TypeError, match=r"'step' got an unknown argument 'gama'.*did you mean 'gamma'\?"):
        optim.get_schedule("step", learning_rate=0.1, step_size=2, gama=0.5)
    with pytest.raises(TypeError, match="schedule 'cosine' needs learning_rate, total_steps"):
        optim.get_schedule("cosine")


def test_learning_rate_can_be_reassigned():
    params = {"w": np.array([1.0])}
    opt = optim.SGD(params, learning_rate=0.1)
    opt.learning_rate = optim.Constant(0.5)
    opt.step({"w": np.array([1.0])})
    assert params["w"][0] == 0.5 and opt.learning_rate_now == 0.5
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        opt.learning_rate = -1.0
