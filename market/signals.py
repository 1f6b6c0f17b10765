"""What market announces to the apps above it; the project layer (stocksite.pipeline) connects
the receivers, so market never imports a higher app."""

from django.dispatch import Signal

# Sent once a run that wrote bars or found splits has committed: the stored prices changed.
prices_changed = Signal()
