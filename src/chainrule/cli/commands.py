"""What each ``chainrule`` subcommand does (argument parsing lives in ``main.py``)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import numpy as np

from .. import runs
from ..data.files import shown
from ..errors import ConfigError, DataError, OptionalDependencyError
from ..runs.paths import check_file, check_folder
from ..saving.model_io import read_json_file

DEMO_CONFIG = {
    "seed": 0,
    "dtype": "float64",
    "data": {"name": "spiral", "options": {"n_per_class": 150, "n_classes": 3, "noise": 0.2}, "val_fraction": 0.2},
    "model": {"hidden": [64, 64], "activation": "relu"},
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "training": {"epochs": 300, "batch_size": 32},
    "output": {"dir": "runs", "name": ""},
}


def require_weights_io(command, purpose="save the run's weights"):
    """A run's weights are safetensors files: say so before anything starts, in the terms of the
    extra to install (not after minutes of training, nor as a bare ImportError)."""
    try:
        import safetensors.numpy  # noqa: F401
    except ImportError:
        raise OptionalDependencyError(f"{command} needs the safetensors package (the 'io' extra) to {purpose}, "
                                      "and it is not installed: pip install 'chainrule[io]'") from None


def demo(out=None, epochs=300, seed=0, verbose=True):
    require_weights_io("demo")
    cfg = json.loads(json.dumps(DEMO_CONFIG))
    cfg["training"]["epochs"] = int(epochs)
    cfg["seed"] = int(seed)
    cfg["output"]["name"] = ""
    cfg = runs.complete(cfg, source="demo")
    if out is None:
        from datetime import datetime

        out = Path("runs") / f"demo-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    print("chainrule demo: a [2, 64, 64, 3] ReLU network learns the 3-arm spiral with Adam "
          f"({epochs} epochs, mini-batches of 32), then its gradients are checked layer by layer.")
    trainer, run_dir, summary = runs.train(cfg, run_dir=out, verbose=1 if verbose else 0)
    _print_summary(trainer, run_dir, summary)
    return 0 if summary["gradient_check"]["passed"] else 1


def init(path, dataset=None, force=False):
    from ..runs.starter import write_starter_config

    write_starter_config(path, dataset=dataset, force=force)
    fill = " (fill in data.path and data.label)" if dataset == "csv" else ""
    print(f"wrote {path}{fill}; train with: chainrule train {path}")
    return 0


def train(config_path=None, out=None, verbose=True, resume=None, epochs=None):
    require_weights_io("train")
    if epochs is not None and (resume is None or epochs < 1):
        raise ConfigError("--epochs N goes with --resume RUN_DIR (a new run takes its epochs from the config)"
                          if resume is None else f"--epochs must be at least 1, found {epochs}")
    if resume is not None:
        if config_path is not None or out is not None:
            raise ConfigError("train --resume RUN_DIR continues a run with its own config and folder: "
                              "give no CONFIG and no --out with it")
        run = Path(resume)
        if not run.is_dir():
            raise ConfigError(f"--resume: run folder not found: {run}")
        if not (run / "config.json").is_file():
            raise ConfigError(f"--resume: {run} is not a run folder (config.json not found)")
        cfg = runs.complete(read_json_file(run / "config.json", "run config"), source=str(run / "config.json"))
        trainer, run_dir, summary = runs.train(cfg, run_dir=run, verbose=1 if verbose else 0, resume=True,
                                                 epochs=epochs)
    else:
        if config_path is None:
            raise ConfigError("train needs a CONFIG file, or --resume RUN_DIR")
        cfg = runs.load_config(config_path)
        trainer, run_dir, summary = runs.train(cfg, run_dir=out, verbose=1 if verbose else 0)
    _print_summary(trainer, run_dir, summary)
    gc = summary["gradient_check"]
    return 0 if gc is None or gc["passed"] else 1


def _print_summary(trainer, run_dir, summary):
    final = summary["final"]
    metrics = ", ".join(f"{k} {v:.4g}" for k, v in final.items() if k != "lr")
    print(f"\ntrained {summary['epochs_run']} epochs ({summary['steps']} steps) in {summary['train_seconds']:.2f} s: "
          f"{metrics}")
    if summary["stop_reason"]:
        print(summary["stop_reason"])
    gc = summary["gradient_check"]
    if gc is not None:
        print("\ngradient check of the trained model (float64, central differences vs. forward and reverse mode, "
              "orders 1 and 2), worst relative error per layer:")
        for leaf, err in gc["per_layer"].items():
            print(f"  {leaf:<14} {err:.2e}  {'ok' if err <= 1e-7 else 'FAIL'}")
        verdict = gc.get("verdict", "") if gc.get("zero_gradients") else ("PASSED" if gc["passed"] else "FAILED")
        print(f"  {verdict.splitlines()[0] if verdict else 'FAILED'} (threshold 1e-7; full report in gradcheck.txt)")
    print(f"\nrun folder: {run_dir}")
    for name in sorted(p.name for p in Path(run_dir).iterdir()):
        print(f"  {name}")


# -- evaluate / predict ----------------------------------------------------------------------

def evaluate(run, csv=None, label=None):
    require_weights_io("evaluate", "read the run's weights")
    if label is not None and csv is None:
        raise ConfigError("--label names a column of the --csv file: give --csv FILE too")
    loaded = runs.load_run(run)
    X, y, where, located = loaded.located_data(csv, label=label)
    logs = loaded.evaluate(X, y, **located)  # (an input the network cannot take: named, as predict does)
    print(f"evaluated on {where} ({len(X)} samples):")
    for k, v in logs.items():
        print(f"  {k:<10} {v:.6g}")
    return 0


def predict(run, input_path, output="-"):
    from .. import data

    require_weights_io("predict", "read the run's weights")
    if output != "-":
        _check_output_folder(Path(output))
    loaded = runs.load_run(run)
    X, _, meta = data.load_csv(input_path, label=None, features=loaded.features)
    checked = {"source": shown(input_path), "rows": meta["rows"], "columns": meta["features"]}
    if X.shape[1] != loaded.model.d_in:
        raise DataError(f"{input_path}: the model expects {loaded.model.d_in} features, found {X.shape[1]} columns")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")  # csv's default is "\r\n"; text files here end lines in "\n"
    if loaded.task == "classification":
        probs = loaded.predict_proba(X, **checked)  # (never NaN probabilities: the row is named)
        classes = loaded.classes
        writer.writerow(["prediction", *[f"p_{c}" for c in classes]])
        for row in probs:
            writer.writerow([classes[int(np.argmax(row))], *[f"{p:.6g}" for p in row]])
    else:
        out = loaded.output(X, **checked)
        names = ["prediction"] if out.shape[1] == 1 else [f"prediction_{j}" for j in range(out.shape[1])]
        writer.writerow(names)
        for row in out:
            writer.writerow([repr(float(v)) for v in row])
    if output == "-":
        sys.stdout.write(buf.getvalue())
    else:
        from ..saving import atomic_write_bytes

        atomic_write_bytes(output, buf.getvalue().encode())
        print(f"wrote {len(X)} predictions to {output}", file=sys.stderr)
    return 0


# --format -> (the function of chainrule.export that writes it, the default file name)
EXPORT_FORMATS = {"torch": ("write_torch_script", "model.py"), "onnx": ("to_onnx", "model.onnx")}


def export(run, fmt, output=None, force=False):
    from .. import export as exporters

    name, default = EXPORT_FORMATS[fmt]
    path = check_file(output if output is not None else default)
    if path.exists() and not force:
        raise ConfigError(f"export: {shown(path)} exists; use --force to overwrite it")
    try:
        write = getattr(exporters, name)
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("chainrule."):  # a package the exporter needs
            raise OptionalDependencyError(f"export --format {fmt} needs the {e.name} package, which is not "
                                          f"installed") from None
        raise ConfigError(f"export --format {fmt} is not available in this version of chainrule") from None
    write(run, path)
    print(f"wrote {shown(path)} ({fmt})")
    return 0


def _check_output_folder(output):
    """An output file goes into an existing folder: a mistyped path is an error, not a new folder tree."""
    check_file(output, "-o")


def experiment(name, out=None, quick=False, seed=0, workers=None, scheduler=None):
    import contextlib

    from .. import experiments

    if name == "list":
        from ..experiments import REGISTRY
        from ..experiments.sources import titles

        experiments.names()
        for n, spec in REGISTRY.items():
            print(f"{n:<24} {spec.title}\n{'':<24} sources: {titles(spec.seeds)}")
        return 0
    if out is not None:
        check_folder(out, "--out")
    with contextlib.ExitStack() as stack:
        executor = None  # in this process, unless asked for Dask workers
        if workers is not None or scheduler is not None:
            from ..sweep.executor import executor_for

            executor = stack.enter_context(executor_for(workers, scheduler))
        out_dir, results = experiments.run(name, out=out, quick=quick, seed=seed, executor=executor)
    claims = [c for r in results for c in r["claims"]]
    ok = sum(c["verdict"] == "reproduced" for c in claims)
    print(f"\n{ok} of {len(claims)} claims reproduced; report: {out_dir / 'report.html'} (and report.md)")
    for r in results:
        for c in r["claims"]:
            if c["verdict"] != "reproduced":
                print(f"  not reproduced [{r['name']}]: {c['claim']} (expected {c['expected']}, measured "
                      f"{c['measured']})")
    return 0 if ok == len(claims) else 1


def inspect(config_path, out=None):
    from datetime import datetime

    cfg = runs.load_config(config_path)
    out = check_folder(out or Path("runs") / f"inspect-{datetime.now().strftime('%Y%m%d-%H%M%S')}", "--out")
    text, figures = runs.inspect_config(cfg, out)
    print(text)
    print(f"\nwritten to {out}: inspect.txt, inspect.json, " + ", ".join(Path(f).name for f in figures))
    return 0


def sweep(args):
    """chainrule sweep SWEEP.toml | --resume DIR | show DIR (the work is chainrule.sweep's)."""
    from ..sweep import command

    return command.main(args)


def playground(host="127.0.0.1", port=0, open_browser=True):
    from .. import playground as pg

    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be in [0, 65535], found {port}")
    return pg.serve(host=host, port=port, open_browser=open_browser)
