"""Every limit of a search, in one place.

The validator, the form, the API serializer, their help texts and the page scripts (through
`script_limits`, rendered with `json_script`) read these names; none of them types a number of its
own. What the engine itself cannot do (patterns shorter or longer than it searches, prices beyond
what float64 squares hold) is defined by the engine and only named here.
"""

import math

from similarity import engine
from similarity.engine.market import MAX_CLOSE

# A pattern: prices, closes of a stock range, or a sketch's resampled days.
MIN_LENGTH = engine.MIN_LENGTH
MAX_LENGTH = engine.MAX_LENGTH
DEFAULT_SKETCH_DAYS = 60
# Every price and sketch coordinate lies within ±MAX_ABS_VALUE (beyond it squares of deviations
# overflow float64 and a pattern cannot be normalised).
MAX_ABS_VALUE = MAX_CLOSE
MAX_ABS_VALUE_TEXT = f"1e{round(math.log10(MAX_ABS_VALUE))}"  # "1e12", for messages
MAX_SKETCH_POINTS = 10_000
# Characters a page may post: the sketch's JSON and the pasted prices.
MAX_SKETCH_TEXT = 20 * MAX_SKETCH_POINTS
MAX_PRICES_TEXT = 40 * MAX_LENGTH

# Options.
DEFAULT_K = 10
MAX_K = 100
DEFAULT_HORIZONS = engine.DEFAULT_HORIZONS  # (5, 20, 60)
MAX_HORIZON = 250
MAX_HORIZONS = 5
HORIZON_CHOICES = (5, 10, 20, 60, 120, 250)  # offered by the search page
MAX_NAME_LENGTH = 100  # segment and sector names
STRETCH_FACTORS = engine.STRETCH_FACTORS  # also searched with the stretch option
STRETCH_MIN = min(STRETCH_FACTORS)
STRETCH_MAX = max(STRETCH_FACTORS)


def script_limits() -> dict:
    """The limits the page scripts check before posting (read through `json_script`)."""
    return {
        "minDays": MIN_LENGTH,
        "maxDays": MAX_LENGTH,
        "maxSketchPoints": MAX_SKETCH_POINTS,
    }
