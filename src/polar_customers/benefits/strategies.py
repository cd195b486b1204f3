"""What granting, revoking and cycling a grant does for each benefit type, after Polar's
`benefit/strategies/`: a `license_keys` grant issues a license key, a `meter_credit` grant
credits units on a meter, a `custom` grant does nothing else. The service sets the grant's
timestamps; these functions set its `properties` and change what the type owns."""

import math
import secrets
import uuid
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.benefits import repository
from polar_customers.meters import service as meters_service
from polar_customers.models import Benefit, BenefitGrant, BenefitType, LicenseKey


async def grant(
    session: AsyncSession, benefit: Benefit, grant: BenefitGrant, *, now: datetime
) -> None:
    """Give what the benefit gives to the grant's customer (again, for a revoked grant)."""
    if benefit.type == BenefitType.license_keys:
        await _issue_license_key(session, benefit, grant, now=now)
    elif benefit.type == BenefitType.meter_credit:
        await _credit(session, benefit, grant, now=now)
    else:
        grant.properties = {}


async def revoke(
    session: AsyncSession, benefit: Benefit, grant: BenefitGrant, *, now: datetime
) -> None:
    """Take back what the grant gave: its license key is revoked (its properties stay, for
    reference), the part of its last meter credit that is left is removed."""
    if benefit.type == BenefitType.license_keys:
        key = await _license_key_of(session, grant)
        if key is not None:
            key.status = "revoked"
            key.modified_at = now
    elif benefit.type == BenefitType.meter_credit:
        removed = await _remove_what_is_left(session, benefit, grant, now=now)
        if removed is not None:
            grant.properties = removed


async def cycle(
    session: AsyncSession, benefit: Benefit, grant: BenefitGrant, *, now: datetime
) -> None:
    """A new period of the grant's subscription: a meter credit starts the customer's meter
    over (what carries over is the meters domain's rule: the unused part of credits with
    rollover), then credits its units again. The meter is started over once per renewal: not
    when another grant did it since this one's last credit (Polar's rule)."""
    if benefit.type != BenefitType.meter_credit:
        return
    meter_id = uuid.UUID(str(benefit.properties["meter_id"]))
    credited_at = grant.properties.get("last_credited_at")
    if isinstance(credited_at, str) and await repository.meter_exists(
        session, benefit.organization_id, meter_id
    ):
        reset_at = await repository.last_meter_reset(
            session, grant.organization_id, grant.customer_id, meter_id
        )
        if reset_at is None or reset_at < datetime.fromisoformat(credited_at):
            await _reset_meter(session, grant, meter_id=meter_id, now=now)
    await _credit(session, benefit, grant, now=now)


async def benefit_updated(
    session: AsyncSession, benefit: Benefit, previous: dict[str, Any], *, now: datetime
) -> None:
    """New license key settings apply to the keys already issued (Polar's `requires_update`):
    their limits, and their expiry, counted again from now."""
    if benefit.type != BenefitType.license_keys:
        return
    settings = ("expires", "activations", "limit_usage")
    if all(benefit.properties.get(name) == previous.get(name) for name in settings):
        return
    grants = await repository.lock_granted_of_benefit(session, benefit.organization_id, benefit.id)
    for granted in grants:
        key = await _license_key_of(session, granted)
        if key is not None:
            _apply_settings(key, benefit.properties, now=now)
    await session.flush()


# License keys ----------------------------------------------------------------------------------


def generate_key(prefix: str | None) -> str:
    """A random key in UUID-like upper-case groups (128 bits from `secrets`), after the
    benefit's prefix."""
    digits = secrets.token_hex(16).upper()
    key = "-".join(
        digits[start:end] for start, end in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
    )
    return key if prefix is None else f"{prefix.strip().upper()}-{key}"


def display_key(key: str) -> str:
    """The key as grants show it: masked but for its last six characters (as Polar)."""
    return f"****-{key[-6:]}"


def expiry(expires: dict[str, Any] | None, *, now: datetime) -> datetime | None:
    """When a key issued at `now` expires: `ttl` days, months or years later, or never."""
    if expires is None:
        return None
    ttl, timeframe = int(expires["ttl"]), expires["timeframe"]
    step = {"year": relativedelta(years=ttl), "month": relativedelta(months=ttl)}
    return now + step.get(timeframe, relativedelta(days=ttl))


