"""The WeChat Work (企业微信) channel, one module per job.

  channel   Rasa's input/output channel (``bot.channels.wecom.channel.WeComInput`` in
            credentials.yml): answers callbacks at once, runs the turn in the background,
            sends the reply; pushes (trigger_intent) are sent inside the turn.
  callback  a callback's signature, decryption and shape → ``Inbound`` (what the user did); no I/O.
  render    a turn's Rasa messages → WeCom message/send bodies (merged texts, cards, menus); no I/O.
  delivery  sending a rendered turn within the per-member quota; menus and cards to remember.
  store     short-lived shared state: dedupe marks, menus, cards (in-process or Redis).
  gateway   the process WeCom calls (``python -m bot.channels.wecom.gateway``): acknowledges at
            once and forwards to ``channel`` on Rasa.
  queue     the gateway's Redis queue (several gateways, nothing lost when one is killed).

The WeCom server API client is the top-level ``wecom_api`` package. Nothing is imported here,
so the gateway (which does not need Rasa) does not load Rasa by importing this package.
"""
