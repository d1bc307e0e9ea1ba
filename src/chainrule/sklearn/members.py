"""``seeds=``: an ensemble of the same estimator over several seeds, its predictions averaged.

Member k is exactly the estimator one would get with ``seeds=None, random_state=seeds_[k]``
(a list of seeds is used as given; an int K draws K seeds from ``random_state``), fitted on the
same data: so the ensemble's probabilities (classifier) or values (regressor) are the mean of K
single estimators', bit for bit. The members are trained one after another, each with its own
stopping rule: chainrule.train.Ensemble's vectorized step would train all K for the same
number of epochs on an unpenalized mean loss, which is not scikit-learn's objective.

Fitted: ``estimators_`` (the K members), ``seeds_``, ``loss_curves_`` (K lists), ``loss_curve_``
(their mean epoch by epoch, over the members still training at that epoch), ``n_iter_`` and
``t_`` (the longest member's), ``best_loss_`` (the mean curve's minimum) and, with early
stopping, ``validation_scores_`` (mean) and ``best_validation_score_``.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

# What a member needs of its ensemble to train on targets already encoded (not learned from y again).
_TARGET_STATE = ("classes_", "_binarizer", "out_activation_", "_y_2d")


def member_seeds(estimator):
    """The seeds as a list of ints: ``seeds`` itself, or K draws from ``random_state``."""
    seeds = estimator.seeds
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        return [int(s) for s in check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max,
                                                                                    size=int(seeds))]
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0 for s in seeds):
        raise ValueError(f"seeds: expected None, a positive int or a non-empty list of non-negative ints, "
                         f"found {estimator.seeds!r}")
    return [int(s) for s in seeds]


def mean_curve(curves):
    """Epoch by epoch mean of curves of possibly different lengths (over those that reach it)."""
    longest = max((len(c) for c in curves), default=0)
    return [float(np.mean([c[t] for c in curves if len(c) > t])) for t in range(longest)]


def fit_members(estimator, X, targets, sample_weight, incremental):
    """Fit (or continue: warm_start, partial_fit) the K members; the ensemble's attributes after."""
    keep = hasattr(estimator, "estimators_") and (estimator.warm_start or incremental)
    if not keep:
        for name in ("_model", "_trainer", "coefs_", "intercepts_"):  # (a single network's, from an earlier fit)
            estimator.__dict__.pop(name, None)
        estimator.seeds_ = member_seeds(estimator)
        estimator.estimators_ = [clone(estimator).set_params(seeds=None, random_state=s) for s in estimator.seeds_]
    for member in estimator.estimators_:
        for name in _TARGET_STATE:
            if hasattr(estimator, name):
                setattr(member, name, getattr(estimator, name))
        member._fit(X, targets, sample_weight, incremental)
    members = estimator.estimators_
    estimator.loss_curves_ = [list(m.loss_curve_) for m in members]
    estimator.loss_curve_ = mean_curve(estimator.loss_curves_)
    estimator.n_iter_ = max(m.n_iter_ for m in members)
    estimator.t_ = max(m.t_ for m in members)
    estimator.n_layers_, estimator.n_outputs_ = members[0].n_layers_, members[0].n_outputs_
    scores = [m.validation_scores_ for m in members]
    if all(s is not None for s in scores):
        estimator.validation_scores_ = mean_curve(scores)
        estimator.best_validation_score_ = max(estimator.validation_scores_)
        estimator.best_loss_ = None
    else:
        estimator.validation_scores_ = estimator.best_validation_score_ = None
        estimator.best_loss_ = min(estimator.loss_curve_)
    return estimator
