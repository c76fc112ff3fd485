from captcha.fields import CaptchaField, CaptchaTextInput
from django.urls import reverse

from portal import form_html


class AudioCaptchaInput(CaptchaTextInput):
    """The CAPTCHA image with an audio alternative (read aloud from shipped clips, works offline)."""

    template_name = "portal/captcha_widget.html"
    # One visible input: a <label for> names it. Django's default for a MultiWidget is a fieldset, which
    # crispy renders as <legend for=…> (labels nothing) and which keeps aria-invalid off the input.
    use_fieldset = False
    per_request = True  # a new challenge on every rendering: never reuse its markup (tickets/form_markup.py)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        hidden, answer = context["widget"]["subwidgets"]
        for key in ("aria-invalid", "aria-describedby", "required"):
            hidden["attrs"].pop(key, None)
        # The form's attrs replace each input's own class: put back what the template asked for (is-invalid
        # from crispy), and mark the answer invalid whenever the field has an error, with or without crispy.
        classes = (self.attrs.get("class", "") + " " + self.widgets[1].attrs.get("class", "")).split()
        if answer["attrs"].get("aria-invalid") == "true":
            classes.append("is-invalid")
        answer["attrs"]["class"] = " ".join(dict.fromkeys(classes))
        # The key and answer inputs as Django's templates write them, without two template renders each.
        inputs = [form_html.widget_html(sub) for sub in context["widget"]["subwidgets"]]
        context["widget"]["inputs"] = form_html.joined(i for i in inputs if i is not None) if None not in inputs else None
        return context

    def audio_url(self):
        return reverse("captcha_audio:wav", kwargs={"key": self._key})


def audio_captcha_field(label):
    """A required CAPTCHA with image and audio; ``label`` says what to type (translated by the caller)."""
    return CaptchaField(label=label, widget=AudioCaptchaInput(attrs={"autocomplete": "off", "class": "form-control"}))
