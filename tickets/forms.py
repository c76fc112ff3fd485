"""Public forms: filing a request, replying, asking for a fresh link."""

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.selectors import domain_covers, email_domain
from portal.captcha.fields import audio_captcha_field
from portal.timezones import clean_zone

from .evidence import evidence_check_many
from .freemail import is_free_mail
from .models import Category, ServiceRequest
from .widgets import CountryChoiceField, CountrySelect

DOMAIN_RE = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by ``tickets.evidence``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        cleaned = [super(MultipleFileField, self).clean(f, initial) for f in files]
        if self.required and not cleaned:
            raise ValidationError(self.error_messages["required"], code="required")
        evidence_check_many(cleaned)
        return cleaned


def evidence_field(required=False):
    return MultipleFileField(
        label=_("Evidence"),
        required=required,
        # format_lazy, not %: this runs at import (class bodies), and % would translate it once, in English.
        help_text=format_lazy(
            _(
                "PDF, JPEG or PNG; up to {count} files of {size} MB each. "
                "For example: an ID document, a letter on company paper, proof the former admin left."
            ),
            count=settings.EVIDENCE_MAX_FILES,
            size=settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
        ),
    )


def normalise_domain(value: str) -> str:
    value = value.strip().lower()
    value = re.sub(r"^[a-z]+://", "", value).split("/")[0]
    return value[4:] if value.startswith("www.") else value


class ServiceRequestForm(forms.ModelForm):
    """The public filing form; templates/tickets/request_form.html lays its fields out in fieldsets."""

    evidence = evidence_field()
    consent = forms.BooleanField(
        label=_(
            "I agree that support may verify these details, including by calling the company's "
            "phone number on record and contacting its current administrators."
        ),
        required=True,
    )
    captcha = audio_captcha_field(_("Type the characters in the image, or those you hear"))
    # Filled by portal/timezone.js with the browser's zone, for the tracking page's times; empty without JavaScript.
    time_zone = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-browser-time-zone": ""}))
    company_country = ServiceRequest._meta.get_field("company_country").formfield(
        choices_form_class=CountryChoiceField, widget=CountrySelect
    )

    class Meta:
        model = ServiceRequest
        fields = [
            "company_legal_name",
            "company_partner_id",
            "company_domain",
            "company_country",
            "company_address",
            "company_phone",
            "requester_name",
            "requester_email",
            "requester_phone",
            "requester_job_title",
            "former_admin_name",
            "former_admin_email",
            "former_admin_reason",
            "former_admin_details",
            "elevate_email",
            "elevate_name",
            "reason",
            "time_zone",
        ]
        widgets = {
            "company_address": forms.Textarea(attrs={"rows": 3}),
            "former_admin_details": forms.Textarea(attrs={"rows": 2}),
            "reason": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "company_partner_id": _("If you know it; it is on your partner agreement."),
            "company_domain": _("The domain of your work email addresses, e.g. example.com."),
            "requester_email": _("Must be on the company domain. We send a confirmation link to it."),
            "elevate_email": _("An existing account, or a new one on the company domain."),
        }

    def __init__(self, *args, category: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.category = category
        admin_left = category == Category.ADMIN_LEFT
        for name in ("former_admin_name", "former_admin_email", "former_admin_reason"):
            self.fields[name].required = admin_left

    def markup_cache_key(self) -> str:
        """What the empty form's fields depend on besides the language (tickets/form_markup.py)."""
        return self.category

    def clean_time_zone(self):
        return clean_zone(self.cleaned_data.get("time_zone"))

    def clean_company_domain(self):
        domain = normalise_domain(self.cleaned_data["company_domain"])
        if not DOMAIN_RE.match(domain):
            raise ValidationError(_("Enter a domain such as example.com."))
        if is_free_mail(domain):
            raise ValidationError(_("%(domain)s is a public email service, not a company domain.") % {"domain": domain})
        return domain

    def clean_requester_email(self):
        email = self.cleaned_data["requester_email"].strip().lower()
        if is_free_mail(email_domain(email)):
            raise ValidationError(
                _(
                    "%(domain)s is a public email service. Use your work address on the company's domain: "
                    "we can only act for a company when the request comes from its own domain."
                )
                % {"domain": email_domain(email)}
            )
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        domain = cleaned.get("company_domain")
        if domain:
            for name in ("requester_email", "elevate_email"):
                email = cleaned.get(name)
                if email and not domain_covers(domain, email):
                    self.add_error(name, _("This address is not on %(domain)s, the company domain you gave.") % {"domain": domain})
            former = cleaned.get("former_admin_email")
            if former and cleaned.get("requester_email") and former.lower() == cleaned["requester_email"]:
                self.add_error("former_admin_email", _("The former admin cannot be you."))
        return cleaned


class TrackingReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
    evidence = evidence_field()

    def markup_cache_key(self) -> str:
        """Its empty fields are the same on every tracking page (tickets/form_markup.py)."""
        return ""


class TrackingLinkForm(forms.Form):
    reference = forms.CharField(
        label=_("Request reference"), max_length=16, help_text=_("Like SR-7K3Q-9XMD, from your confirmation email.")
    )
    email = forms.EmailField(label=_("Your work email"))
    captcha = audio_captcha_field(_("Type the characters in the image, or those you hear"))


class ObjectionForm(forms.Form):
    message = forms.CharField(
        label=_("Message to support (optional)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example: I am still the administrator, or I do not know this person."),
    )
