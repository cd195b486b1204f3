"""The names Polar's clients depend on, as the OpenAPI tests expect them.

The expectations about Polar's names are copied from Polar's own document of the customer
operations (`polar-openapi-customers.json`, 2025-10-05), so the tests need no file outside
the repository.
"""

from typing import Any

# (method, path) -> operationId, as in Polar's document (the twelve customer operations).
POLAR_OPERATIONS: dict[tuple[str, str], str] = {
    ("get", "/v1/customers/"): "customers:list",
    ("post", "/v1/customers/"): "customers:create",
    ("get", "/v1/customers/export"): "customers:export",
    ("get", "/v1/customers/{id}"): "customers:get",
    ("patch", "/v1/customers/{id}"): "customers:update",
    ("delete", "/v1/customers/{id}"): "customers:delete",
    ("get", "/v1/customers/external/{external_id}"): "customers:get_external",
    ("patch", "/v1/customers/external/{external_id}"): "customers:update_external",
    ("delete", "/v1/customers/external/{external_id}"): "customers:delete_external",
    ("get", "/v1/customers/{id}/state"): "customers:get_state",
    ("get", "/v1/customers/external/{external_id}/state"): "customers:get_state_external",
    ("get", "/v1/customers/{id}/balance"): "customers:get_balance",
    # Today's clients (polar-sdk 1.x): payment methods and members.
    ("get", "/v1/customers/{id}/payment-methods"): "customers:list_payment_methods",
    (
        "get",
        "/v1/customers/external/{external_id}/payment-methods",
    ): "customers:list_payment_methods_external",
    ("get", "/v1/customers/{id}/members"): "customers:members:list",
    ("post", "/v1/customers/{id}/members"): "customers:members:create",
    ("get", "/v1/customers/{id}/members/{member_id}"): "customers:members:get",
    ("patch", "/v1/customers/{id}/members/{member_id}"): "customers:members:update",
    ("delete", "/v1/customers/{id}/members/{member_id}"): "customers:members:delete",
    ("get", "/v1/customers/external/{external_id}/members"): "customers:members:list_external",
    (
        "post",
        "/v1/customers/external/{external_id}/members",
    ): "customers:members:create_external",
    (
        "get",
        "/v1/customers/external/{external_id}/members/{member_external_id}",
    ): "customers:members:get_external",
    (
        "patch",
        "/v1/customers/external/{external_id}/members/{member_external_id}",
    ): "customers:members:update_external",
    (
        "delete",
        "/v1/customers/external/{external_id}/members/{member_external_id}",
    ): "customers:members:delete_external",
}

# (method, path) -> operationId of the billing resources, as in Polar's document of them
# (`polar-openapi-related.json`), and this server's extensions (docs/decisions.md#d35, #d37).
BILLING_OPERATIONS: dict[tuple[str, str], str] = {
    ("get", "/v1/subscriptions/"): "subscriptions:list",
    ("get", "/v1/subscriptions/{id}"): "subscriptions:get",
    ("patch", "/v1/subscriptions/{id}"): "subscriptions:update",
    ("delete", "/v1/subscriptions/{id}"): "subscriptions:revoke",
    ("get", "/v1/benefits/"): "benefits:list",
    ("post", "/v1/benefits/"): "benefits:create",
    ("get", "/v1/benefits/{id}"): "benefits:get",
    ("patch", "/v1/benefits/{id}"): "benefits:update",
    ("delete", "/v1/benefits/{id}"): "benefits:delete",
    ("get", "/v1/benefits/{id}/grants"): "benefits:grants",
    ("get", "/v1/benefit-grants/"): "benefit-grants:list",
    ("get", "/v1/products/"): "products:list",
    ("post", "/v1/products/"): "products:create",
    ("get", "/v1/products/{id}"): "products:get",
    ("patch", "/v1/products/{id}"): "products:update",
    ("post", "/v1/products/{id}/benefits"): "products:update_benefits",
    ("get", "/v1/orders/"): "orders:list",
    ("get", "/v1/orders/{id}"): "orders:get",
    ("patch", "/v1/orders/{id}"): "orders:update",
    ("get", "/v1/events/"): "events:list",
    ("get", "/v1/events/names"): "events:list_names",
    ("get", "/v1/events/{id}"): "events:get",
    ("post", "/v1/events/ingest"): "events:ingest",
    ("get", "/v1/meters/"): "meters:list",
    ("post", "/v1/meters/"): "meters:create",
    ("get", "/v1/meters/{id}"): "meters:get",
    ("patch", "/v1/meters/{id}"): "meters:update",
    ("get", "/v1/meters/{id}/quantities"): "meters:quantities",
    ("get", "/v1/customer-meters/"): "customer_meters:list",
    ("get", "/v1/customer-meters/{id}"): "customer_meters:get",
    ("post", "/v1/subscriptions/"): "subscriptions:create",
    ("post", "/v1/payments/"): "payments:create",
    ("get", "/v1/payments/"): "payments:list",
    ("get", "/v1/payments/{id}"): "payments:get",
    ("post", "/v1/refunds/"): "refunds:create",
    ("get", "/v1/refunds/"): "refunds:list",
}

