from gateway.app import create_app
from services.common.serve import serve_asgi
from services.common.settings import Settings

settings = Settings()
serve_asgi(create_app(settings), settings.gateway_port)
