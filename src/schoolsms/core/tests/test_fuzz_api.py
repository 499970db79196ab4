"""Schemathesis fuzzes every operation of the OpenAPI schema (/api/v1/openapi.json) against the
app served by `schoolsms serve` (gunicorn) on 127.0.0.1: no answer is a 500, and every answer
matches the schema. Bounded: a fixed number of generated requests per operation, and the whole
run stops within FUZZ_BUDGET seconds."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from schoolsms import testing
from schoolsms.accounts.services import api_token_create
from schoolsms.core.tests.serving import serving
from schoolsms.messaging.services import broadcast_create

EXAMPLES = int(os.environ.get("SCHOOLSMS_FUZZ_EXAMPLES", "8"))
FUZZ_BUDGET = float(os.environ.get("SCHOOLSMS_FUZZ_SECONDS", "150"))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_openapi_schema_fuzzed_against_the_running_app(org: Any, other_org: Any) -> None:
    admin = testing.create_user(org, "admin@springfield.example.org", "admin")
    testing.create_contact(org, "S1", ["+12175550101"], consent="opted_in")
    testing.create_contact(other_org, "O1", ["+12175550199"], consent="opted_in")
    broadcast_create(organization=org, name="Snow day", text="School is closed.")
    key = api_token_create(user=admin)
    headers = {"Authorization": f"Bearer {key}"}

    started = time.monotonic()
    failures: list[str] = []
    tried = 0
    with serving() as base:
        schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15

        for operation in operations:
            if time.monotonic() - started > FUZZ_BUDGET:
                break
            tried += 1

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate, Phase.target],
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case: Any) -> None:
                response = case.call(base_url=base, headers=headers, timeout=15)
                case.validate_response(
                    response, checks=[not_a_server_error, response_schema_conformance]
                )

            try:
                fuzz()
            except Exception as exc:
                failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
    assert tried == len(operations), f"only {tried} of {len(operations)} in {FUZZ_BUDGET:.0f} s"
