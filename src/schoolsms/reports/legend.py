"""The legends: what every delivery result, reason and SMS status means, in our own words."""

from __future__ import annotations

from schoolsms.messaging.models import FAILED_REASONS, INELIGIBLE_REASONS, DeliveryResult

# (label, stage, meaning)
RESULTS = [
    (
        "Not Sent Yet",
        "",
        "The message is waiting its turn: queued, scheduled for later, or held until quiet hours "
        "end. Nothing has been handed to the phone network yet.",
    ),
    (
        "Sending",
        "Sending",
        "We have passed the message to the phone network and are waiting for its answer.",
    ),
    (
        "Sent",
        "Sent",
        "The phone network took the message and will deliver it. A delivered time appears when "
        "the phone's carrier confirms it reached the handset.",
    ),
    (
        "Ineligible to Send",
        "Undelivered",
        "We did not send it, on purpose: one of our own rules said this number must not get "
        "this text. The reason column says which rule.",
    ),
    (
        "Failed to Send",
        "Undelivered",
        "We tried, and the phone network refused the message or could not get it to the phone. "
        "The reason and the carrier error code say why.",
    ),
]

# (code, meaning)
REASONS = [
    ("no_sms_number", "The contact has no phone number that is set up for texts."),
    ("blocked", "Your organization has put this number on its block list."),
    (
        "opted_out",
        "The person at this number asked to stop getting texts (for example by replying STOP).",
    ),
    ("pending_opt_in", "The number was invited to get texts but has not said yes yet."),
    ("not_opted_in", "We have no record of this number ever agreeing to texts."),
    (
        "duplicate_number",
        "Another person in the same broadcast shares this number, and that "
        "number gets the text only once.",
    ),
    (
        "carrier_error",
        "The phone network had a problem on its side (busy, overloaded, an "
        "outage, or a filter). Sending again later may work.",
    ),
    (
        "contact_account",
        "The phone line is switched off, suspended, not valid, or no longer "
        "exists. Check the number with the family.",
    ),
    (
        "no_sms_capability",
        "The number cannot take texts: it may be a landline, or texts (or "
        "short codes) are turned off on the phone.",
    ),
]

# (label, meaning)
STATUSES = [
    (
        "Pending Opt-In",
        "The number has not yet said yes to texts. Broadcasts skip it until the "
        "person replies yes to the invitation. "
        "Numbers we have no consent record for are counted here too.",
    ),
    ("Opted In", "The person confirmed they want texts at this number. Broadcasts reach it."),
    (
        "Opted Out",
        "The person asked not to be texted at this number. We will not text it "
        "until they opt back in themselves.",
    ),
]


def reasons_grouped() -> list[tuple[str, list[tuple[str, str]]]]:
    """The reasons as pages show them: under the result they belong to, each by its label
    (the codes are for exports and the API) with its meaning."""
    meaning = dict(REASONS)
    return [
        (result.label, [(r.label, meaning[r.value]) for r in reasons])
        for result, reasons in (
            (DeliveryResult.INELIGIBLE_TO_SEND, INELIGIBLE_REASONS),
            (DeliveryResult.FAILED_TO_SEND, FAILED_REASONS),
        )
    ]
