"""Hand a trained network to other tools: PyTorch (both ways) and ONNX.

    from chainrule import export
    module = export.to_torch(model_or_run_dir)      # a torch.nn.Sequential (torch installed)
    model = export.from_torch(torch_sequential)     # back into chainrule
    export.write_torch_script(run_dir, "model.py")  # a standalone file that builds and loads it
    export.to_onnx(model_or_run_dir, "model.onnx")  # onnx + onnxruntime (the 'onnx' extra)

Each name is imported when first used, so ``import chainrule.export`` needs neither torch nor onnx.
"""

from __future__ import annotations

import importlib

_WHERE = {"to_torch": "torch_export", "from_torch": "torch_export", "write_torch_script": "torch_export",
          "to_onnx": "onnx_export"}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module 'chainrule.export' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
