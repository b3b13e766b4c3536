"""schemathesis against the labeling page's own OpenAPI description: no generated request gets a
server error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from label_support import add_labeler, demo_store, login, prepare, serving

schemathesis = pytest.importorskip("schemathesis")


def test_no_generated_request_causes_a_server_error(tmp_path):
    db = tmp_path / "s.db"
    store = demo_store(db)
    prepare(store, reliability=10, estimation=20)
    token = add_labeler(store, "root", role="admin")
    store.close()
    with serving(db) as url:
        session, csrf = login(url, token)
        spec = session.get(url + "/openapi.json", timeout=10).json()
        schema = schemathesis.openapi.from_dict(spec)
        # /logout would end the session the other operations are probed with; it is tested on its
        # own.
        operations = [op.ok() for op in schema.get_all_operations() if op.ok().path != "/logout"]
        assert len(operations) >= 8
        tried = {"n": 0, "statuses": set()}
        for operation in operations:

            @settings(
                max_examples=25,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(operation.as_strategy())
            def probe(case):
                for headers in ({"X-CSRF-Token": csrf}, {}):  # with and without the CSRF token
                    response = case.call(
                        base_url=url, session=session, headers=headers, allow_redirects=False
                    )
                    tried["n"] += 1
                    tried["statuses"].add(response.status_code)
                    assert response.status_code < 500, (
                        case.method,
                        case.path,
                        response.status_code,
                        response.text[:300],
                    )

            probe()
        assert tried["n"] >= 100
        assert (
            200 in tried["statuses"] or 303 in tried["statuses"]
        )  # some requests got through the guard
