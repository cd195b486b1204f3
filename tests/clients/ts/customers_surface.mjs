// The customer surface of @polar-sh/sdk 1.0.1 (today's TypeScript client) against a running
// server. Run by tests/server/test_todays_clients.py:
//
//     node customers_surface.mjs '{"base_url": ..., "token": ..., "version": "2026-10", ...}'
//
// It asserts as it goes and prints {"ok": true, "calls": [...]}; any failure is a stack trace
// and a non-zero exit. "mode": "smoke" runs a short round trip (for the other API versions).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

const config = JSON.parse(process.argv[2]);
const sdk = await import(`@polar-sh/sdk/${config.version}`);
const tag = randomUUID().slice(0, 8);
const calls = [];
const client = (token, extra = {}) =>
  sdk.createPolar({ accessToken: token, baseUrl: config.base_url, timeout: 30, ...extra });
const polar = client(config.token);
const other = client(config.other_token);
const email = (name) => `${name}-${tag}@example.com`;

async function expectError(name, status, promise) {
  try {
    await promise;
  } catch (error) {
    assert.equal(error.constructor.name, name, String(error));
    assert.equal(error.statusCode, status);
    calls.push(`-> ${name}`);
    return error;
  }
  assert.fail(`expected ${name}`);
}

async function customers() {
  const c = polar.customers;
  const jane = await c.create({
    email: email("jane"),
    name: "Jane",
    external_id: `jane-${tag}`,
    metadata: { plan: "pro", seats: 3, vip: true },
    billing_address: { country: "FR", city: "Paris" },
    locale: "fr_fr",
  });
  assert.deepEqual(
    [jane.type, jane.locale, jane.billing_name, jane.first_user_event_at],
    ["individual", "fr-FR", "Jane", null],
  );
  assert.equal((await c.get(jane.id)).email, jane.email);
  assert.equal((await c.getExternal(jane.external_id)).id, jane.id);
  assert.equal((await c.update(jane.id, { name: "Jane Doe", locale: "en-GB" })).locale, "en-GB");
  const external = await c.updateExternal(jane.external_id, { metadata: { plan: "team" } });
  assert.deepEqual(external.metadata, { plan: "team" });
  assert.equal((await c.update(jane.id, { type: "team" })).type, "team");
  calls.push("create", "get", "getExternal", "update", "updateExternal");
  return jane;
}

async function listsStateAndExport(jane) {
  const c = polar.customers;
  const page = await c.list({ email: jane.email });
  assert.deepEqual(page.items.map((item) => item.id), [jane.id]);
  assert.equal(page.pagination.total_count, 1);
  const found = [];
  for await (const customer of c.iterList({ query: `jane-${tag}` })) found.push(customer.id);
  assert.deepEqual(found, [jane.id]);
  assert.deepEqual((await c.list({ email: jane.email, active: true })).items, []);
  const exported = await c.export();
  assert.ok(exported.startsWith("ID,External ID,Created At,Email"));
  assert.ok(exported.includes(jane.email));
  const state = await c.getState(jane.id);
  assert.deepEqual(
    [state.type, state.active_subscriptions, state.granted_benefits, state.active_meters],
    ["team", [], [], []],
  );
  assert.equal((await c.getStateExternal(jane.external_id)).id, jane.id);
  assert.equal((await c.listPaymentMethods(jane.id)).pagination.total_count, 0);
  assert.deepEqual((await c.listPaymentMethodsExternal(jane.external_id)).items, []);
  calls.push("list", "iterList", "export", "getState(External)", "listPaymentMethods(External)");
}

async function members() {
  const c = polar.customers;
  const m = c.members;
  const team = await c.create({
    type: "team",
    name: "Acme",
    external_id: `acme-${tag}`,
    owner: { email: email("owner"), name: "Olive", external_id: "olive" },
  });
  assert.equal(team.email, null);
  const [owner] = (await m.list(team.id)).items;
  assert.deepEqual([owner.role, owner.email], ["owner", email("owner")]);
  const bob = await m.create(team.id, { email: email("bob"), external_id: "bob" });
  const carol = await m.createExternal(team.external_id, {
    email: email("carol"),
    role: "billing_manager",
  });
  assert.deepEqual([bob.role, carol.role], ["member", "billing_manager"]);
  assert.equal((await m.get(team.id, bob.id)).id, bob.id);
  assert.equal((await m.getExternal(team.external_id, "olive")).id, owner.id);
  assert.equal((await m.listExternal(team.external_id, { role: "member" })).items.length, 1);
  assert.equal((await m.update(team.id, bob.id, { role: "owner" })).role, "owner");
  assert.equal((await m.get(team.id, owner.id)).role, "billing_manager");
  assert.equal((await m.updateExternal(team.external_id, "olive", { name: "O" })).name, "O");
  await m.delete(team.id, carol.id);
  await m.deleteExternal(team.external_id, "olive");
  assert.deepEqual((await m.list(team.id)).items.map((item) => item.id), [bob.id]);
  const solo = await c.create({ email: email("solo") });
  await expectError("NotPermitted", 403, m.create(solo.id, { email: email("x") }));
  await expectError("ResourceNotFound", 404, m.get(team.id, randomUUID()));
  calls.push("members: list, create(External), get(External), update(External), delete(External)");
}

async function errorsAndTenancy(jane) {
  const c = polar.customers;
  await expectError("ResourceNotFound", 404, c.get(randomUUID()));
  await expectError("ResourceNotFound", 404, c.getState(randomUUID()));
  await expectError("ResourceNotFound", 404, other.customers.get(jane.id));
  await expectError("HTTPValidationError", 422, c.create({ email: "bad" }));
  await expectError("HTTPValidationError", 422, c.create({ email: jane.email }));
  await expectError("HTTPValidationError", 422, c.update(jane.id, { type: "individual" }));
}

async function personalToken() {
  const chosen = client(config.personal_token, { organizationId: config.organization_id });
  const created = await chosen.customers.create({ email: email("personal") });
  assert.equal(created.organization_id, config.organization_id);
  const everywhere = client(config.personal_token);
  const shared = config.shared_external_id;
  await expectError(
    "AmbiguousExternalCustomerID",
    409,
    everywhere.customers.members.listExternal(shared),
  );
  assert.equal((await chosen.customers.members.listExternal(shared)).pagination.total_count, 1);
  calls.push("Polar-Organization");
}

async function deletes(jane) {
  const c = polar.customers;
  await c.delete(jane.id, { anonymize: true });
  await expectError("ResourceNotFound", 404, c.get(jane.id));
  const gone = await c.create({ email: email("gone"), external_id: `gone-${tag}` });
  await c.deleteExternal(gone.external_id);
  await expectError("ResourceNotFound", 404, c.getExternal(gone.external_id));
  calls.push("delete(anonymize)", "deleteExternal");
}

async function smoke() {
  const c = polar.customers;
  const created = await c.create({ email: email("smoke"), external_id: `smoke-${tag}` });
  assert.equal((await c.get(created.id)).id, created.id);
  assert.equal((await c.getStateExternal(created.external_id)).id, created.id);
  assert.equal((await c.members.list(created.id)).pagination.total_count, 1);
  await c.delete(created.id);
  await expectError("ResourceNotFound", 404, c.get(created.id));
  calls.push("create", "get", "getStateExternal", "members.list", "delete");
}

if (config.mode === "smoke") {
  await smoke();
} else {
  const jane = await customers();
  await listsStateAndExport(jane);
  await members();
  await errorsAndTenancy(jane);
  await personalToken();
  await deletes(jane);
}
console.log(JSON.stringify({ ok: true, calls }));
