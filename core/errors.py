"""Domain errors: plain Python exceptions that services, selectors and the snapshot raise.

Each carries a stable machine-readable `code`, the HTTP `status` it stands for and, when input
failed validation, `fields` mapping each input field to its messages. Nothing here knows about
DRF or templates: the API's exception handler (`core.api.exception_handler`) turns them into
`{"error": {"code", "message", "fields"}}` responses, and the HTML views put `fields` on their
forms and `message` above them.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base for errors that a service raises and a page or the API shows as a 4xx (or 503)."""

    code: str = "invalid"
    status: int = 400
    default_message = _("The request could not be processed.")

    def __init__(self, message=None, *, fields: dict[str, list] | None = None):
        self._message = message
        self.fields = {name: list(messages) for name, messages in (fields or {}).items()}
        super().__init__(message)

    @property
    def message(self) -> str:
        """The sentence for a person: the message given, else the first field's, named."""
        if self._message is not None:
            return str(self._message)
        for name, messages in self.fields.items():
            if messages:
                return f"{name}: {messages[0]}"
        return str(self.default_message)

    def field_messages(self) -> dict[str, list[str]]:
        """`fields` with every message as text (in the language active now)."""
        return {
            name: [str(message) for message in messages] for name, messages in self.fields.items()
        }

    def __str__(self) -> str:
        return self.message


class InvalidInputError(DomainError):
    """Input that fails validation; `fields` names the fields at fault."""

    default_message = _("Invalid input.")

    @classmethod
    def for_field(cls, field_name: str, message) -> "InvalidInputError":
        return cls(fields={field_name: [message]})


class NotFoundError(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PaymentRequiredError(DomainError):
    code = "payment_required"
    status = 402
    default_message = _("This needs a paid plan: see /pricing/.")


class ServiceUnavailableError(DomainError):
    code = "unavailable"
    status = 503
    default_message = _("This is not available right now; try again in a minute.")
