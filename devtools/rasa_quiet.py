"""``rasa`` for the Makefile's checks, without third-party DeprecationWarnings:

  .venv/rasa/bin/python -m devtools.rasa_quiet data validate …   (the arguments of ``rasa``)

Sanic's import calls ``warnings.filterwarnings("once", DeprecationWarning)``, so everything Rasa
imports afterwards prints its dependencies' deprecations (pkg_resources, jax, SQLAlchemy 2.0 …),
whatever PYTHONWARNINGS says. Imported first and that filter taken back, Python's defaults hold
again; Rasa's own warnings (UserWarning, e.g. about our data) still show — except the few in
EXPECTED, which Rasa's validator gives about things this assistant does on purpose: each is said
here with the reason, and counted in one line, so that a new warning about our data stands out.
"""
from __future__ import annotations

import atexit
import sys
import warnings

import sanic  # noqa: F401  (first, for the next line)

warnings.filters[:] = [f for f in warnings.filters if f[:4] != ("once", None, DeprecationWarning, None)]

from rasa.__main__ import main  # noqa: E402  (after the filter is gone)

# Rasa's warning about our data (its exact text) → why it is expected.
EXPECTED = {
    "Issue found in 'data/rules.yml': \nFound intent 'faq' in stories which is not part of the domain.":
        "faq is a retrieval intent (faq/* in data/nlu/faq.yml, answered by the ResponseSelector): training "
        "adds it to the model's domain from the NLU data, so the domain files do not list it",
    "The intent 'EXTERNAL_notification' is listed in the domain file, but is not found in the NLU training data.":
        "sent by the backend's notifier (backend/notify/rasa.py), never typed by a person",
    "The intent 'faq_feedback' is listed in the domain file, but is not found in the NLU training data.":
        "sent only by the buttons under an FAQ answer (actions/faq.py, payload /faq_feedback{…})",
    "The utterance 'utter_faq' is not used in any story or rule.":
        "the ResponseSelector's answers are utter_faq/<key>; the FAQ action says them",
    "The utterance 'utter_out_of_scope' is not used in any story or rule.":
        "said by action_out_of_scope, which fills in the help-desk number (HELPDESK_PHONE)",
    "The utterance 'utter_default' is not used in any story or rule.":
        "said by the fallback actions, which fill in the help-desk number",
    "The utterance 'utter_cancelled' is not used in any story or rule.":
        "said by the form's cancel action (actions/matter_form.py)",
}
_shown = warnings.showwarning
_expected_seen: list[str] = []


def showing_unexpected(message, category, filename, lineno, file=None, line=None):
    if category is UserWarning and str(message) in EXPECTED:
        _expected_seen.append(str(message))
        return
    _shown(message, category, filename, lineno, file, line)


def count_expected() -> None:
    if _expected_seen:
        print(f"({len(_expected_seen)} expected warnings about our data not shown: devtools/rasa_quiet.py says why)",
              file=sys.stderr)


if __name__ == "__main__":
    warnings.showwarning = showing_unexpected
    atexit.register(count_expected)
    sys.argv[0] = "rasa"
    main()
