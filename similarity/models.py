import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedSearch(models.Model):
    """One search a user ran: what was asked, the pattern it resolved to, and what came back.

    The primary key is a random UUID, so a permalink cannot be guessed; only the owner reads it.
    `spec`, `options` and `result` follow the schema documented in similarity/services.py.
    """

    class Source(models.TextChoices):
        STOCK = "stock", _("a stock and a date range")
        PRICES = "prices", _("pasted prices")
        SKETCH = "sketch", _("a sketch")

    class Mode(models.TextChoices):
        HISTORY = "history", _("history")
        LATEST = "latest", _("latest")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_searches",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    source = models.CharField(_("pattern source"), max_length=8, choices=Source)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode, default=Mode.HISTORY)
    label = models.CharField(_("label"), max_length=200, blank=True)
    spec = models.JSONField(_("pattern as given"))
    pattern = models.JSONField(_("pattern prices"))
    options = models.JSONField(_("options"), default=dict)
    result = models.JSONField(_("result"), default=dict)
    match_count = models.PositiveIntegerField(_("matches"), default=0)
    elapsed_ms = models.FloatField(_("time taken (ms)"), default=0)
    snapshot_id = models.CharField(_("snapshot"), max_length=64, blank=True)
    snapshot_date = models.DateField(_("data up to"), null=True, blank=True)
    rerun_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reruns",
        verbose_name=_("run again from"),
    )

    class Meta:
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="savedsearch_user_created_idx"),
        ]

    def __str__(self) -> str:
        return self.label or str(self.id)
