"""The one error hierarchy of chainrule: every error a user can cause derives from ChainruleError.

Each also derives from the built-in exception a Python user would expect (``ValueError`` for
bad values and shapes, ``TypeError`` for bad types), so ``except ValueError`` keeps working.
"""


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose."""


class MissingRuleError(ChainruleError, NotImplementedError):
    """A primitive has no VJP/JVP rule for the argument being differentiated."""


class ShapeError(ChainruleError, ValueError):
    """Arrays whose shapes do not fit the operation; the message names both shapes."""


class DifferentiationTypeError(ChainruleError, TypeError):
    """Differentiating with respect to something that is not a floating-point array."""


class ArgumentTypeError(ChainruleError, TypeError):
    """An argument of the wrong type; the message names the argument, what was expected and what was found."""


class StagingError(ChainruleError, TypeError):
    """A function cannot be compiled by ``chainrule.jit`` (control flow on a traced value, ...)."""


class GradientCheckError(ChainruleError, AssertionError):
    """A gradient check failed; the message is the per-leaf report."""


class ConfigError(ChainruleError, ValueError):
    """A configuration value or key is wrong; the message says what was expected."""


class InvalidArgumentError(ConfigError):
    """An argument of the right type with a value outside what is allowed (a ValueError through
    ConfigError, so code that catches configuration mistakes catches it too); the message names
    the argument, what was expected and what was found (``chainrule.constraints``)."""


class DataError(ChainruleError, ValueError):
    """Input data is malformed: NaN/inf, wrong shape, labels out of range, empty."""


class OptionalDependencyError(ChainruleError, ImportError):
    """A feature needs a package that is not installed; the message says what to install."""


class WeightsFileError(ChainruleError, ValueError):
    """A weights file is missing, malformed, or does not fit the model."""


class CheckpointError(ChainruleError, ValueError):
    """No usable checkpoint, or one that does not fit the run."""


class NonFiniteError(ChainruleError, FloatingPointError):
    """The loss, a gradient or a parameter became NaN or infinite during training; the message
    names the step, the layer and the last finite loss."""


class RunLockedError(ConfigError):
    """A run folder is being trained by another process (its lock is held); the message names it."""


class CheckpointMismatchError(CheckpointError):
    """An intact checkpoint that belongs to a different model, optimizer or data."""


def did_you_mean(name, valid):
    """' (did you mean 'x'?)' naming the valid choice closest to ``name``, or '' if none is close."""
    import difflib

    close = difflib.get_close_matches(str(name), list(valid), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def lookup(table, name, what, plural):
    """``table[name]``, or a ConfigError naming the closest valid key and listing them all."""
    if name not in table:
        raise ConfigError(f"unknown {what} {name!r}{did_you_mean(name, table)}; valid {plural}: {', '.join(table)}")
    return table[name]


class ClusterLostError(ChainruleError, ConnectionError):
    """The Dask cluster a sweep ran on went away (its scheduler lost, the tasks cancelled): not a
    trial's failure, so nothing is stored for the tasks in flight; ``--resume`` runs them again."""
