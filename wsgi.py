"""The one entry point for servers: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""
from drafting import create_app

app = create_app()
