"""Every route in one place."""
from aiohttp import web

from .api import applications, audit, catalog, faq, files, helpdesk, meta, notifications, org, session, tasks
from .chat import setup_web_chat
from .pages import applications as application_pages
from .pages import hall, rendering
from .pages import helpdesk as helpdesk_pages
from .pages import helpdesk_questions
from .pages import session as session_pages
from .pages import tasks as task_pages
from .pages import wecom_sign_in

ID = r"{id:\d{1,18}}"


def setup_routes(app: web.Application) -> None:
    api = "/api/v1"
    app.add_routes([
        web.get(f"{api}/health", meta.health, name="health"),
        web.get(f"{api}/openapi.json", meta.openapi, name="openapi"),
        web.post(f"{api}/auth/login", session.login, name="login"),
        web.get(f"{api}/me", session.me, name="me"),
        web.post(f"{api}/me/password", session.change_my_password, name="me_password"),
        web.get(f"{api}/centers", catalog.list_centers, name="centers"),
        web.get(f"{api}/matters", catalog.search_matters, name="matters"),
        web.get(f"{api}/matters/{{code}}", catalog.get_matter, name="matter"),
        web.post(f"{api}/matters/{{code}}/validate", catalog.validate_matter_form, name="matter_validate"),
        web.post(f"{api}/applications", applications.submit_application, name="applications_submit"),
        web.get(f"{api}/applications", applications.list_applications, name="applications"),
        web.post(f"{api}/applications/terminate", applications.terminate_applications, name="applications_terminate"),
        web.get(f"{api}/applications/{ID}", applications.get_application, name="application"),
        web.post(f"{api}/applications/{ID}/resubmit", applications.resubmit_application, name="application_resubmit"),
        web.post(f"{api}/applications/{ID}/withdraw", applications.withdraw_application, name="application_withdraw"),
        web.post(f"{api}/applications/{ID}/comments", applications.comment_application, name="application_comment"),
        web.post(f"{api}/applications/{ID}/remind", applications.remind_application, name="application_remind"),
        web.post(f"{api}/applications/{ID}/cc", applications.cc_application, name="application_cc"),
        web.post(f"{api}/files", files.upload_files, name="files_upload"),
        web.get(f"{api}/files/{ID}", files.download_file, name="file"),
        web.get(f"{api}/tasks", tasks.list_tasks, name="tasks"),
        web.get(f"{api}/tasks/{ID}", tasks.get_task, name="task"),
        web.post(f"{api}/tasks/{ID}/approve", tasks.approve_task, name="task_approve"),
        web.post(f"{api}/tasks/{ID}/return", tasks.return_task, name="task_return"),
        web.post(f"{api}/tasks/{ID}/add-signers", tasks.add_signers, name="task_add_signers"),
        web.post(f"{api}/tasks/{ID}/sign", tasks.sign_task, name="task_sign"),
        web.post(f"{api}/tasks/{ID}/transfer", tasks.transfer_task, name="task_transfer"),
        web.post(f"{api}/tasks/{ID}/delegate", tasks.delegate_task, name="task_delegate"),
        web.post(f"{api}/tasks/{ID}/remove-signers", tasks.remove_signers, name="task_remove_signers"),
        web.get(f"{api}/org/departments", org.department_tree, name="departments"),
        web.get(f"{api}/org/users", org.search_users, name="users"),
        web.get(f"{api}/notifications", notifications.list_notifications, name="notifications"),
        web.post(f"{api}/notifications/read", notifications.mark_notifications_read, name="notifications_read"),
        web.get(f"{api}/audit", audit.list_audit_events, name="audit"),
        web.get(f"{api}/helpdesk/status", helpdesk.helpdesk_status, name="helpdesk_status"),
        web.post(f"{api}/helpdesk/handoffs", helpdesk.start_handoff, name="helpdesk_handoff"),
        web.post(f"{api}/helpdesk/handoffs/messages", helpdesk.relay_message, name="helpdesk_handoff_message"),
        web.get(f"{api}/helpdesk/handoffs/current", helpdesk.current_handoff, name="helpdesk_handoff_current"),
        web.post(f"{api}/helpdesk/handoffs/withdraw", helpdesk.withdraw_handoff, name="helpdesk_handoff_withdraw"),
        web.get(f"{api}/helpdesk/conversations", helpdesk.list_conversations, name="helpdesk_conversations"),
        web.get(f"{api}/helpdesk/conversations/{ID}", helpdesk.get_conversation, name="helpdesk_conversation"),
        web.post(f"{api}/helpdesk/conversations/{ID}/take", helpdesk.take_conversation, name="helpdesk_take"),
        web.post(f"{api}/helpdesk/conversations/{ID}/reply", helpdesk.reply_to_conversation, name="helpdesk_reply"),
        web.post(f"{api}/helpdesk/conversations/{ID}/hand-back", helpdesk.hand_back_conversation,
                 name="helpdesk_hand_back"),
        web.get(f"{api}/helpdesk/conversations/{ID}/person", helpdesk.get_person, name="helpdesk_person"),
        web.post(f"{api}/helpdesk/tickets", helpdesk.leave_ticket, name="helpdesk_ticket_leave"),
        web.get(f"{api}/helpdesk/tickets", helpdesk.list_tickets, name="helpdesk_tickets"),
        web.post(f"{api}/helpdesk/tickets/{ID}/answer", helpdesk.answer_ticket, name="helpdesk_ticket_answer"),
        web.post(f"{api}/helpdesk/tickets/{ID}/close", helpdesk.close_ticket, name="helpdesk_ticket_close"),
        web.get(f"{api}/faq/answers", faq.list_answers, name="faq_answers"),
        web.get(f"{api}/faq/answers/{{name}}", faq.get_answer, name="faq_answer"),
        web.put(f"{api}/faq/answers/{{name}}", faq.edit_answer, name="faq_answer_edit"),
        web.post(f"{api}/faq/questions", faq.record_question, name="faq_questions_record"),
        web.get(f"{api}/helpdesk/questions", faq.list_question_groups, name="helpdesk_questions"),
        web.post(f"{api}/helpdesk/questions/answer", faq.answer_questions, name="helpdesk_questions_answer"),
        web.get(f"{api}/helpdesk/questions/weekly", faq.weekly_figures, name="helpdesk_questions_weekly"),
    ])


