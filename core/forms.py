from core.errors import DomainError


class DomainErrorFormMixin:
    """A form that shows a validator's or a service's DomainError where it belongs.

    `domain_error_fields` maps a service's input names to this form's field names where they
    differ; a message about an input the form does not have goes on top of the form.
    """

    domain_error_fields: dict[str, str] = {}

    def add_domain_error(self, error: DomainError) -> None:
        if not error.fields:
            self.add_error(None, error.message)
        for key, messages in error.field_messages().items():
            field = self.domain_error_fields.get(key, key)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
