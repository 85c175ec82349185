"""The help desk (服务台): conversations handed from the assistant to a person, and tickets
left for later. Beside the read side and the notifier; storage below, the web layer above."""
