"""The CAPTCHA of the public pages (password reset in accounts, request forms in tickets).

django-simple-captcha draws the image; this package adds the challenge alphabet and the audio
alternative, read aloud from shipped clips so that it works offline with no system binary:

- ``audio``: ``challenge`` (the ``CAPTCHA_CHALLENGE_FUNCT``) and ``captcha_wav``, which speaks each
  character as a new recording every time, so that matching the public clips does not solve it;
- ``dsp``: the signal processing it uses (random EQ and all-pass, WSOLA, resampling), in numpy;
- ``fields``: ``audio_captcha_field``, the form field with image and audio;
- ``views`` and ``urls``: the WAV at /password-reset/captcha/<key>.wav.

It belongs to no domain app, so that both can use it without depending on each other.
"""
