"""One training step of the same network in each system: chainrule, PyTorch eager, jax.jit, scikit-learn.

``make_step(system, sizes, batch)`` returns a zero-argument callable that runs one full training
step — forward, softmax cross-entropy, backward, SGD update (learning rate 0.01, no momentum, no
weight decay) — on a fixed float32 mini-batch, or None when the system is not installed. All
systems start from chainrule's initial weights (its parameter names are torch.nn.Sequential's),
except scikit-learn, which initializes its own.
"""

from __future__ import annotations

import common  # noqa: F401  (first: cleans the environment before NumPy loads)

# isort: split

import numpy as np

LEARNING_RATE = 0.01
SYSTEMS = ("chainrule", "torch", "jax", "sklearn")
REFERENCE = "numpy"  # a hand-written NumPy step: what a NumPy engine costs at the least
CEILING = "gemms"  # the step's matrix products alone: the most any NumPy step can reach

CONFIGS = {  # name: (layer sizes, batch) — issue 4's table
    "tiny": ([2, 8, 8, 2], 32),
    "small": ([64, 128, 10], 64),
    "medium": ([784, 512, 512, 10], 256),
    "large": ([1024, 2048, 2048, 1024, 10], 512),
}


def label(sizes):
    return "-".join(str(n) for n in sizes)


def step_flops(sizes, batch):
    """6·B·Σ n_in·n_out: 2 for the forward GEMM, 4 for the two backward GEMMs of each layer."""
    return 6 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def batch_data(sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch).astype(np.int64)
    return x, y


def chainrule_model(sizes, seed=0, dtype="float32", activation="relu"):
    from chainrule import nn

    model = nn.MLP(sizes, activation=activation)
    model.init(seed=seed, dtype=dtype)
    return model


def chainrule_trainer(model, batch, **options):
    from chainrule.train import Trainer

    return Trainer(model, loss="cross_entropy", optimizer="sgd", learning_rate=LEARNING_RATE,
                   batch_size=batch, verbose=0, **options)


def make_step(system, sizes, batch, seed=0):
    """A callable running one training step of ``system``, or None if it is not installed."""
    x, y = batch_data(sizes, batch, seed)
    model = chainrule_model(sizes, seed)
    return _BUILDERS[system](model, sizes, batch, x, y)


def _chainrule(model, sizes, batch, x, y):
    trainer = chainrule_trainer(model, batch)
    return lambda: trainer.train_step(x, y)


def torch_sequential(torch, model):
    """torch.nn.Sequential with the same layers and chainrule's weights (same state-dict names)."""
    layers = []
    for layer in model.layers:
        if layer.kind == "dense":
            layers.append(torch.nn.Linear(layer.d_in, layer.d_out))
        else:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in model.params.items()})
    return net


def _torch(model, sizes, batch, x, y):
    torch = common.optional("torch")
    if torch is None:
        return None
    net = torch_sequential(torch, model)
    criterion = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = criterion(net(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


def jax_params(jnp, model):
    dense = [f"{i}." for i, layer in enumerate(model.layers) if layer.kind == "dense"]
    return [(jnp.asarray(model.params[d + "weight"]), jnp.asarray(model.params[d + "bias"])) for d in dense]


def jax_loss(jax, jnp):
    def loss(params, x, y):
        a = x
        for i, (W, b) in enumerate(params):
            a = a @ W.T + b
            if i < len(params) - 1:
                a = jax.nn.relu(a)
        logp = jax.nn.log_softmax(a, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    return loss


def _jax(model, sizes, batch, x, y):
    jax = common.optional("jax")
    if jax is None:
        return None
    import jax.numpy as jnp

    loss = jax_loss(jax, jnp)

    def sgd_step(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return jax.tree.map(lambda p, g: p - LEARNING_RATE * g, params, grads), value

    # The whole step is one compiled function; the parameters are donated so XLA may update in place.
    step_fn = jax.jit(sgd_step, donate_argnums=0)
    state = {"params": jax_params(jnp, model)}
    xj, yj = jnp.asarray(x), jnp.asarray(y.astype(np.int32))

    def step():
        state["params"], value = step_fn(state["params"], xj, yj)
        jax.block_until_ready((state["params"], value))
        return value

    return step


def _sklearn(model, sizes, batch, x, y):
    if common.optional("sklearn") is None:
        return None
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu", solver="sgd",
                        learning_rate_init=LEARNING_RATE, momentum=0.0, nesterovs_momentum=False, alpha=0.0,
                        batch_size=batch, shuffle=False, random_state=0)
    classes = np.arange(sizes[-1])
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf.partial_fit(x, y, classes=classes)

    def step():
        # One partial_fit on one batch of `batch` rows = one SGD step, plus sklearn's own input
        # validation and bookkeeping (part of its cost as a user sees it).
        clf.partial_fit(x, y)

    return step


def _numpy(model, sizes, batch, x, y):
    """Reference, not a library: the same step written by hand in NumPy (BP1–BP4, in place)."""
    dense = [f"{i}." for i, layer in enumerate(model.layers) if layer.kind == "dense"]
    weights = [(np.array(model.params[d + "weight"]), np.array(model.params[d + "bias"])) for d in dense]
    rows = np.arange(batch)
    last = len(weights) - 1

    def step():
        acts = [x]
        for i, (W, b) in enumerate(weights):
            z = acts[-1] @ W.T
            z += b
            if i < last:
                np.maximum(z, 0, out=z)
            acts.append(z)
        z = acts[-1]
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - z[rows, y]))
        delta = e / s  # softmax; the gradient of the mean cross-entropy is (softmax − onehot) / B
        delta[rows, y] -= 1
        delta /= batch
        for i in range(last, -1, -1):
            W, b = weights[i]
            a = acts[i]
            grad_W = delta.T @ a
            grad_b = delta.sum(axis=0)
            if i > 0:
                delta = delta @ W
                delta *= a > 0
            grad_W *= LEARNING_RATE
            W -= grad_W
            b -= LEARNING_RATE * grad_b
        return loss

    return step


def _gemms(model, sizes, batch, x, y):
    """Ceiling, not a training step: only the step's matrix products, with the layouts of the
    reference step (forward x Wᵀ, then δᵀa and δW per layer; no δW below the first layer)."""
    rng = np.random.default_rng(0)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers.append((rng.standard_normal((batch, n_in), np.float32), rng.standard_normal((n_out, n_in), np.float32),
                       rng.standard_normal((batch, n_out), np.float32)))

    def step():
        for a, W, _ in layers:
            a @ W.T
        for i in range(len(layers) - 1, -1, -1):
            a, W, delta = layers[i]
            delta.T @ a
            if i > 0:
                delta @ W

    return step


_BUILDERS = {"chainrule": _chainrule, "torch": _torch, "jax": _jax, "sklearn": _sklearn, "numpy": _numpy,
             "gemms": _gemms}
