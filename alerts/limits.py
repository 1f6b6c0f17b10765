"""The bounds on what one user's alerts keep, each stated once. The plan's `max_alerts` (billing)
bounds the active ones; these bound what is stored beside them."""

# Alerts kept in total, active and paused: this many times the plan's active alerts, so that
# pausing one and creating another cannot go on for ever.
STORED_PER_ACTIVE_ALLOWED = 2
# Hits kept per alert and data date: the best by correlation; the others are only counted
# (Alert.hits_not_kept), so that a loose pattern cannot store a fifth of the market every day.
HITS_KEPT_PER_ALERT_AND_DAY = 50
# Days a hit is kept; the daily prune (alerts.tasks.alert_hits_prune) deletes older ones.
HITS_KEPT_DAYS = 90
# Hits one digest lists, the best by correlation; the others are on the alerts page, one click
# away (a digest of thousands of hits runs past mail servers' size limits).
HITS_PER_DIGEST = 100
