"""The customer surface of polar-sdk 1.0.2 (today's Python client) against a running server.

Run by tests/server/test_todays_clients.py with the interpreter of a separate virtual
environment (the 1.x client has the same distribution name as 0.27.1, which the suite's own
environment holds):

    python customers_surface.py '{"base_url": ..., "token": ..., "version": "v2026_10", ...}'

It asserts as it goes and prints `ok` with the calls it made; any failure is a traceback and
a non-zero exit. `"mode": "smoke"` runs a short round trip (for the other API versions).
"""

import importlib
import json
import sys
import uuid
from typing import Any

from polar import PolarClientError


class Run:
    def __init__(self, config: dict[str, Any]) -> None:
        module = importlib.import_module(f"polar.{config['version']}")
        self.errors = importlib.import_module(f"polar.{config['version']}.errors")
        self.config = config
        self.tag = uuid.uuid4().hex[:8]
        self.calls: list[str] = []
        self.polar = module.Polar(config["token"], base_url=config["base_url"], timeout=30)
        self.other = module.Polar(config["other_token"], base_url=config["base_url"], timeout=30)
        self.module = module

    def expect_error(self, name: str, status: int, call: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            call(*args, **kwargs)
        except PolarClientError as error:
            failed = error
        else:
            raise AssertionError(f"{call.__name__} did not fail with {name}")
        assert type(failed).__name__ == name, (type(failed).__name__, failed)
        assert failed.status_code == status, (failed.status_code, failed)
        self.calls.append(f"{call.__name__} -> {name}")
        return failed

    def email(self, name: str) -> str:
        return f"{name}-{self.tag}@example.com"

    def customers(self) -> dict[str, Any]:
        customers = self.polar.customers
        jane = customers.create(
            email=self.email("jane"),
            name="Jane",
            external_id=f"jane-{self.tag}",
            metadata={"plan": "pro", "seats": 3, "ratio": 0.5, "vip": True},
            billing_address={"country": "FR", "city": "Paris", "line1": "1 rue de Rivoli"},
            locale="fr_fr",
        )
        assert type(jane).__name__ == "CustomerIndividual"
        assert (jane.type, jane.locale, jane.billing_name) == ("individual", "fr-FR", "Jane")
        assert jane.metadata == {"plan": "pro", "seats": 3, "ratio": 0.5, "vip": True}
        assert jane.first_user_event_at is None
        assert jane.default_payment_method_id is None
        assert customers.get(jane.id).email == jane.email
        assert customers.get_external(jane.external_id).id == jane.id
        updated = customers.update(jane.id, name="Jane Doe", locale="en-GB")
        assert (updated.name, updated.locale) == ("Jane Doe", "en-GB")
        updated = customers.update_external(jane.external_id, metadata={"plan": "team"})
        assert updated.metadata == {"plan": "team"}
        upgraded = customers.update(jane.id, type="team")
        assert type(upgraded).__name__ == "CustomerTeam"
        self.calls += ["create", "get", "get_external", "update", "update_external"]
        return {"jane": jane}

    def lists_and_export(self, jane: Any) -> None:
        customers = self.polar.customers
        page = customers.list(email=jane.email, limit=10)
        assert [item.id for item in page.items] == [jane.id]
        assert page.pagination.total_count == 1
        assert [c.id for c in customers.iter_list(query=f"jane-{self.tag}")] == [jane.id]
        assert [c.id for c in customers.list(email=jane.email, active=False).items] == [jane.id]
        assert customers.list(email=jane.email, active=True).items == []
        assert customers.list(metadata={"plan": "team"}, email=jane.email).items[0].id == jane.id
        exported = customers.export()
        assert exported.startswith("ID,External ID,Created At,Email")
        assert jane.email in exported
        self.calls += ["list", "iter_list", "export"]

    def state_and_payment_methods(self, jane: Any) -> None:
        customers = self.polar.customers
        state = customers.get_state(jane.id)
        assert type(state).__name__ == "CustomerStateTeam"
        assert (state.active_subscriptions, state.granted_benefits, state.active_meters) == (
            [],
            [],
            [],
        )
        assert customers.get_state_external(jane.external_id).id == jane.id
        methods = customers.list_payment_methods(jane.id)
        assert (methods.items, methods.pagination.total_count) == ([], 0)
        assert customers.list_payment_methods_external(jane.external_id).items == []
        self.calls += ["get_state", "get_state_external", "list_payment_methods(_external)"]

    def members(self) -> None:
        customers, members = self.polar.customers, self.polar.customers.members
        team = customers.create(
            type="team",
            name="Acme",
            external_id=f"acme-{self.tag}",
            owner={"email": self.email("owner"), "name": "Olive", "external_id": "olive"},
        )
        assert (type(team).__name__, team.email) == ("CustomerTeam", None)
        [owner] = members.list(team.id).items
        assert (owner.role, owner.email) == ("owner", self.email("owner"))
        bob = members.create(team.id, email=self.email("bob"), name="Bob", external_id="bob")
        carol = members.create_external(
            team.external_id, email=self.email("carol"), role="billing_manager"
        )
        assert (bob.role, carol.role) == ("member", "billing_manager")
        assert members.get(team.id, bob.id).email == self.email("bob")
        assert members.get_external(team.external_id, "olive").id == owner.id
        assert [m.id for m in members.list(team.id, role="member").items] == [bob.id]
        assert len(list(members.iter_list_external(team.external_id))) == 3
        promoted = members.update(team.id, bob.id, role="owner")
        assert promoted.role == "owner"
        assert members.get(team.id, owner.id).role == "billing_manager"
        renamed = members.update_external(team.external_id, "olive", name="Olive B")
        assert renamed.name == "Olive B"
        members.delete(team.id, carol.id)
        members.delete_external(team.external_id, "olive")
        assert [m.id for m in members.list(team.id).items] == [bob.id]
        solo = customers.create(email=self.email("solo"))
        self.expect_error("NotPermitted", 403, members.create, solo.id, email=self.email("x"))
        self.expect_error("ResourceNotFound", 404, members.get, team.id, str(uuid.uuid4()))
        self.expect_error("HTTPValidationError", 422, members.delete, team.id, bob.id)
        self.calls += ["members: list, create(_external), get(_external), update(_external)"]
        self.calls += ["members: delete(_external), iter_list_external"]

    def errors_and_tenancy(self, jane: Any) -> None:
        customers = self.polar.customers
        missing = str(uuid.uuid4())
        self.expect_error("ResourceNotFound", 404, customers.get, missing)
        self.expect_error("ResourceNotFound", 404, customers.get_state, missing)
        self.expect_error("ResourceNotFound", 404, customers.update, missing, name="x")
        self.expect_error("ResourceNotFound", 404, self.other.customers.get, jane.id)
        self.expect_error(
            "ResourceNotFound", 404, self.other.customers.list_payment_methods, jane.id
        )
        error = self.expect_error("HTTPValidationError", 422, customers.create, email="bad")
        assert error.error.detail[0].loc == ["body", "email"]
        self.expect_error("HTTPValidationError", 422, customers.create, email=jane.email)
        self.expect_error("HTTPValidationError", 422, customers.update, jane.id, type="individual")
        self.expect_error("HTTPValidationError", 422, customers.get, "not-a-uuid")

    def personal_token(self) -> None:
        """A personal token reaching two organizations, narrowed by `Polar-Organization`."""
        config = self.config
        chosen = self.module.Polar(
            config["personal_token"],
            base_url=config["base_url"],
            organization_id=config["organization_id"],
            timeout=30,
        )
        created = chosen.customers.create(email=self.email("personal"))
        assert created.organization_id == config["organization_id"]
        ids = {c.organization_id for c in chosen.customers.iter_list()}
        assert ids == {config["organization_id"]}
        everywhere = self.module.Polar(config["personal_token"], base_url=config["base_url"])
        shared = config["shared_external_id"]
        members = everywhere.customers.members
        self.expect_error("AmbiguousExternalCustomerID", 409, members.list_external, shared)
        assert chosen.customers.members.list_external(shared).pagination.total_count == 1
        self.calls.append("Polar-Organization")

    def deletes(self, jane: Any) -> None:
        customers = self.polar.customers
        customers.delete(jane.id, anonymize=True)
        self.expect_error("ResourceNotFound", 404, customers.get, jane.id)
        other = customers.create(email=self.email("other"), external_id=f"other-{self.tag}")
        customers.delete_external(other.external_id)
        self.expect_error("ResourceNotFound", 404, customers.get_external, other.external_id)
        self.calls += ["delete(anonymize)", "delete_external"]

    def full(self) -> None:
        jane = self.customers()["jane"]
        self.lists_and_export(jane)
        self.state_and_payment_methods(jane)
        self.members()
        self.errors_and_tenancy(jane)
        self.personal_token()
        self.deletes(jane)

    def smoke(self) -> None:
        customers = self.polar.customers
        created = customers.create(email=self.email("smoke"), external_id=f"smoke-{self.tag}")
        assert customers.get(created.id).id == created.id
        assert customers.get_state_external(created.external_id).id == created.id
        assert customers.list(email=created.email).pagination.total_count == 1
        assert customers.members.list(created.id).pagination.total_count == 1
        customers.delete(created.id)
        self.expect_error("ResourceNotFound", 404, customers.get, created.id)
        self.calls += ["create", "get", "get_state_external", "list", "members.list", "delete"]


def main() -> None:
    config = json.loads(sys.argv[1])
    run = Run(config)
    getattr(run, config.get("mode", "full"))()
    print(json.dumps({"ok": True, "calls": run.calls}))


if __name__ == "__main__":
    main()
