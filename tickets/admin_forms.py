"""Small forms behind the action buttons on the admin request page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant

from .models import CheckKind, CheckOutcome, Message


class MatchTenantForm(forms.Form):
    tenant = forms.ModelChoiceField(label=_("Tenant"), queryset=Tenant.objects.all())


class MessageForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Message.Kind.choices, initial=Message.Kind.INTERNAL)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)


class AskInformationForm(forms.Form):
    body = forms.CharField(label=_("What do you need from the requester?"),
                           widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)


class CheckForm(forms.Form):
    kind = forms.ChoiceField(label=_("Check"), choices=[c for c in CheckKind.choices if c[0] != CheckKind.EMAIL_CONFIRMED])
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CheckOutcome.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason (the requester sees it)"), widget=forms.Textarea(attrs={"rows": 2}))


class ProposeElevationForm(forms.Form):
    email = forms.EmailField(label=_("Email of the user to make global admin"))
    full_name = forms.CharField(label=_("Full name"), required=False, max_length=150)


class SendBackForm(forms.Form):
    note = forms.CharField(label=_("Why it goes back to review"), widget=forms.Textarea(attrs={"rows": 2}))


ACTION_FORMS = {
    "assign": None,
    "match_tenant": MatchTenantForm,
    "message": MessageForm,
    "ask_information": AskInformationForm,
    "record_check": CheckForm,
    "reject": RejectForm,
    "propose_elevation": ProposeElevationForm,
    "approve_elevation": None,
    "send_back": SendBackForm,
}