def setup_page_routes(app: web.Application) -> None:
    """The web hall. The org picker reads the same handlers as /api/v1/org, with the session."""
    app.add_routes([
        web.get("/login", session_pages.login_page, name="page_login"),
        web.post("/login", session_pages.login, name="page_login_submit"),
        web.post("/logout", session_pages.logout, name="page_logout"),
        web.get("/password", session_pages.password_page, name="page_password"),
        web.post("/password", session_pages.change_my_password, name="page_password_submit"),
        web.get(wecom_sign_in.ENTRY, wecom_sign_in.enter, name="page_wecom_enter"),
        web.get(wecom_sign_in.CALLBACK, wecom_sign_in.callback, name="page_wecom_callback"),
        web.get("/", hall.hall, name="page_hall"),
        web.get("/matters/{code}", hall.matter_page, name="page_matter"),
        web.post("/matters/{code}", hall.submit_matter, name="page_matter_submit"),
        web.get("/tasks", task_pages.task_list, name="page_tasks"),
        web.post("/tasks/approve-ticked", task_pages.approve_ticked, name="page_tasks_approve_ticked"),
        web.get(f"/tasks/{ID}", task_pages.task_page, name="page_task"),
        web.post(f"/tasks/{ID}", task_pages.decide, name="page_task_decide"),
        web.get("/applications", application_pages.application_list, name="page_applications"),
        web.post("/applications/terminate", application_pages.terminate, name="page_applications_terminate"),
        web.get(f"/applications/{ID}/edit", application_pages.edit_page, name="page_application_edit"),
        web.post(f"/applications/{ID}/edit", application_pages.resubmit, name="page_application_resubmit"),
        web.get(f"/applications/{ID}/progress", application_pages.progress, name="page_application_progress"),
        web.post(f"/applications/{ID}/withdraw", application_pages.withdraw, name="page_application_withdraw"),
        web.post(f"/applications/{ID}/remind", application_pages.remind, name="page_application_remind"),
        web.post(f"/applications/{ID}/comments", application_pages.comment, name="page_application_comment"),
        web.get("/helpdesk", helpdesk_pages.queue, name="page_helpdesk"),
        web.get(f"/helpdesk/conversations/{ID}", helpdesk_pages.conversation_page, name="page_helpdesk_conversation"),
        web.post(f"/helpdesk/conversations/{ID}", helpdesk_pages.act_on_conversation,
                 name="page_helpdesk_conversation_act"),
        web.get("/helpdesk/tickets", helpdesk_pages.ticket_list, name="page_helpdesk_tickets"),
        web.post(f"/helpdesk/tickets/{ID}", helpdesk_pages.act_on_ticket, name="page_helpdesk_ticket_act"),
        web.get("/helpdesk/questions", helpdesk_questions.questions_page, name="page_helpdesk_questions"),
        web.post("/helpdesk/questions/answer", helpdesk_questions.answer_group, name="page_helpdesk_questions_answer"),
        web.get("/helpdesk/answers", helpdesk_questions.answers_page, name="page_helpdesk_answers"),
        web.get("/helpdesk/answers/{name}", helpdesk_questions.answer_page, name="page_helpdesk_answer"),
        web.post("/helpdesk/answers/{name}", helpdesk_questions.edit_answer, name="page_helpdesk_answer_edit"),
        web.post("/web/files", files.upload_files, name="page_files_upload"),
        web.get(f"/files/{ID}", files.download_file, name="page_file"),
        web.get("/web/org/departments", org.department_tree, name="page_org_departments"),
        web.get("/web/org/users", org.search_users, name="page_org_users"),
        # The chat panel's notifications (for people without WeCom), with the session.
        web.get("/web/chat/notices", notifications.list_notifications, name="page_chat_notices"),
        web.post("/web/chat/notices/read", notifications.mark_notifications_read, name="page_chat_notices_read"),
    ])
    app.router.add_static("/static", rendering.STATIC, name="static")
    wecom_sign_in.setup(app)  # its WeCom API client, when WeCom sign-in is configured
    setup_web_chat(app)  # the chat panel's token and relay: session pages, not part of /api/v1
