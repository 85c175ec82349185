"""Code the test suites share. The one place a test module imports test code from: test modules
and conftest files never import each other (tests/architecture checks it)."""
