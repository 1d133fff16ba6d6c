from services.common.serve import serve
from services.common.settings import Settings
from services.referral.app import create_app

settings = Settings()
serve(create_app(settings), settings.service_port("referral"), settings.bind_host)
