"""What accounts announce to the apps above them; the project layer (stocksite.pipeline) connects
the receivers, so accounts never imports a higher app."""

from django.dispatch import Signal

# Sent with `user` just before a user is deleted, outside any transaction. A receiver that cannot
# let the user go (a payment provider that cannot be reached) raises a DomainError, and nothing
# is deleted.
account_deleting = Signal()
