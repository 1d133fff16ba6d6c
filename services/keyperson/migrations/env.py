from services.common.migrations import run_env
from services.keyperson.models import Base

run_env(Base.metadata)
