"""Keywords texted to a sender (STOP, START, HELP) and the replies CTIA asks for."""

from __future__ import annotations

import re
from typing import Literal

from schoolsms.accounts.models import Sender

Keyword = Literal["opt_out", "opt_in", "help"]

OPT_OUT = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT")
OPT_IN = ("START", "YES", "Y", "UNSTOP")
HELP = ("HELP", "INFO")

_KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(OPT_OUT, "opt_out"),
    **dict.fromkeys(OPT_IN, "opt_in"),
    **dict.fromkeys(HELP, "help"),
}
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def keyword_classify(text: str) -> Keyword | None:
    """The keyword the whole message is, ignoring case, surrounding spaces and punctuation
    ("Stop." and " stop! " are STOP; "please stop texting" is not a keyword)."""
    word = " ".join(_EDGES.sub("", text or "").split()).upper()
    return _KEYWORDS.get(word)


def _program(sender: Sender) -> str:
    return sender.program_name or f"Messages from {sender.code}"


def reply_help(sender: Sender) -> str:
    contact = sender.help_contact or "your school office"
    return (
        f"{_program(sender)}: school alerts and notices. For help contact {contact}. "
        "Msg & data rates may apply. Reply STOP to cancel."
    )


def reply_opt_out(sender: Sender) -> str:
    # The one confirmation the FCC allows: it says so, and nothing else.
    return f"{_program(sender)}: You are unsubscribed and will receive no more messages."


def reply_opt_in(sender: Sender) -> str:
    return (
        f"{_program(sender)}: You are subscribed to school alerts. Msg frequency varies. "
        "Msg & data rates may apply. Reply HELP for help, STOP to cancel."
    )


def reply_for(keyword: Keyword, sender: Sender) -> str:
    return {"opt_out": reply_opt_out, "opt_in": reply_opt_in, "help": reply_help}[keyword](sender)
