from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import Base


class InstanceSetting(Base):
    """What the server of this database declared about itself, for the command line to check
    against its own configuration (instance/service.py): the environment it runs in and a
    fingerprint of the secret that hashes the tokens. Not tenant data."""

    __tablename__ = "instance_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    modified_at: Mapped[datetime]
