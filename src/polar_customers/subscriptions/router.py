"""HTTP routes of subscriptions: `/v1/subscriptions`."""

from fastapi import APIRouter

from polar_customers.kit.openapi import AUTH_RESPONSES
from polar_customers.kit.routing import ApiRoute

router = APIRouter(
    prefix="/v1/subscriptions",
    tags=["subscriptions"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)
