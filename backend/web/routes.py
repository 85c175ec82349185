"""Every route in one place."""
from aiohttp import web

from .api import applications, catalog, meta, org, session, tasks

ID = r"{id:\d{1,18}}"


def setup_routes(app: web.Application) -> None:
    api = "/api/v1"
    app.add_routes([
        web.get(f"{api}/health", meta.health, name="health"),
        web.get(f"{api}/openapi.json", meta.openapi, name="openapi"),
        web.post(f"{api}/auth/login", session.login, name="login"),
        web.get(f"{api}/me", session.me, name="me"),
        web.get(f"{api}/centers", catalog.list_centers, name="centers"),
        web.get(f"{api}/matters", catalog.search_matters, name="matters"),
        web.get(f"{api}/matters/{{code}}", catalog.get_matter, name="matter"),
        web.post(f"{api}/matters/{{code}}/validate", catalog.validate_matter_form, name="matter_validate"),
        web.post(f"{api}/applications", applications.submit_application, name="applications_submit"),
        web.get(f"{api}/applications", applications.list_applications, name="applications"),
        web.post(f"{api}/applications/terminate", applications.terminate_applications, name="applications_terminate"),
        web.get(f"{api}/applications/{ID}", applications.get_application, name="application"),
        web.post(f"{api}/applications/{ID}/resubmit", applications.resubmit_application, name="application_resubmit"),
        web.get(f"{api}/tasks", tasks.list_tasks, name="tasks"),
        web.get(f"{api}/tasks/{ID}", tasks.get_task, name="task"),
        web.post(f"{api}/tasks/{ID}/approve", tasks.approve_task, name="task_approve"),
        web.post(f"{api}/tasks/{ID}/return", tasks.return_task, name="task_return"),
        web.post(f"{api}/tasks/{ID}/add-signers", tasks.add_signers, name="task_add_signers"),
        web.post(f"{api}/tasks/{ID}/sign", tasks.sign_task, name="task_sign"),
        web.get(f"{api}/org/departments", org.department_tree, name="departments"),
        web.get(f"{api}/org/users", org.search_users, name="users"),
    ])
