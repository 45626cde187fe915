import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decision_support.settings")
django_application = get_wsgi_application()

from decision_support.serving import read_chunked_bodies, require_secret_key  # noqa: E402

require_secret_key()
application = read_chunked_bodies(django_application)
