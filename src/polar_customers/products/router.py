"""HTTP routes of products: `/v1/products`."""

from fastapi import APIRouter

from polar_customers.kit.openapi import AUTH_RESPONSES
from polar_customers.kit.routing import ApiRoute

router = APIRouter(
    prefix="/v1/products",
    tags=["products"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)
