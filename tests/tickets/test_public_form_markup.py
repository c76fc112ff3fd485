"""The public form's fast rendering gives people the same page: crispy's markup, Django's widgets, the choice kept.

tickets/form_markup.py writes crispy-bootstrap5's field markup in Python, tickets/widgets.py renders the
country <select> from a per-language cache and portal/form_html.py writes Django's plain inputs: each is
compared here with what crispy and Django render themselves, in English and French, empty and with errors.
"""

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from crispy_forms.utils import render_field
from django import forms
from django.template import Context
from django.test.html import parse_html
from django.utils import translation

from tests.helpers import captcha_answer, form_data
from tickets.form_markup import bootstrap_field
from tickets.forms import ServiceRequestForm, TrackingReplyForm

URL = "/requests/new/admin_left/"
TYPED = {
    "company_legal_name": 'Fabrikam <b>"&"</b>',
    "company_domain": "gmail.com",  # refused: errors next to the field and its help text
    "company_country": "DE",
    "requester_email": "claire@gmail.com",
    "reason": "Line one\n<script>x</script>",
}


def _forms():
    yield ServiceRequestForm(category="admin_left", initial={"company_country": "FR", "company_legal_name": "A&B"})
    bound = ServiceRequestForm(TYPED, category="admin_left")
    bound.is_valid()
    yield bound
    yield ServiceRequestForm(category="other")


def _crispy(bf):
    """The field as ``{% crispy form %}`` rendered it (errors inline, in spans)."""
    context = Context({"form_show_errors": True, "form_show_labels": True, "error_text_inline": True})
    return render_field(bf.name, bf.form, context, template="bootstrap5/field.html", template_pack="bootstrap5")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_each_field_has_crispys_markup(db, language):
    with translation.override(language):
        for form in _forms():
            for name in form.fields:
                if name == "captcha":
                    continue  # a new key at every render: compared below, on one render
                ours = parse_html(bootstrap_field(form[name], inline_errors=True))
                theirs = parse_html(_crispy(form[name]))
                assert ours == theirs, name


def test_the_captcha_field_has_crispys_markup(db):
    form = ServiceRequestForm(category="admin_left")
    html = str(bootstrap_field(form["captcha"], inline_errors=True))
    key = captcha_answer(html)["captcha_0"]
    # crispy renders the same widget; only its new key differs
    theirs = _crispy(ServiceRequestForm(category="admin_left")["captcha"])
    theirs_key = captcha_answer(theirs)["captcha_0"]
    assert parse_html(html) == parse_html(theirs.replace(theirs_key, key))
    assert 'aria-label="Listen to the characters"' in html and 'name="captcha_1"' in html


def test_the_tracking_reply_form_has_crispys_markup(db):
    for form in (TrackingReplyForm(), TrackingReplyForm({"body": ""})):
        form.is_valid()
        for bf in form:
            assert parse_html(bootstrap_field(bf)) == parse_html(as_crispy_field(bf)), bf.name


@pytest.mark.parametrize("value", [None, "", "FR", "CI", "XX"])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_country_select_is_djangos_select_byte_for_byte(db, language, value):
    with translation.override(language):
        form = ServiceRequestForm({"company_country": value} if value is not None else None, category="admin_left")
        ours = str(form["company_country"])
        field = form.fields["company_country"]
        field.widget = forms.Select(choices=field.choices)
        assert ours == str(form["company_country"])


def test_a_re_rendered_form_keeps_the_chosen_country_with_its_label(client, db):
    page = client.get(URL).content.decode()
    data = {**form_data(company_country="DE", company_domain="gmail.com"), **captcha_answer(page)}
    html = client.post(URL, data).content.decode()
    assert "gmail.com is a public email service" in html, "refused, so the form comes back"
    assert '<option value="DE" selected>Germany</option>' in html
    select = html.split('name="company_country"')[1].split("</select>")[0]
    assert select.count(" selected>") == 1, "one country chosen, not the blank option too"
    french = client.post(URL, {**data, **captcha_answer(client.get(URL).content.decode())}, HTTP_ACCEPT_LANGUAGE="fr")
    assert '<option value="DE" selected>Allemagne</option>' in french.content.decode()


def test_an_empty_form_selects_no_country_and_labels_the_select(client, db):
    html = client.get(URL).content.decode()
    assert '<label for="id_company_country" class="form-label requiredField">' in " ".join(html.split())
    assert '<option value="" selected>---------</option>' in html
    assert '<select name="company_country" class="countryselect form-select" required id="id_company_country">' in html


def test_the_empty_forms_fields_written_once_per_language_and_category_still_fit_each_page(client, db):
    """The empty form's field markup is reused (tickets/form_markup.py): each language, category and
    prefilled link still gets its own, and the CAPTCHA is a new one on every page."""
    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french = client.get(URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    again = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Company legal name" in english and "Company legal name" in again
    assert "Company legal name" not in french and "aison sociale de l’entreprise" in french
    key = 'name="captcha_0" value="'
    assert english.split(key)[1][:40] != again.split(key)[1][:40], "a new CAPTCHA challenge on every page"

    def former_admin_label(page):
        return page.split('for="id_former_admin_name"')[1].split("</label>")[0]

    assert "asteriskField" in former_admin_label(english), "required when the admin has left"
    other = client.get("/requests/new/other_access/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "asteriskField" not in former_admin_label(other), "optional for another access problem"
    prefilled = client.get(URL, {"company_domain": "fabrikam.example"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'value="fabrikam.example"' in prefilled
    assert 'value="fabrikam.example"' not in client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
