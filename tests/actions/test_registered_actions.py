"""The action server registers exactly the custom actions the domain declares: every concrete
action class has its name, and a shared base (an action without a name) is not an action."""
from __future__ import annotations

import warnings

from tests.support.conversations import campus_domain


def test_the_action_server_serves_the_domains_actions_and_nothing_else():
    with warnings.catch_warnings():  # Rasa's domain schema check and rasa_sdk's importer use load_module
        warnings.simplefilter("ignore")
        from rasa_sdk.executor import ActionExecutor

        executor = ActionExecutor()
        executor.register_package("actions")  # as actions/server.py does (rasa_sdk's --actions)
    declared = {name for name in campus_domain().user_actions
                if not name.startswith("utter_")}  # responses, which Rasa itself utters
    assert "" not in executor.actions
    assert set(executor.actions) == declared
