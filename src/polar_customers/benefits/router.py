"""HTTP routes of benefits and their grants: `/v1/benefits`, `/v1/benefit-grants`."""

from fastapi import APIRouter

from polar_customers.kit.openapi import AUTH_RESPONSES
from polar_customers.kit.routing import ApiRoute

router = APIRouter(
    prefix="/v1",
    tags=["benefits"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)
