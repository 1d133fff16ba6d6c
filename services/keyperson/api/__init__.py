"""Keyperson's routes: staff roster, rota and assignments, and the internal API."""

from services.keyperson.api.assignments import router as assignments_router
from services.keyperson.api.board import router as board_router
from services.keyperson.api.desk_roster import router as desk_roster_router
from services.keyperson.api.desk_rota import router as desk_rota_router
from services.keyperson.api.internal import router as internal_router
from services.keyperson.api.roster import router as roster_router
from services.keyperson.api.rota import router as rota_router
from services.keyperson.figures import router as figures_router

ROUTERS = (roster_router, rota_router, assignments_router, internal_router, figures_router,
           board_router, desk_rota_router, desk_roster_router)

__all__ = ["ROUTERS"]
