"""What similarity announces to the apps above it; the project layer (stocksite.pipeline)
connects the receivers, so similarity never imports a higher app."""

from django.dispatch import Signal

# Sent with `date` when a rebuilt snapshot's data reach a trading day the previous one did not.
snapshot_date_advanced = Signal()
