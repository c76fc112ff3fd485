"""Read ``.env`` before the settings module is chosen, so that DJANGO_SETTINGS_MODULE may live there."""

import os
from pathlib import Path

import environ


def load_dotenv() -> None:
    env_file = Path(os.environ.get("PORTAL_ENV_FILE") or Path(__file__).resolve().parent.parent / ".env")
    if env_file.exists():
        environ.Env.read_env(str(env_file), overwrite=False)
