"""Small forms behind the action buttons on the admin request page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant

from .models import CheckKind, CheckOutcome, Message, Objection, ServiceRequest
from .policy import AUTOMATIC


class MatchTenantForm(forms.Form):
    tenant = forms.ModelChoiceField(label=_("Tenant"), queryset=Tenant.objects.all())


class MessageForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Message.Kind.choices, initial=Message.Kind.INTERNAL)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)


class AskInformationForm(forms.Form):
    body = forms.CharField(label=_("What do you need from the requester?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)


class CheckForm(forms.Form):
    kind = forms.ChoiceField(label=_("Check"), choices=[c for c in CheckKind.choices if c[0] not in AUTOMATIC])
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[c for c in CheckOutcome.choices if c[0] != CheckOutcome.VOIDED])
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason (the requester sees it)"), widget=forms.Textarea(attrs={"rows": 2}))


class ProposeElevationForm(forms.Form):
    email = forms.EmailField(label=_("Email of the user to make global admin"))
    full_name = forms.CharField(label=_("Full name"), required=False, max_length=150)
    note = forms.CharField(
        label=_("Note (required if this is not the user the requester named)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
    )


class ApproveElevationForm(forms.Form):
    """What the supervisor saw on the page: approval binds to it."""

    elevation_id = forms.IntegerField(widget=forms.HiddenInput)
    email = forms.EmailField(widget=forms.HiddenInput)


class ShortenWaitingForm(forms.Form):
    minutes = forms.IntegerField(label=_("New waiting period, in minutes from its start"), min_value=1)
    reason = forms.CharField(label=_("Reason (recorded)"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class OverrideBlockForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason to go on although an active admin signed in recently (recorded)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
    )


class ResolveObjectionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Objection.Resolution.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason (the requester and the objector see it)"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )


class LinkRequestsForm(forms.Form):
    other = forms.ModelChoiceField(label=_("Concurrent request"), queryset=ServiceRequest.objects.none())
    reason = forms.CharField(label=_("Why both may go on (recorded)"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def __init__(self, *args, concurrent=(), **kwargs):
        super().__init__(*args, **kwargs)
        other = self.fields["other"]
        assert isinstance(other, forms.ModelChoiceField)  # noqa: S101  (for the type checker)
        other.queryset = ServiceRequest.objects.filter(pk__in=[r.pk for r in concurrent])


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
    "approve_elevation": ApproveElevationForm,
    "send_back": SendBackForm,
    "shorten_waiting": ShortenWaitingForm,
    "override_block": OverrideBlockForm,
    "resolve_objection": ResolveObjectionForm,
    "link_requests": LinkRequestsForm,
    "dns_look_up": None,
}
