"""The bounds on what one user's alerts keep, each stated once. The plan's `max_alerts` (billing)
bounds the active ones; these bound what is stored beside them."""

# Alerts kept in total, active and paused: this many times the plan's active alerts, so that
# pausing one and creating another cannot go on for ever.
STORED_PER_ACTIVE_ALLOWED = 2
