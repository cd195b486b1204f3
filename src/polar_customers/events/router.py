"""HTTP routes of events: `/v1/events`."""

from fastapi import APIRouter

from polar_customers.kit.openapi import AUTH_RESPONSES
from polar_customers.kit.routing import ApiRoute

router = APIRouter(
    prefix="/v1/events",
    tags=["events"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)
