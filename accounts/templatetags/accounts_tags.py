from django import template

from ..models import Membership

register = template.Library()


@register.filter
def role_label(code):
    """A role's name in the active language (emails are rendered in the recipient's)."""
    try:
        return Membership.Role(code).label
    except ValueError:
        return code or "—"
