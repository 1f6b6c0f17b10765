"""A small HTTP server that answers the Stripe endpoints localstripe lacks, in Stripe's shapes.

It is the network boundary for the tests: the real `stripe` SDK talks to it over HTTP. It keeps
objects in memory, logs every request, and answers unknown objects with Stripe's 404 error body.
"""

import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test{next(_ids):06d}"


def stripe_list(data: list, url: str) -> dict:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def subscription_shape(
    *,
    subscription_id: str,
    customer_id: str,
    price_id: str,
    status: str = "active",
    current_period_end: int = 1_900_000_000,
    cancel_at_period_end: bool = False,
    ended_at: int | None = None,
) -> dict:
    """A subscription as Stripe's API (version 2025-03-31 and later) returns it."""
    return {
        "id": subscription_id,
        "object": "subscription",
        "customer": customer_id,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": ended_at,
        "ended_at": ended_at,
        "livemode": False,
        "metadata": {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{subscription_id}",
                    "object": "subscription_item",
                    "current_period_end": current_period_end,
                    "current_period_start": current_period_end - 30 * 86400,
                    "price": {
                        "id": price_id,
                        "object": "price",
                        "currency": "jpy",
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                    "quantity": 1,
                }
            ],
            "has_more": False,
        },
    }


class StripeServer:
    def __init__(self):
        self.customers: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.products: dict[str, dict] = {}
        self.prices: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def calls(self, method: str, path_pattern: str) -> list[dict]:
        return [
            params
            for call_method, path, params in self.requests
            if call_method == method and re.fullmatch(path_pattern, path)
        ]

    # --- endpoints ---------------------------------------------------------------------------

    def route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if method == "GET" and (match := re.fullmatch(r"/v1/subscriptions/([^/]+)", path)):
            found = self.subscriptions.get(match[1])
            return (200, found) if found else _missing("subscription", match[1])
        if method == "GET" and path == "/v1/products":
            return 200, stripe_list(list(self.products.values()), path)
        if method == "GET" and path == "/v1/prices":
            keys = {value for key, value in params.items() if key.startswith("lookup_keys")}
            found = [
                price
                for price in self.prices.values()
                if price["active"] and (not keys or price["lookup_key"] in keys)
            ]
            return 200, stripe_list(found, path)
        create = {
            "/v1/customers": self._customer_create,
            "/v1/checkout/sessions": self._checkout_session_create,
            "/v1/billing_portal/sessions": self._portal_session_create,
            "/v1/products": self._product_create,
            "/v1/prices": self._price_create,
        }
        if method == "POST" and path in create:
            return create[path](params)
        return 404, {"error": {"type": "invalid_request_error", "message": f"No route {path}"}}

    def _customer_create(self, params: dict) -> tuple[int, dict]:
        customer = {
            "id": new_id("cus"),
            "object": "customer",
            "email": params.get("email"),
            "metadata": _nested(params, "metadata"),
        }
        self.customers[customer["id"]] = customer
        return 200, customer

    def _checkout_session_create(self, params: dict) -> tuple[int, dict]:
        session_id = new_id("cs")
        return 200, {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode"),
            "customer": params.get("customer"),
            "client_reference_id": params.get("client_reference_id"),
            "status": "open",
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }

    def _portal_session_create(self, params: dict) -> tuple[int, dict]:
        if params.get("customer") not in self.customers:
            return _missing("customer", params.get("customer"))
        session_id = new_id("bps")
        return 200, {
            "id": session_id,
            "object": "billing_portal.session",
            "customer": params["customer"],
            "return_url": params.get("return_url"),
            "url": f"https://billing.stripe.com/p/session/{session_id}",
        }

    def _product_create(self, params: dict) -> tuple[int, dict]:
        product = {
            "id": new_id("prod"),
            "object": "product",
            "name": params.get("name"),
            "metadata": _nested(params, "metadata"),
        }
        self.products[product["id"]] = product
        return 200, product

    def _price_create(self, params: dict) -> tuple[int, dict]:
        if params.get("transfer_lookup_key") == "true":
            for price in self.prices.values():
                if price["lookup_key"] == params.get("lookup_key"):
                    price["lookup_key"] = None
        price = {
            "id": new_id("price"),
            "object": "price",
            "active": True,
            "product": params["product"],
            "currency": params["currency"],
            "unit_amount": int(params["unit_amount"]),
            "recurring": {"interval": params["recurring[interval]"], "interval_count": 1},
            "lookup_key": params.get("lookup_key"),
            "metadata": _nested(params, "metadata"),
        }
        self.prices[price["id"]] = price
        return 200, price

    def _handler(self):
        stripe_server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                params = dict(parse_qsl(url.query or body, keep_blank_values=True))
                stripe_server.requests.append((self.command, url.path, params))
                status, payload = stripe_server.route(self.command, url.path, params)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", new_id("req"))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *args):
                pass

        return Handler


def _nested(params: dict, name: str) -> dict:
    prefix = f"{name}["
    return {key[len(prefix) : -1]: value for key, value in params.items() if key.startswith(prefix)}


def _missing(kind: str, object_id) -> tuple[int, dict]:
    return 404, {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such {kind}: '{object_id}'",
            "param": "id",
        }
    }
