from services.common.migrations import run_env
from services.referral import models  # noqa: F401 (every table on Base.metadata)
from services.referral.base import Base

run_env(Base.metadata)
