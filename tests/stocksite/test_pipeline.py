"""The links of stocksite.pipeline, each run for real: a lower app's signal starts the next step
of a higher app."""

import pytest

from market.signals import prices_changed
from similarity.snapshot import SnapshotMissing, snapshot_current
from tests.factories import StockFactory


@pytest.mark.django_db(transaction=True)
def test_new_prices_rebuild_the_search_snapshot(settings, tmp_path):
    settings.SIMILARITY_SNAPSHOT_DIR = str(tmp_path / "snapshots")
    StockFactory(code="7203", closes=[1000.0 + day for day in range(80)])
    with pytest.raises(SnapshotMissing):
        snapshot_current()

    prices_changed.send(sender=None)

    assert snapshot_current().market.size == 80
