"""All tables. Importing this package registers every model on `Base.metadata`."""

from polar_customers.models.access_token import OrganizationAccessToken, PersonalAccessToken
from polar_customers.models.base import Base, RecordModel
from polar_customers.models.benefit import Benefit, BenefitType
from polar_customers.models.benefit_grant import BenefitGrant
from polar_customers.models.checkout import Checkout
from polar_customers.models.customer import Customer, CustomerType
from polar_customers.models.customer_meter import CustomerMeter
from polar_customers.models.event import Event, EventSource
from polar_customers.models.instance_setting import InstanceSetting
from polar_customers.models.license_key import LicenseKey
from polar_customers.models.member import Member, MemberRole
from polar_customers.models.meter import Meter
from polar_customers.models.meter_unique_value import MeterUniqueValue
from polar_customers.models.order import Order, OrderBillingReason, OrderStatus
from polar_customers.models.order_item import OrderItem
from polar_customers.models.organization import Organization
from polar_customers.models.payment import Payment, PaymentStatus
from polar_customers.models.payment_method import PaymentMethod
from polar_customers.models.product import Product
from polar_customers.models.product_benefit import ProductBenefit
from polar_customers.models.product_price import (
    ProductPrice,
    ProductPriceAmountType,
    ProductPriceType,
)
from polar_customers.models.rate_limit_window import RateLimitWindow
from polar_customers.models.refund import Refund, RefundReason
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
    "Event",
    "EventSource",
    "InstanceSetting",
    "LicenseKey",
    "Member",
    "MemberRole",
    "Meter",
    "MeterUniqueValue",
    "Order",
    "OrderBillingReason",
    "OrderItem",
    "OrderStatus",
    "Organization",
    "OrganizationAccessToken",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "PersonalAccessToken",
    "Product",
    "ProductBenefit",
    "ProductPrice",
    "ProductPriceAmountType",
    "ProductPriceType",
    "RateLimitWindow",
    "RecordModel",
    "Refund",
    "RefundReason",
    "Subscription",
    "SubscriptionMeter",
    "SubscriptionPrice",
    "SubscriptionRecurringInterval",
    "SubscriptionStatus",
    "User",
    "UserOrganization",
]
