"""The ingestion scenario: batches of 1,000 usage events of the sampled customers, posted to
`/v1/events/ingest`, counted by the organization's meters in the same transaction.

The organization has four meters (seeded here): every event counted (the catalogue's
`API calls`, `bench/related.py`), the tokens of `completion` events summed, the distinct
models used, and the largest upload. Events name customers by id or (a third of them) by
external id; 80% are completions. Each sampled customer has an active or trialing
subscription whose meter counts `API calls` too (`bench/related.py`).

The wrk script and the built-in generator build the same bodies (`lua_body` and `body`)."""

import json
import random
import uuid
from collections.abc import Sequence

from polar_customers.config import Settings
from polar_customers.db import Database
from polar_customers.models import Meter

PATH = "/v1/events/ingest"
BATCH = 1000
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet", "claude-haiku", "llama-3")
EXTERNAL_SHARE = 3  # one event in this many names its customer by external id


def _named(name: str) -> dict[str, object]:
    return {
        "conjunction": "and",
        "clauses": [{"property": "name", "operator": "eq", "value": name}],
    }


METERS: tuple[tuple[str, dict[str, object], dict[str, object]], ...] = (
    ("Tokens", _named("completion"), {"func": "sum", "property": "tokens"}),
    ("Models", _named("completion"), {"func": "unique", "property": "model"}),
    ("Largest upload", _named("upload"), {"func": "max", "property": "bytes"}),
)


async def seed_meters(database_url: str, organization_id: uuid.UUID) -> None:
    """The scenario's meters, beyond the catalogue's."""
    database = Database(Settings(database_url=database_url))
    try:
        async with database.write_sessions() as session, session.begin():
            session.add_all(
                Meter(
                    organization_id=organization_id,
                    name=name,
                    filter=meter_filter,
                    aggregation=aggregation,
                )
                for name, meter_filter, aggregation in METERS
            )
    finally:
        await database.dispose()


def body(rng: random.Random, customer_ids: Sequence[str], external_ids: Sequence[str]) -> str:
    """A batch of `BATCH` events as a JSON body."""
    events = []
    for index in range(BATCH):
        if external_ids and index % EXTERNAL_SHARE == 0:
            who = {"external_customer_id": rng.choice(external_ids)}
        else:
            who = {"customer_id": rng.choice(customer_ids)}
        if rng.random() < 0.8:
            metadata: dict[str, object] = {
                "tokens": rng.randrange(1, 4000),
                "model": rng.choice(MODELS),
            }
            events.append({"name": "completion", **who, "metadata": metadata})
        else:
            events.append({"name": "upload", **who, "metadata": {"bytes": rng.randrange(1, 10**7)}})
    return json.dumps({"events": events}, separators=(",", ":"))


def lua_body(customer_ids: Sequence[str], external_ids: Sequence[str]) -> str:
    """Lua: the tables of customers and a `batch()` function building a body like `body`."""
    quoted = ",".join(json.dumps(value) for value in customer_ids)
    external = ",".join(json.dumps(json.dumps(value)[1:-1]) for value in external_ids)
    models = ",".join(json.dumps(model) for model in MODELS)
    return f"""
local customer_ids = {{{quoted}}}
local external_ids = {{{external}}}
local models = {{{models}}}

local function batch()
  local events = {{}}
  for index = 0, {BATCH - 1} do
    local who
    if #external_ids > 0 and index % {EXTERNAL_SHARE} == 0 then
      who = '"external_customer_id":"' .. external_ids[math.random(#external_ids)] .. '"'
    else
      who = '"customer_id":"' .. customer_ids[math.random(#customer_ids)] .. '"'
    end
    if math.random() < 0.8 then
      events[#events + 1] = string.format(
        '{{"name":"completion",%s,"metadata":{{"tokens":%d,"model":"%s"}}}}',
        who, math.random(1, 3999), models[math.random(#models)])
    else
      events[#events + 1] = string.format(
        '{{"name":"upload",%s,"metadata":{{"bytes":%d}}}}', who, math.random(1, 9999999))
    end
  end
  return '{{"events":[' .. table.concat(events, ",") .. ']}}'
end
"""
