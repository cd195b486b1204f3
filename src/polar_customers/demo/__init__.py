"""The sample data of `polar-customers demo`: one organization filled with customers, a
catalog, subscriptions, usage events, orders, payments and refunds, written only through the
domains' services, as a token of the organization with every scope would write them.

What it makes is a fixed plan (`plan.py`, seeded: every run plans the same, at times
relative to `now`), carried out in small steps, each its own transaction (`fill.py`): the
catalog, each customer, each customer's subscription, each one-time purchase, each
customer's usage. A step first looks for what it makes, by natural keys (customers' external
ids; the names of meters, benefits and products carrying the `demo` metadata marker), and
writes nothing when it is there: a second run writes nothing, and a run after an
interrupted one completes it."""

from polar_customers.demo.fill import DEMO_STEPS, DemoReport, fill_demo

__all__ = ["DEMO_STEPS", "DemoReport", "fill_demo"]
