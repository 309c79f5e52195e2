"""What a 429 of the throttle (app/throttle.py) says: what was too much, and when to try
again, in minutes, in the reader's language."""

from flask_babel import gettext, ngettext


def too_many_passwords(minutes):
    """Return the 429's message after too many failed passwords."""
    return ngettext(
        "Too many failed password attempts. For your account's safety, try again in a minute.",
        "Too many failed password attempts. For your account's safety, try again in "
        "%(num)d minutes.",
        minutes,
    )


def too_many_signups(minutes):
    """Return the 429's message after too many sign-ups from one place or in all."""
    return ngettext(
        "Too many sign-ups from here just now. Please try again in a minute.",
        "Too many sign-ups from here just now. Please try again in %(num)d minutes.",
        minutes,
    )


def too_many_resets(minutes):
    """Return the 429's message after too many password resets asked for."""
    return ngettext(
        "Too many password resets asked for just now. Please try again in a minute.",
        "Too many password resets asked for just now. Please try again in %(num)d minutes.",
        minutes,
    )


def too_many_mails(minutes):
    """Return the 429's message after too many mails asked for by one account."""
    return ngettext(
        "Memo has sent you enough mail for now. Please try again in a minute.",
        "Memo has sent you enough mail for now. Please try again in %(num)d minutes.",
        minutes,
    )


def too_many_signins(minutes):
    """Return the 429's message after too many sign-in attempts on all of Memo."""
    return ngettext(
        "Too many sign-in attempts on Memo just now. Please try again in a minute.",
        "Too many sign-in attempts on Memo just now. Please try again in %(num)d minutes.",
        minutes,
    )


def too_many_failed_signins(minutes):
    """Return the 429's message after too many failed sign-ins from one place."""
    return ngettext(
        "Too many failed sign-ins from here just now. Please try again in a minute.",
        "Too many failed sign-ins from here just now. Please try again in %(num)d minutes.",
        minutes,
    )


def too_many_codes(minutes):
    """Return the 429's message after too many wrong codes of the second step."""
    return ngettext(
        "Too many wrong codes or passkeys. For your account's safety, try again in a minute.",
        "Too many wrong codes or passkeys. For your account's safety, try again in %(num)d "
        "minutes.",
        minutes,
    )


def too_many_writes(minutes):
    """Return the 429's message after saving notes too fast."""
    return ngettext(
        "You are saving notes faster than Memo allows. Please try again in a minute.",
        "You are saving notes faster than Memo allows. Please try again in %(num)d minutes.",
        minutes,
    )


def too_many_previews(minutes):
    """Return the 429's message after too many previews of the editor."""
    return ngettext(
        "Too many previews just now. Please try again in a minute.",
        "Too many previews just now. Please try again in %(num)d minutes.",
        minutes,
    )


def too_many_token_writes(name, minutes):
    """Return the 429's message after notes saved too fast through a token (the API): which
    token, and when to try again."""
    told = gettext(
        "Notes are being saved through the token “%(name)s” faster than Memo allows for your "
        "tokens.",
        name=name,
    )
    again = ngettext(
        "Please try again in a minute.", "Please try again in %(num)d minutes.", minutes
    )
    return f"{told} {again}"
