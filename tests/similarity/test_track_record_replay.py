"""A past stretch replayed with the data known at the time and graded by what followed: how
`make run` fills the demo accounts' track record (答え合わせ) from history."""

from django.core.management import call_command

from similarity.models import SavedSearch, SearchGrade
from similarity.track_record import track_record_replay
from tests.factories import UserFactory

SPEC = {"source": "stock", "code": "7974", "from": "2018-03-01", "to": "2018-05-31"}


def test_a_replayed_search_sees_only_the_past_and_is_graded_at_once(search_market, pro_user):
    saved = track_record_replay(user=pro_user, spec=SPEC)

    assert saved.options["as_of"] is True
    assert saved.tracks_outcome
    assert sorted(saved.grades.values_list("horizon", flat=True)) == [5, 20, 60]


def test_the_demo_command_fills_the_demo_accounts_track_record_once(search_market, client):
    from stocksite.management.commands.bootstrap_demo import DEMO_PRO_EMAIL

    user = UserFactory(email=DEMO_PRO_EMAIL)
    call_command("demo_track_record")
    call_command("demo_track_record")

    assert SavedSearch.objects.filter(user=user).count() == 3
    # Without the complimentary Pro of bootstrap_demo, the Free plan: the first horizon only.
    assert SearchGrade.objects.filter(saved_search__user=user).count() == 3
    client.force_login(user)
    assert "7974" in client.get("/account/track-record/").content.decode()
