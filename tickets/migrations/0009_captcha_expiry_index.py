"""An index on the CAPTCHA store's expiry: each form checked deletes the expired challenges (django-simple-captcha's
``CaptchaStore.remove_expired``), and each anonymous GET adds one, so the table grows with traffic; without the
index that clean-up reads the whole table every time. The model is the library's, so the index is made here."""

from django.db import migrations

INDEX = "captcha_captchastore_expiration_idx"


class Migration(migrations.Migration):
    dependencies = [("tickets", "0008_queue_search_trigram_indexes"), ("captcha", "0002_alter_captchastore_id")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON captcha_captchastore (expiration)",
            f"DROP INDEX IF EXISTS {INDEX}",
            elidable=False,
        )
    ]
