"""scikit-learn's objective and stopping rule on chainrule's Trainer (the pieces a fit plugs in)."""

from __future__ import annotations

from .. import numpy as cnp
from ..nn import Dense, losses
from ..primitives.nn import softmax_cross_entropy
from ..train.callbacks import Callback
from ..train.trainer import Trainer


def objective_loss(kind, name=None):
    """ℓ over a packed target (batch, k + 1): k target columns, then each sample's weight.

    kind: the output function ('softmax', 'logistic' or 'identity'); name: None for scikit-learn's
    loss, else chainrule's: 'hinge' (two classes: max(0, 1 − s z), s = ±1), 'mse', 'mae', 'huber'
    (regression, ℓᵢ the mean over outputs), or scikit-learn's 'poisson': half the Poisson deviance
    of ŷ = exp(z), ℓᵢ = Σ_outputs y log(y/ŷ) − y + ŷ (with 0 log 0 = 0), as its MLPRegressor.
    """

    def loss(z, packed):
        y, w = packed[:, :-1], packed[:, -1]
        if name == "poisson":  # y log y − y z − y + e^z; y log y is data (0 where y = 0)
            y_log_y = cnp.where(y > 0, y * cnp.log(cnp.where(y > 0, y, 1.0)), 0.0)
            per_sample = cnp.sum(y_log_y - y * z - y + cnp.exp(z), axis=1)
        elif name == "hinge":
            per_sample = cnp.sum(cnp.relu(1.0 - z * (2.0 * y - 1.0)), axis=1)
        elif name is not None:
            per_sample = cnp.mean(losses.get(name)(z, y, reduction="none"), axis=1)
        elif kind == "softmax":
            per_sample = softmax_cross_entropy(z, y)
        elif kind == "logistic":  # softplus(z) − y z = −y log σ(z) − (1 − y) log(1 − σ(z))
            per_sample = cnp.sum(cnp.softplus(z) - z * y, axis=1)
        else:
            per_sample = 0.5 * cnp.mean((z - y) * (z - y), axis=1)
        return cnp.sum(per_sample * w) / cnp.sum(w)

    loss.__name__ = f"sklearn_{name or kind}"
    loss.task, loss.targets, loss.n_classes, loss.checks_width, loss.stageable = (
        "regression", "values", None, False, True)
    return loss


def dense_keys(model):
    """[(weight name, bias name)] of the network's Dense layers in order (not BatchNorm's γ and β)."""
    return [(f"{model.child_prefix(i)}weight", f"{model.child_prefix(i)}bias")
            for i, layer in enumerate(model.layers) if isinstance(layer, Dense)]


class PenalizedTrainer(Trainer):
    """The Trainer with scikit-learn's L2 term ½ α Σ‖W‖² / Σ wᵢ added to each batch's objective."""

    def __init__(self, model, *, alpha, **options):
        self.alpha = float(alpha)
        self.weight_keys = [w for w, _ in dense_keys(model)]
        self.evaluations = 0  # of the objective and its gradient (L-BFGS's line search makes several a step)
        super().__init__(model, **options)

    @property
    def _grad_fn(self):
        gradient = Trainer._grad_fn.fget(self)

        def counted(*args):
            self.evaluations += 1
            return gradient(*args)

        return counted

    def _objective(self, params, xb, yb, buffers):
        loss, buffers = super()._objective(params, xb, yb, buffers)
        if self.alpha:
            squares = sum(cnp.sum(params[k] * params[k]) for k in self.weight_keys)
            loss = loss + (0.5 * self.alpha) * squares / cnp.sum(yb[:, -1])
        return loss, buffers


class EpochEnd(Callback):
    """scikit-learn's bookkeeping and stopping rule at each epoch's end."""

    def __init__(self, estimator, n_samples, validation):
        self.estimator, self.n_samples, self.validation = estimator, n_samples, validation

    def on_epoch_end(self, trainer, epoch, logs):
        est = self.estimator
        loss = float(logs["loss"])
        est.loss_curve_.append(loss)
        est.n_iter_ += 1
        est.t_ += self.n_samples
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.validation is not None:
            score = est._score_network(*self.validation)
            est.validation_scores_.append(score)
            if score > est.best_validation_score_:
                est._best_params = {k: v.copy() for k, v in trainer.model.params.items()}
            improved = score >= est.best_validation_score_ + est.tol  # (scikit-learn's comparisons)
            est.best_validation_score_ = max(est.best_validation_score_, score)
        else:
            improved = loss <= est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, loss)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        sgd = est.solver == "sgd" and est.optimizer is None  # (scikit-learn's schedules are its sgd's)
        if sgd and est.learning_rate == "invscaling":  # η = η₀ / (t + 1)^power_t, t = samples seen
            trainer.optimizer.learning_rate = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if est._optimizer_name() == "lbfgs" and trainer.evaluations >= est.max_fun:
            trainer.stop_training = True  # scikit-learn's max_fun: SciPy stops at that many evaluations
            return
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.validation else "Training loss"
            message = f"{what} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} consecutive epochs."
            rate = trainer.optimizer.learning_rate
            if sgd and est.learning_rate == "adaptive" and rate > 1e-6:  # divide by 5 and go on
                trainer.optimizer.learning_rate = rate / 5.0
                est._no_improvement_count = 0
                if est.verbose:
                    print(f"{message} Setting learning rate to {rate / 5.0:f}")
                return
            est._converged = True
            trainer.stop_training = True
            if est.verbose:
                print(f"{message} Stopping.")
