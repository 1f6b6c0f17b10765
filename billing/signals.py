"""What billing announces to the apps above it; the project layer (stocksite.pipeline) connects
the receivers, so billing never imports a higher app."""

from django.dispatch import Signal

# Sent with `user` whenever what a user may do may have gone down (a subscription synced, a
# complimentary plan changed or removed), after the change is saved: alerts pause what the plan
# no longer allows.
entitlements_changed = Signal()
