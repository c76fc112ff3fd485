from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.form_html import joined

from ..form_markup import bootstrap_field
from ..models import Status

register = template.Library()

PLAIN_WORDS = {
    Status.AWAITING_EMAIL_CONFIRMATION: _("We are waiting for you to confirm your email with the link we sent."),
    Status.NEW: _("Your request is in our queue; an agent will pick it up soon."),
    Status.IN_REVIEW: _("An agent is checking your request."),
    Status.WAITING_ON_REQUESTER: _("We need something from you: see the latest message and reply below."),
    Status.VERIFIED: _("Our checks are complete; we are preparing the change of administrator."),
    Status.ELEVATION_PROPOSED: _("A second person is reviewing the change of administrator before it is made."),
    Status.COOLING_OFF: _(
        "Approved. For your security, the change takes effect only after a waiting period, "
        "during which the company's administrators can object."
    ),
    Status.DISPUTED: _("Someone at your company objected to this request. It is on hold while a supervisor looks into it."),
    Status.ELEVATED: _("Done: the new global admin has received an email with sign-in instructions."),
    Status.REJECTED: _("We could not accept this request; the reason is below."),
    Status.CANCELLED: _("You cancelled this request."),
    Status.EXPIRED: _("This request expired because the email was not confirmed in time."),
}


@register.filter
def status_label(code):
    try:
        return Status(code).label
    except ValueError:
        return code


@register.filter
def status_plain(code):
    return PLAIN_WORDS.get(code, "")


@register.filter
def duration(value):
    """A waiting period as people say it: "72 hours", "10 minutes"."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


@register.simple_tag
def bootstrap_fields(form, *names):
    """The named fields as ``{% crispy form %}`` renders them (tickets/form_markup.py), in the order given."""
    return joined(bootstrap_field(form[name], inline_errors=True) for name in names)


@register.filter
def bootstrap_form(form):
    """The whole form as ``{{ form|crispy }}`` renders it: its errors not tied to a field, then each field."""
    errors = ""
    if form.non_field_errors():
        items = format_html_join("\n", "<li>{}</li>", ((e,) for e in form.non_field_errors()))
        errors = format_html('<div class="alert alert-block alert-danger"><ul class="m-0">{}</ul></div>', items)
    return joined([errors, *(bootstrap_field(field) for field in form)])
