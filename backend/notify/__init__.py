"""Notifications to people: the outbox worker, reminders (催办) and the WeCom org sync."""
