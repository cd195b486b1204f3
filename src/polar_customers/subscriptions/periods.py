"""Billing periods: where a period that starts at a time ends, for an interval."""

import calendar
from datetime import datetime

from dateutil.relativedelta import relativedelta

from polar_customers.models import SubscriptionRecurringInterval

_STEPS = {
    SubscriptionRecurringInterval.day: relativedelta(days=1),
    SubscriptionRecurringInterval.week: relativedelta(weeks=1),
    SubscriptionRecurringInterval.month: relativedelta(months=1),
    SubscriptionRecurringInterval.year: relativedelta(years=1),
}


def period_end(start: datetime, interval: str, *, anchor_day: int, count: int = 1) -> datetime:
    """The end of `count` intervals from `start`. Monthly and yearly periods keep to the
    subscription's anchor day (the day of the month it started), the last day of shorter
    months standing in for it: a subscription of January 31 renews on February 28 (or 29),
    then on March 31."""
    end: datetime = start + _STEPS[SubscriptionRecurringInterval(interval)] * count
    if interval in (SubscriptionRecurringInterval.month, SubscriptionRecurringInterval.year):
        last_day = calendar.monthrange(end.year, end.month)[1]
        end = end.replace(day=min(anchor_day, last_day))
    return end
