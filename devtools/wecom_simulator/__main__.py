"""python -m devtools.wecom_simulator --port P --callback-url URL [--org backend/demo_data/org.yml]

Plays the WeCom server for the app configured by WECOM_CORP_ID, WECOM_AGENT_ID,
WECOM_SECRET, WECOM_TOKEN and WECOM_AES_KEY (environment, .env, or the options below).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from aiohttp import web
from dotenv import load_dotenv

from .app import create_app
from .config import DEFAULT_ORG, ROOT, ConfigError, SimulatorConfig, dev_credentials, write_dev_env


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.wecom_simulator",
                                     description="A protocol-true WeChat Work (企业微信) server for development and tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WECOM_SIMULATOR_PORT", "8090")))
    parser.add_argument("--callback-url", default=os.environ.get("WECOM_CALLBACK_URL"),
                        help="the app's callback URL, e.g. http://127.0.0.1:5005/webhooks/wecom/webhook")
    parser.add_argument("--org", type=Path, default=DEFAULT_ORG, help="org chart YAML for the address book")
    parser.add_argument("--corp-id")
    parser.add_argument("--agent-id")
    parser.add_argument("--secret")
    parser.add_argument("--token", help="the callback Token")
    parser.add_argument("--aes-key", help="the callback EncodingAESKey (43 characters)")
    parser.add_argument("--token-ttl", type=int, default=7200, help="access_token expires_in, seconds")
    parser.add_argument("--callback-timeout", type=float, default=5.0, help="seconds WeCom waits per try")
    parser.add_argument("--dev-credentials", action="store_true",
                        help="make up a development corp when WECOM_* are not set (printed at start)")
    parser.add_argument("--write-dev-env", type=Path, metavar="PATH",
                        help="write generated development WECOM_* settings to PATH (if missing) and exit")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> SimulatorConfig:
    env = dict(os.environ)
    if args.dev_credentials and not all(env.get(name) for name in dev_credentials()):
        env.update(dev_credentials())
    return SimulatorConfig.from_env(
        env, corp_id=args.corp_id, agent_id=args.agent_id, secret=args.secret, token=args.token,
        aes_key=args.aes_key, callback_url=args.callback_url, org_path=args.org,
        token_ttl=args.token_ttl, callback_timeout=args.callback_timeout)


def main(argv: list[str]) -> int:
    load_dotenv(ROOT / ".env")
    args = parse_args(argv)
    if args.write_dev_env:
        url = args.callback_url or f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}/webhooks/wecom/webhook"
        if write_dev_env(args.write_dev_env, args.port, url, int(os.environ.get("BACKEND_PORT", "8080"))):
            print(f"wecom-simulator: wrote development WeCom settings to {args.write_dev_env}")
        return 0
    try:
        config = build_config(args)
        app = create_app(config)
    except (ConfigError, OSError) as error:
        print(f"wecom-simulator: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    base = f"http://{args.host}:{args.port}"
    print(f"WeCom simulator for corp {config.corp_id} agent {config.agent_id}: page {base}/_sim/ · "
          f"API {base}/cgi-bin/ · callback → {config.callback_url or '(none: --callback-url)'}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