_ADDRESS_PROPERTIES = frozenset({"city", "country", "line1", "line2", "postal_code", "state"})
_CUSTOMER_INPUT_PROPERTIES = frozenset(
    {"billing_address", "email", "metadata", "name", "tax_id", "locale"}
)
_CUSTOMER_CREATE_PROPERTIES = _CUSTOMER_INPUT_PROPERTIES | {
    "external_id",
    "organization_id",
    "owner",
    "type",
}
_CUSTOMER_PROPERTIES = frozenset(
    {
        "avatar_url",
        "billing_address",
        "created_at",
        "deleted_at",
        "email",
        "email_verified",
        "external_id",
        "id",
        "metadata",
        "modified_at",
        "name",
        "organization_id",
        "tax_id",
        # Today's (polar-sdk 1.x) keys, sent to every client.
        "type",
        "billing_name",
        "locale",
        "default_payment_method_id",
        "first_user_event_at",
    }
)
# Required: the 2025 keys and those of today's that have no default.
_CUSTOMER_REQUIRED = _CUSTOMER_PROPERTIES - {"locale", "default_payment_method_id"}
_STATE_LISTS = frozenset({"active_subscriptions", "granted_benefits", "active_meters"})
# Without `price_id`: Polar sends it but leaves it out of its document.
_STATE_SUBSCRIPTION_PROPERTIES = frozenset(
    {
        "id",
        "created_at",
        "modified_at",
        "custom_field_data",
        "metadata",
        "status",
        "amount",
        "currency",
        "recurring_interval",
        "current_period_start",
        "current_period_end",
        "trial_start",
        "trial_end",
        "cancel_at_period_end",
        "canceled_at",
        "started_at",
        "ends_at",
        "product_id",
        "discount_id",
        "seats",
        "units",
        "meters",
    }
)
_STATE_SUBSCRIPTION_METER_PROPERTIES = frozenset(
    {"created_at", "modified_at", "id", "consumed_units", "credited_units", "amount", "meter_id"}
)
_STATE_GRANT_PROPERTIES = frozenset(
    {
        "id",
        "created_at",
        "modified_at",
        "granted_at",
        "benefit_id",
        "benefit_type",
        "benefit_metadata",
        "properties",
    }
)
_STATE_METER_PROPERTIES = frozenset(
    {"id", "created_at", "modified_at", "meter_id", "consumed_units", "credited_units", "balance"}
)

# Component name -> its property names in Polar's document (empty for non-object schemas).
POLAR_COMPONENT_PROPERTIES: dict[str, frozenset[str]] = {
    "Customer": _CUSTOMER_PROPERTIES,
    "CustomerCreate": frozenset(),  # one of the two below
    "CustomerIndividualCreate": _CUSTOMER_CREATE_PROPERTIES,
    "CustomerTeamCreate": _CUSTOMER_CREATE_PROPERTIES,
    "MemberOwnerCreate": frozenset({"email", "name", "external_id"}),
    "CustomerUpdate": _CUSTOMER_INPUT_PROPERTIES | {"external_id", "type"},
    "CustomerUpdateExternalID": _CUSTOMER_INPUT_PROPERTIES,
    "ListResource_Customer_": frozenset({"items", "pagination"}),
    "Address": _ADDRESS_PROPERTIES,
    "AddressInput": _ADDRESS_PROPERTIES,
    "Pagination": frozenset({"max_page", "total_count"}),
    "ResourceNotFound": frozenset({"detail", "error"}),
    "HTTPValidationError": frozenset({"detail"}),
    "MetadataQuery": frozenset(),
    "CustomerSortProperty": frozenset(),
    "TaxIDFormat": frozenset(),
    "CustomerState": _CUSTOMER_PROPERTIES | _STATE_LISTS,
    "CustomerStateSubscription": _STATE_SUBSCRIPTION_PROPERTIES,
    "CustomerStateSubscriptionMeter": _STATE_SUBSCRIPTION_METER_PROPERTIES,
    "CustomerStateBenefitGrant": _STATE_GRANT_PROPERTIES,
    "CustomerStateMeter": _STATE_METER_PROPERTIES,
    "CustomerBalance": frozenset({"balance", "currency"}),
    "BenefitGrantDiscordProperties": frozenset(
        {"account_id", "guild_id", "role_id", "granted_account_id"}
    ),
    "BenefitGrantGitHubRepositoryProperties": frozenset(
        {
            "account_id",
            "repository_owner",
            "repository_name",
            "permission",
            "granted_account_id",
        }
    ),
    "BenefitGrantDownloadablesProperties": frozenset({"files"}),
    "BenefitGrantLicenseKeysProperties": frozenset({"license_key_id", "display_key"}),
    "BenefitGrantCustomProperties": frozenset(),
    "BenefitType": frozenset(),
    "SubscriptionRecurringInterval": frozenset(),
}