def _apply_settings(key: LicenseKey, properties: dict[str, Any], *, now: datetime) -> None:
    activations = properties.get("activations")
    key.limit_activations = None if activations is None else activations["limit"]
    key.limit_usage = properties.get("limit_usage")
    key.expires_at = expiry(properties.get("expires"), now=now)
    key.modified_at = now


async def _license_key_of(session: AsyncSession, grant: BenefitGrant) -> LicenseKey | None:
    key_id = grant.properties.get("license_key_id") if isinstance(grant.properties, dict) else None
    try:
        found = uuid.UUID(key_id) if isinstance(key_id, str) else None
    except ValueError:  # a grant written by hand, not by this server: it has no key here
        found = None
    if found is None:
        return None
    return await repository.lock_license_key(session, grant.organization_id, found)


async def _issue_license_key(
    session: AsyncSession, benefit: Benefit, grant: BenefitGrant, *, now: datetime
) -> None:
    """The grant's key granted again, or a new key (Polar re-grants a revoked grant's key)."""
    key = await _license_key_of(session, grant)
    if key is None:
        value = generate_key(benefit.properties.get("prefix"))
        key = LicenseKey(
            id=uuid.uuid4(),
            organization_id=benefit.organization_id,
            customer_id=grant.customer_id,
            benefit_id=benefit.id,
            key=value,
            display_key=display_key(value),
            usage=0,
        )
        session.add(key)
    key.status = "granted"
    _apply_settings(key, benefit.properties, now=now)
    grant.properties = {"license_key_id": str(key.id), "display_key": key.display_key}


# Meter credits ---------------------------------------------------------------------------------


def _credit_record(meter_id: uuid.UUID, units: int, *, now: datetime) -> dict[str, Any]:
    """The grant's properties after a credit (Polar's internal keys, never shown)."""
    return {
        "last_credited_meter_id": str(meter_id),
        "last_credited_units": units,
        "last_credited_at": now.isoformat(),
    }


async def _credit_units(
    session: AsyncSession,
    grant: BenefitGrant,
    *,
    meter_id: uuid.UUID,
    units: int,
    rollover: bool,
    now: datetime,
) -> None:
    await meters_service.credit_units(
        session,
        organization_id=grant.organization_id,
        customer_id=grant.customer_id,
        meter_id=meter_id,
        units=units,
        rollover=rollover,
        now=now,
    )


async def _reset_meter(
    session: AsyncSession, grant: BenefitGrant, *, meter_id: uuid.UUID, now: datetime
) -> None:
    await meters_service.reset_customer_meter(
        session,
        organization_id=grant.organization_id,
        customer_id=grant.customer_id,
        meter_id=meter_id,
        now=now,
    )


async def _credit(
    session: AsyncSession, benefit: Benefit, grant: BenefitGrant, *, now: datetime
) -> None:
    meter_id = uuid.UUID(str(benefit.properties["meter_id"]))
    if not await repository.meter_exists(session, benefit.organization_id, meter_id):
        grant.properties = {}  # the meter was deleted since: nothing to credit, nor to take back
        return
    units = int(benefit.properties["units"])
    rollover = bool(benefit.properties.get("rollover", False))
    await _credit_units(session, grant, meter_id=meter_id, units=units, rollover=rollover, now=now)
    grant.properties = _credit_record(meter_id, units, now=now)


async def _remove_what_is_left(
    session: AsyncSession, benefit: Benefit, grant: BenefitGrant, *, now: datetime
) -> dict[str, Any] | None:
    """Debit the part of the grant's last credit that the customer has not consumed: at most
    that credit, at most the (whole units of the) positive balance. None when the grant never
    credited anything."""
    meter_id = grant.properties.get("last_credited_meter_id")
    credited = grant.properties.get("last_credited_units")
    if not isinstance(meter_id, str) or not isinstance(credited, int) or credited <= 0:
        return None
    meter = uuid.UUID(meter_id)
    balance = await repository.lock_meter_balance(
        session, grant.organization_id, grant.customer_id, meter
    )
    left = min(credited, math.floor(max(balance, 0.0)))
    if left > 0:
        rollover = bool(benefit.properties.get("rollover", False))
        await _credit_units(session, grant, meter_id=meter, units=-left, rollover=rollover, now=now)
    return _credit_record(meter, -left, now=now)
