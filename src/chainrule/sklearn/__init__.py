"""scikit-learn estimators trained by chainrule: ``MLPClassifier`` and ``MLPRegressor``.

Drop-in names: scikit-learn's own parameters and defaults where the meaning is the same, so
replacing the import is enough. The network is a ``chainrule.nn.MLP``, trained by a
``chainrule.train.Trainer`` with chainrule's optimizers; the objective is scikit-learn's:

    L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ + ½ α Σ_layers ‖W‖² / Σᵢ wᵢ      (per mini-batch, biases not penalized)

with ℓ the softmax cross-entropy (multi-class), the binary cross-entropy of one logistic output
(two classes) or half the squared error averaged over outputs (regression). Training stops, as
scikit-learn's does, when the epoch's loss (or, with ``early_stopping``, the validation score)
has not improved by ``tol`` for more than ``n_iter_no_change`` epochs, or after ``max_iter``
epochs (a ConvergenceWarning). Every random choice derives from ``random_state`` (an int: the
same model bit for bit; a RandomState: drawn from; None: NumPy's global generator), and nothing
is held out unless ``early_stopping=True`` asks for it. With ``solver='sgd'``, ``learning_rate``
is scikit-learn's 'constant', 'invscaling' (η₀ / (t + 1)^power_t, t the samples seen) or
'adaptive' (÷ 5 where training would stop, until η ≤ 1e-6). ``solver='lbfgs'`` is chainrule's
L-BFGS on the full batch, one iteration per epoch, under the same stopping rule (scikit-learn
runs SciPy's with a gradient tolerance instead). ``activation`` also takes chainrule's names
(gelu, elu, softplus, ...) and a list with one per hidden layer; ``dropout`` (p after each
hidden activation) and ``batchnorm`` (after each hidden Dense) are chainrule's, off by default.
``loss``: the classifier's 'log_loss' or chainrule's 'hinge'; the regressor's 'squared_error' or
'poisson' (scikit-learn's) or chainrule's 'mse', 'mae', 'huber'. Also chainrule's:
``optimizer`` (any chainrule optimizer by name, overriding ``solver``; ``optimizer_options`` its
keywords, ``learning_rate_init`` its rate, kept constant: ``learning_rate`` schedules are sgd's),
``init`` (any chainrule initializer by name; None: scikit-learn's own draws,
initialization.py), ``dtype`` ('float64' or 'float32': the network trains in it), ``max_fun``
(L-BFGS's evaluation cap), ``class_weight`` (classifier) and ``seeds`` (an ensemble over seeds,
members.py). ``save``/``load`` write and read a folder without pickle (persistence.py);
``to_onnx`` writes an ONNX file (onnx_graph.py). Not (yet): multilabel targets, sparse X.

Fitted attributes: ``coefs_`` ((in, out) arrays, scikit-learn's layout: views of chainrule's
(out, in) weights, transposed), ``intercepts_``, ``loss_curve_``, ``best_loss_``,
``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``t_``, ``n_layers_``,
``n_outputs_``, ``out_activation_``, ``classes_``, ``n_features_in_``, ``feature_names_in_``;
with ``seeds``: ``estimators_``, ``seeds_``, ``loss_curves_`` (and no single ``coefs_``).
"""

from .estimators import MLPClassifier, MLPRegressor, load
from .persistence import save

__all__ = ["MLPClassifier", "MLPRegressor", "load", "save"]
