"""Render deploy/nginx/campus-assistant.conf.in into an nginx site (standard library only).

  python3 deploy/nginx/render_site.py --server-name ban.example.edu.cn \\
      --certificate /etc/ssl/campus/fullchain.pem --certificate-key /etc/ssl/campus/privkey.pem \\
      > /etc/nginx/sites-available/campus-assistant.conf

Placeholders are ``@NAME@`` (nginx's own ``$variables`` stay as they are); every one must
be filled and no unknown one may be left, so a half-rendered site never reaches nginx.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Sequence

TEMPLATE = Path(__file__).resolve().parent / "campus-assistant.conf.in"
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")
# nginx names and paths: nothing that could end a directive or open a block.
SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/\-\[\]]+$")


def render(server_name: str, certificate: str, certificate_key: str, *, http_port: int = 80,
           https_port: int = 443, backends: Sequence[str] = ("127.0.0.1:8080",),
           wecom_gateways: Sequence[str] = ("127.0.0.1:5006",), template: Path = TEMPLATE) -> str:
    for value in (server_name, certificate, certificate_key, *backends, *wecom_gateways):
        if not SAFE_VALUE.match(value):
            raise ValueError(f"{value!r} is not a plain host name, address or path")
    if not backends or not wecom_gateways:
        raise ValueError("at least one backend and one WeCom gateway address are needed")
    values = {
        "SERVER_NAME": server_name,
        "HTTP_PORT": str(http_port),
        "HTTPS_PORT": str(https_port),
        "HTTPS_PORT_SUFFIX": "" if https_port == 443 else f":{https_port}",
        "TLS_CERTIFICATE": certificate,
        "TLS_CERTIFICATE_KEY": certificate_key,
        "BACKEND_SERVERS": "\n".join(f"    server {address};" for address in backends),
        "WECOM_GATEWAY_SERVERS": "\n".join(f"    server {address};" for address in wecom_gateways),
    }
    text = template.read_text(encoding="utf-8")
    unknown = set(PLACEHOLDER.findall(text)) - values.keys()
    if unknown:
        raise ValueError(f"the template has placeholders this script does not fill: {sorted(unknown)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-name", required=True, help="the hall's public host name")
    parser.add_argument("--certificate", required=True, help="TLS certificate chain (PEM)")
    parser.add_argument("--certificate-key", required=True, help="its private key (PEM)")
    parser.add_argument("--http-port", type=int, default=80)
    parser.add_argument("--https-port", type=int, default=443)
    parser.add_argument("--backend", action="append", help="backend address (repeatable; default 127.0.0.1:8080)")
    parser.add_argument("--wecom-gateway", action="append",
                        help="WeCom callback gateway address (repeatable; default 127.0.0.1:5006)")
    args = parser.parse_args(argv)
    try:
        site = render(args.server_name, args.certificate, args.certificate_key, http_port=args.http_port,
                      https_port=args.https_port, backends=args.backend or ["127.0.0.1:8080"],
                      wecom_gateways=args.wecom_gateway or ["127.0.0.1:5006"])
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(site)
    return 0


if __name__ == "__main__":
    sys.exit(main())
