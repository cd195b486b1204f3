"""HTTP routes of orders, and the payments and refunds recorded for them: `/v1/orders`
(and the extensions `/v1/payments`, `/v1/refunds`)."""

from fastapi import APIRouter

from polar_customers.kit.openapi import AUTH_RESPONSES
from polar_customers.kit.routing import ApiRoute

router = APIRouter(
    prefix="/v1",
    tags=["orders"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)
