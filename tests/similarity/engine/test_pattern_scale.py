import numpy as np
import pytest

from similarity.engine import PatternError, normalize_pattern

SHAPE = np.array([1.0, 2.0, 3.0, 1.0, 5.0, 4.0])


@pytest.mark.parametrize("scale", [1e-300, 1e-12, 1.0, 1e12, 1e200, 1e300])
def test_pattern_normalises_the_same_at_any_scale(scale):
    with np.errstate(all="raise"):
        normalized = normalize_pattern(SHAPE * scale)

    np.testing.assert_allclose(normalized, normalize_pattern(SHAPE), rtol=1e-12)
    assert normalized.std() == pytest.approx(1.0)


@pytest.mark.parametrize("value", [0.0, 1e200, -3.5])
def test_constant_pattern_is_flat_at_any_scale(value):
    with pytest.raises(PatternError, match="flat"):
        normalize_pattern(np.full(10, value))
