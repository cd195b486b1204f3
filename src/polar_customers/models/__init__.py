"""All tables. Importing this package registers every model on `Base.metadata`."""

from polar_customers.models.access_token import OrganizationAccessToken, PersonalAccessToken
from polar_customers.models.base import Base, RecordModel
from polar_customers.models.benefit import Benefit, BenefitType
from polar_customers.models.benefit_grant import BenefitGrant
from polar_customers.models.checkout import Checkout
from polar_customers.models.customer import Customer, CustomerType
from polar_customers.models.customer_meter import CustomerMeter
from polar_customers.models.member import Member, MemberRole
from polar_customers.models.meter import Meter
from polar_customers.models.order import Order, OrderStatus
from polar_customers.models.organization import Organization
from polar_customers.models.payment import Payment, PaymentStatus
from polar_customers.models.payment_method import PaymentMethod
from polar_customers.models.product import Product
from polar_customers.models.product_price import ProductPrice
from polar_customers.models.subscription import (
    Subscription,
    SubscriptionRecurringInterval,
    SubscriptionStatus,
)
from polar_customers.models.subscription_meter import SubscriptionMeter
from polar_customers.models.subscription_price import SubscriptionPrice
from polar_customers.models.user import User
from polar_customers.models.user_organization import UserOrganization

__all__ = [
    "Base",
    "Benefit",
    "BenefitGrant",
    "BenefitType",
    "Checkout",
    "Customer",
    "CustomerMeter",
    "CustomerType",
    "Member",
    "MemberRole",
    "Meter",
    "Order",
    "OrderStatus",
    "Organization",
    "OrganizationAccessToken",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "PersonalAccessToken",
    "Product",
    "ProductPrice",
    "RecordModel",
    "Subscription",
    "SubscriptionMeter",
    "SubscriptionPrice",
    "SubscriptionRecurringInterval",
    "SubscriptionStatus",
    "User",
    "UserOrganization",
]
