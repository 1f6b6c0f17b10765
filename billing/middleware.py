from billing.entitlements import entitlements_per_request


class EntitlementsMiddleware:
    """Reads each user's plan limits once per request (see entitlements_per_request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with entitlements_per_request():
            return self.get_response(request)
