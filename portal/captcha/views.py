from captcha.models import CaptchaStore
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language

from .audio import captcha_wav


def captcha_audio(request, key):
    """The CAPTCHA read aloud, in the page's language (WAV built from shipped clips)."""
    store = CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).first()
    if store is None:
        raise Http404
    response = HttpResponse(captcha_wav(store.challenge, get_language() or "en"), content_type="audio/wav")
    response["Cache-Control"] = "no-store"
    return response
