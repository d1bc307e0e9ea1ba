"""Instruments that explain what happens inside a network while it trains."""

from .recorder import GradientNormRecorder

__all__ = ["GradientNormRecorder"]
