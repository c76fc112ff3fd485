from captcha.fields import CaptchaField, CaptchaTextInput
from django.urls import reverse


class AudioCaptchaInput(CaptchaTextInput):
    """The CAPTCHA image with an audio alternative (read aloud from shipped clips, works offline)."""

    template_name = "portal/captcha_widget.html"

    def audio_url(self):
        return reverse("captcha_audio:wav", kwargs={"key": self._key})


def audio_captcha_field(label):
    """A required CAPTCHA with image and audio; ``label`` says what to type (translated by the caller)."""
    return CaptchaField(label=label, widget=AudioCaptchaInput(attrs={"autocomplete": "off", "class": "form-control"}))
