"""HTTP routes of meters and customer meters: `/v1/meters`, `/v1/customer-meters`."""

from fastapi import APIRouter

from polar_customers.kit.openapi import AUTH_RESPONSES
from polar_customers.kit.routing import ApiRoute

router = APIRouter(
    prefix="/v1",
    tags=["meters"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)
