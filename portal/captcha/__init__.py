"""The CAPTCHA of the public pages (password reset in accounts, request forms in tickets).

django-simple-captcha draws the image; this package adds the challenge alphabet and the audio
alternative, read aloud from shipped clips so that it works offline with no system binary:

- ``audio``: ``challenge`` (the ``CAPTCHA_CHALLENGE_FUNCT``) and ``captcha_wav``;
- ``fields``: ``audio_captcha_field``, the form field with image and audio;
- ``views`` and ``urls``: the WAV at /password-reset/captcha/<key>.wav.

It belongs to no domain app, so that both can use it without depending on each other.
"""
