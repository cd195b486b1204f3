"""All tables. Importing this package registers every model on `Base.metadata`."""

from polar_customers.models.access_token import OrganizationAccessToken, PersonalAccessToken
from polar_customers.models.base import Base, RecordModel
from polar_customers.models.customer import Customer
from polar_customers.models.organization import Organization
from polar_customers.models.user import User
from polar_customers.models.user_organization import UserOrganization

__all__ = [
    "Base",
    "Customer",
    "Organization",
    "OrganizationAccessToken",
    "PersonalAccessToken",
    "RecordModel",
    "User",
    "UserOrganization",
]
