"""The **Edit** button on the team's message and its form: the log form's fields,
filled in as the complaint is now. Saving goes through the complaint listeners'
`save_from_form`, so a refusal stays on the form like every other complaint form's."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack
from slack_sdk import WebClient

from bot import complaints as service
from bot.complaint_changes import Change, Verb, check_allowed
from bot.complaint_edits import Edit
from bot.complaint_text import plain_text
from bot.errors import UserFacingError
from bot.services import Services
from handlers import complaint_form_views as form_views
from handlers.forms import choice, input_values, private_metadata
from handlers.ids import Block
from handlers.messaging import tell
from models.complaints import ContactChannel, Severity

# (ack, client, view, change, error_block=…): apply a form's change, or show why not on the form.
SaveFromForm = Callable[..., None]


class EditForm:
    def __init__(self, services: Services, *, save: SaveFromForm) -> None:
        self.services = services
        self.save = save

    def on_button(self, ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        try:
            with self.services.open_session() as session:
                complaint = service.get_complaint(session, service.parse_reference(action.get("value", "")))
            check_allowed(verb=Verb.EDIT, actor_id=user_id, complaint=complaint, permissions=self.services.permissions)
        except UserFacingError as exc:
            tell(client, user_id, (body.get("channel") or {}).get("id", ""), f":warning: {exc}")
            return
        view = form_views.edit_complaint_modal(complaint, categories=self.services.settings.complaint_categories)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def on_submitted(self, ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        values = input_values(view)
        categories = self.services.settings.complaint_categories
        edit = Edit(
            # No description input when it is too long for the form: it is left as it is.
            description=plain_text(values[Block.DESCRIPTION]) if Block.DESCRIPTION in values else None,
            customer_name=plain_text(values.get(Block.CUSTOMER_NAME, "")),
            customer_contact=plain_text(values.get(Block.CUSTOMER_CONTACT, "")),
            contact_channel=choice(ContactChannel, values.get(Block.CONTACT_CHANNEL), None),
            category=values.get(Block.CATEGORY) if values.get(Block.CATEGORY) in categories else None,
            severity=choice(Severity, values.get(Block.SEVERITY), None),
        )
        change = Change(Verb.EDIT, int(private_metadata(view)["id"]), body["user"]["id"], edit=edit)
        error_block = Block.DESCRIPTION if Block.DESCRIPTION in values else Block.CUSTOMER_NAME
        self.save(ack, client, view, change, error_block=error_block)
