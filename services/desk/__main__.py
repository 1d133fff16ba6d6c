from services.common.serve import serve
from services.common.settings import Settings
from services.desk.app import create_app

settings = Settings()
serve(create_app(settings), settings.service_port("desk"), settings.bind_host)
