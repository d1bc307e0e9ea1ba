"""chainrule.sklearn against scikit-learn's own MLP: the same estimator settings, side by side.

    python bench/sklearn_compare.py [--seeds 5] [--epochs 100]

Three data sets: scikit-learn's digits and breast-cancer (classification, accuracy) and
``make_regression(n_samples=2000, n_features=20, noise=10)`` (R²; California housing needs a
download, which this machine cannot make). Each is split once (75/25, random_state=0) and
standardized on the training part. Both libraries get the same settings: hidden (100,), ReLU,
solver adam and sgd, batch_size 'auto' (min(200, n)), learning_rate_init 1e-3 (adam) or 1e-2
(sgd), alpha 1e-4, and exactly ``--epochs`` epochs (tol=0 and n_iter_no_change=epochs, so neither
stops early). For each seed (random_state = 0..seeds−1) the two fits alternate in one process;
the table gives the test score as mean ± sd over the seeds and the median fit time, and the
ratio of median times (scikit-learn / chainrule: above 1, chainrule is faster).
"""

from __future__ import annotations

import common

# isort: split

import argparse
import statistics
import time
import warnings

import numpy as np


def datasets():
    from sklearn.datasets import load_breast_cancer, load_digits, make_regression

    X, y = load_digits(return_X_y=True)
    yield "digits", "classification", X, y
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer", "classification", X, y
    X, y = make_regression(n_samples=2000, n_features=20, noise=10.0, random_state=0)
    yield "make_regression", "regression", X, y


def estimators(task, solver, epochs, seed):
    import sklearn.neural_network as theirs

    import chainrule.sklearn as ours

    settings = dict(hidden_layer_sizes=(100,), activation="relu", solver=solver, alpha=1e-4, batch_size="auto",
                    learning_rate_init=1e-3 if solver == "adam" else 1e-2, max_iter=epochs, tol=0.0,
                    n_iter_no_change=epochs, random_state=seed)
    name = "MLPClassifier" if task == "classification" else "MLPRegressor"
    return getattr(ours, name)(**settings), getattr(theirs, name)(**settings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    common.limit_threads()
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    common.print_machine(common.machine())
    print(f"{args.seeds} seeds, {args.epochs} epochs, hidden (100,), relu, batch 'auto'")
    print("| data | solver | chainrule score | scikit-learn score | chainrule fit s | scikit-learn fit s | "
          "time ratio (sklearn / chainrule) |")
    print("|---|---|---|---|---|---|---|")
    for data, task, X, y in datasets():
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
        scaler = StandardScaler().fit(X_tr)
        X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
        if task == "regression":
            y_scale = y_tr.std()
            y_tr, y_te = y_tr / y_scale, y_te / y_scale
        for solver in ("adam", "sgd"):
            scores = {"chainrule": [], "scikit-learn": []}
            times = {"chainrule": [], "scikit-learn": []}
            for seed in range(args.seeds):
                for who, est in zip(("chainrule", "scikit-learn"), estimators(task, solver, args.epochs, seed)):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # max_iter reached: the point of the settings
                        t = time.perf_counter()
                        est.fit(X_tr, y_tr)
                        times[who].append(time.perf_counter() - t)
                    scores[who].append(est.score(X_te, y_te))
            cells = [f"{np.mean(scores[w]):.4f} ± {np.std(scores[w], ddof=1):.4f}" for w in scores]
            medians = [statistics.median(times[w]) for w in times]
            print(f"| {data} | {solver} | {cells[0]} | {cells[1]} | {medians[0]:.3f} | {medians[1]:.3f} | "
                  f"{medians[1] / medians[0]:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
