import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decision_support.settings")
application = get_asgi_application()

from decision_support.serving import require_secret_key  # noqa: E402

require_secret_key()
