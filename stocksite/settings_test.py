"""Settings for the test suite: production's (stocksite.settings), with a fast password hasher.

Production hashes a password with PBKDF2 at a million rounds, over half a second on the 2-core
machine, on every user created and every login; the suite does that hundreds of times. Nothing
else differs. The tests of the production settings themselves run fresh processes with
DJANGO_SETTINGS_MODULE=stocksite.settings (tests/stocksite/test_production_settings.py).
"""

from stocksite.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
