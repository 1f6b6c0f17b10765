import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from billing.throttling import PlanRateThrottle


class ThrottledApi(APIView):
    permission_classes: list = []
    throttle_classes = [PlanRateThrottle]

    def get(self, request):
        return Response({"ok": True})


def _get(view, user):
    request = APIRequestFactory().get("/api/v1/anything/")
    force_authenticate(request, user=user)
    return view.as_view()(request)


def test_free_user_asking_the_api_for_searches_gets_402_pointing_to_pricing(client, user):
    client.force_login(user)

    response = client.get("/api/v1/searches/")

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "payment_required"
    assert "/pricing/" in response.json()["error"]["message"]


def test_pro_user_gets_the_searches_from_the_api(client, user, make_subscription):
    make_subscription(user, status="active")
    client.force_login(user)

    assert client.get("/api/v1/searches/").status_code == 200


def test_free_user_cannot_get_an_api_token(client, user):
    response = client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": "s3cret-Pass!"},
        content_type="application/json",
    )

    assert response.status_code == 402
    assert "/pricing/" in response.json()["error"]["message"]


@pytest.mark.parametrize(("plan_rate", "allowed"), [(2, 2), (5, 5)])
def test_api_throttle_rate_follows_the_plan(user, free_plan, plan_rate, allowed):
    free_plan.api_requests_per_minute = plan_rate
    free_plan.save()

    statuses = [_get(ThrottledApi, user).status_code for _ in range(plan_rate + 1)]

    assert statuses == [200] * allowed + [429]


def test_api_throttle_is_counted_in_redis(redis_url, user, free_plan):
    from django.core.cache import cache

    free_plan.api_requests_per_minute = 1
    free_plan.save()

    _get(ThrottledApi, user)

    assert any("throttle:plan:user:" in key.decode() for key in cache._cache.get_client().keys("*"))
    assert _get(ThrottledApi, user).status_code == 429


def test_throttled_answer_uses_the_error_format(user, free_plan):
    free_plan.api_requests_per_minute = 0
    free_plan.save()

    response = _get(ThrottledApi, user)

    assert response.status_code == 429
    assert response.data["error"]["code"] == "throttled"
