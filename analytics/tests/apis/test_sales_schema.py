from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

PATHS = [
    "/api/overview/",
    "/api/performance/stores/",
    "/api/insights/seasonality/",
    "/api/insights/discount-impact/",
    "/api/customers/repeat-vs-onetime/",
    "/api/insights/payment-methods/",
]


@pytest.fixture(scope="module")
def schema() -> dict:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    return schema


def _undescribed(schema: dict, node: dict, where: str) -> list[str]:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _undescribed(schema, schema["components"]["schemas"][name], name)
    missing = []
    for prop, spec in node.get("properties", {}).items():
        target = spec.get("items", spec)
        if "description" not in spec:
            missing.append(f"{where}.{prop}")
        if "$ref" in target or "properties" in target:
            missing += _undescribed(schema, target, f"{where}.{prop}")
    return missing


@pytest.mark.parametrize("path", PATHS)
def test_every_parameter_and_response_field_is_described(schema: dict, path: str) -> None:
    operation = schema["paths"][path]["get"]
    assert operation["summary"]
    assert "decimal string rounded to cents" in operation["description"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {
        "date_from",
        "date_to",
        "store",
        "category",
        "compare",
    }
    assert all(parameter.get("description") for parameter in operation["parameters"])
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert _undescribed(schema, response, path) == []
    assert {"400", "401", "403"} <= set(operation["responses"])


def test_money_is_typed_as_a_decimal_string(schema: dict) -> None:
    net_sales = schema["components"]["schemas"]["Overview"]["properties"]["net_sales"]
    assert net_sales["type"] == "string"
    assert net_sales["format"] == "decimal"


@pytest.mark.parametrize("code", ["TRY", "USD"])
def test_the_schema_names_the_currency_of_the_money_fields(code: str, settings) -> None:
    settings.CURRENCY = code
    schema = SchemaGenerator().get_schema(request=None, public=True)
    other = "USD" if code == "TRY" else "TRY"
    assert f"Money amounts are in {code} (ISO 4217)." in schema["info"]["description"]
    net_sales = schema["components"]["schemas"]["Overview"]["properties"]["net_sales"]
    assert net_sales["description"].endswith(f"In {code}.")
    profit = schema["components"]["schemas"]["CampaignSimulation"]["properties"]["incremental_profit"]
    assert profit["description"].endswith(f"In {code}.")
    assert other not in str(schema)
