from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _pytest9_node_id(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's lazy loader reads and rewrites ``node._nodeid`` (renamed in pytest 9) to label
    each operation; give it the attribute. Reports still name the operation through the subtest label."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
