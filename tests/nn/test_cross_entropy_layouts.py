"""Softmax cross-entropy for every layout and label dtype a user can hand it (found in review)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ShapeError
from chainrule.nn import losses


def grad_of(z, y):
    return cr.grad(lambda z: losses.cross_entropy(z, y))(z)


def test_fortran_ordered_logits_get_the_same_gradient():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 3))
    y = np.array([0, 2, 1, 1, 0])
    expected = grad_of(z, y)
    np.testing.assert_array_equal(grad_of(np.asfortranarray(z), y), expected)
    np.testing.assert_array_equal(grad_of(z.T.copy().T, y), expected)
    np.testing.assert_allclose(expected.sum(axis=1), 0.0, atol=1e-15)  # softmax − onehot: rows sum to 0
    cr.check_grads(lambda z: losses.cross_entropy(z, y), (np.asfortranarray(z),))


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint32, np.uint64])
def test_every_integer_label_dtype(dtype):
    z = np.random.default_rng(1).standard_normal((4, 3))
    y = np.array([0, 2, 1, 2])
    np.testing.assert_array_equal(grad_of(z, y.astype(dtype)), grad_of(z, y))
    assert losses.cross_entropy(z, y.astype(dtype)) == losses.cross_entropy(z, y)


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_negative_narrow_labels_are_refused_with_many_classes(dtype):
    z = np.zeros((3, 300))
    with pytest.raises(ShapeError, match="labels must lie in"):
        losses.cross_entropy(z, np.array([0, -1, 3], dtype))
