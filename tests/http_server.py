"""pytest-httpserver's server, for the local stand-ins of kabutan, J-Quants and LINE."""

from pytest_httpserver import HTTPServer

# How often the serving thread looks whether it was asked to stop; werkzeug's default, half a
# second, made every test that stops a server wait a quarter of a second on average.
POLL_SECONDS = 0.01


class LocalHTTPServer(HTTPServer):
    """An HTTPServer on a free port that stops at once (see POLL_SECONDS)."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=POLL_SECONDS)
