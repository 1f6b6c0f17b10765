from django import forms
from django.utils.translation import gettext_lazy as _

from market.exchanges.tse.sectors import sector_label, segment_label


class StockFilterForm(forms.Form):
    """The stock directory's query string: free text plus segment and sector filters."""

    q = forms.CharField(
        label=_("Code or name"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("7203, トヨタ, Ｎｉｎｔｅｎｄｏ …")}
        ),
    )
    segment = forms.ChoiceField(label=_("Market segment"), required=False)
    sector = forms.ChoiceField(label=_("Sector"), required=False)

    def __init__(self, *args, segments: list[str], sectors: list[tuple[str, str]], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", _("All segments"))] + [
            (segment, segment_label(segment)) for segment in segments
        ]
        self.fields["sector"].choices = [("", _("All sectors"))] + [
            (code, sector_label(code, name)) for code, name in sectors
        ]
