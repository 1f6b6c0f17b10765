"""A real SMTP server (aiosmtpd) on a free local port, keeping what it receives."""

import email
import socket
from email import policy

from aiosmtpd.controller import Controller


class _Inbox:
    def __init__(self, refuse: int):
        self.messages = []
        self.refused = 0
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.refuse:
            self.refused += 1
            return "451 Requested action aborted: try again later"
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(
            {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": message}
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPServer:
    """`with SMTPServer() as server:` serves on server.port; server.messages holds the mails.

    `refuse`: how many mails to refuse first with a temporary error (451).
    """

    def __init__(self, refuse: int = 0):
        self.inbox = _Inbox(refuse)
        self.port = _free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[dict]:
        return self.inbox.messages

    def __enter__(self):
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()