# Component name -> its `required` list in Polar's document (absent means none).
POLAR_COMPONENT_REQUIRED: dict[str, frozenset[str]] = {
    "Customer": _CUSTOMER_REQUIRED,
    "CustomerIndividualCreate": frozenset({"email"}),
    "CustomerTeamCreate": frozenset({"type"}),
    "MemberOwnerCreate": frozenset({"email"}),
    "ListResource_Customer_": frozenset({"items", "pagination"}),
    "Address": frozenset({"country"}),
    "AddressInput": frozenset({"country"}),
    "Pagination": frozenset({"max_page", "total_count"}),
    "ResourceNotFound": frozenset({"detail", "error"}),
    "CustomerState": _CUSTOMER_REQUIRED | _STATE_LISTS,
    # These have a default: not required (they are always sent).
    "CustomerStateSubscription": _STATE_SUBSCRIPTION_PROPERTIES
    - {"custom_field_data", "seats", "units"},
    "CustomerStateSubscriptionMeter": _STATE_SUBSCRIPTION_METER_PROPERTIES,
    "CustomerStateBenefitGrant": _STATE_GRANT_PROPERTIES,
    "CustomerStateMeter": _STATE_METER_PROPERTIES,
    "CustomerBalance": frozenset({"balance", "currency"}),
}

POLAR_SORT_PROPERTIES = ["created_at", "-created_at", "email", "-email", "name", "-name"]

POLAR_TAX_ID_FORMATS = [
    "ad_nrt",
    "ae_trn",
    "ar_cuit",
    "au_abn",
    "au_arn",
    "bg_uic",
    "bh_vat",
    "bo_tin",
    "br_cnpj",
    "br_cpf",
    "ca_bn",
    "ca_gst_hst",
    "ca_pst_bc",
    "ca_pst_mb",
    "ca_pst_sk",
    "ca_qst",
    "ch_uid",
    "ch_vat",
    "cl_tin",
    "cn_tin",
    "co_nit",
    "cr_tin",
    "de_stn",
    "do_rcn",
    "ec_ruc",
    "eg_tin",
    "es_cif",
    "eu_oss_vat",
    "eu_vat",
    "gb_vat",
    "ge_vat",
    "hk_br",
    "hr_oib",
    "hu_tin",
    "id_npwp",
    "il_vat",
    "in_gst",
    "is_vat",
    "jp_cn",
    "jp_rn",
    "jp_trn",
    "ke_pin",
    "kr_brn",
    "kz_bin",
    "li_uid",
    "mx_rfc",
    "my_frp",
    "my_itn",
    "my_sst",
    "ng_tin",
    "no_vat",
    "no_voec",
    "nz_gst",
    "om_vat",
    "pe_ruc",
    "ph_tin",
    "ro_tin",
    "rs_pib",
    "ru_inn",
    "ru_kpp",
    "sa_vat",
    "sg_gst",
    "sg_uen",
    "si_tin",
    "sv_nit",
    "th_vat",
    "tr_tin",
    "tw_vat",
    "ua_vat",
    "us_ein",
    "uy_ruc",
    "ve_rif",
    "vn_tin",
    "za_vat",
]

POLAR_METADATA_QUERY: dict[str, Any] = {
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "integer"},
                    {"type": "boolean"},
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "array", "items": {"type": "integer"}},
                    {"type": "array", "items": {"type": "boolean"}},
                ]
            },
        },
        {"type": "null"},
    ],
    "title": "MetadataQuery",
}
