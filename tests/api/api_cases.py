"""The shared check of the API's error contract (issue 12, root causes 10 and 11): a bad argument
raises a ChainruleError that is also the built-in a Python user would catch (ValueError for a
bad value, TypeError for a bad type), on one line, naming the argument."""

import pytest

from chainrule.errors import ChainruleError


def assert_refused(call, builtin, *words):
    with pytest.raises(ChainruleError) as info:
        call()
    error = info.value
    assert isinstance(error, builtin), f"{type(error).__name__} is not a {builtin.__name__}: {error}"
    message = str(error)
    assert "\n" not in message, message
    for word in words:
        assert word in message, (word, message)
    return message
