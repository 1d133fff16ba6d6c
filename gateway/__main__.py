from gateway.app import create_app
from services.common.serve import serve
from services.common.settings import Settings

settings = Settings()
serve(create_app(settings), settings.gateway_port, settings.bind_host)
