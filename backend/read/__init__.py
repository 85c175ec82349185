"""The read side: what the API and the pages show, straight from the database as plain
dicts with the labels people read — one module a subject (catalog, applications, tasks,
people), each a view over a read session.

Visibility is enforced here: an applicant sees their own applications, an approver the
tasks assigned to them and the applications they act or acted on. Anything else is
reported as not found, so ids of other people's data leak nothing.
"""
