"""The OpenAPI document is served and describes exactly the routes the app has."""
from backend.web.routes import setup_routes
from aiohttp import web


def app_operations():
    app = web.Application()
    setup_routes(app)
    return {(route.method.lower(), route.resource.canonical.removeprefix("/api/v1"))
            for route in app.router.routes() if route.method != "HEAD"}


async def test_the_served_spec_documents_every_route_and_nothing_else(api):
    spec = await api.get("/openapi.json")
    assert spec["openapi"].startswith("3.") and spec["servers"] == [{"url": "/api/v1"}]
    documented = {(method, path) for path, item in spec["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    routes = {(method, path.replace(r"{id:\d{1,18}}", "{id}")) for method, path in app_operations()}
    assert documented == routes
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()
                     if isinstance(op, dict) and "operationId" in op]
    assert len(operation_ids) == len(set(operation_ids)) == len(routes)
