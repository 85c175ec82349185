"""Which address is the client's, given the proxies we trust (backend/web/proxies.py)."""
from ipaddress import ip_network

import pytest

from backend.config import ConfigError, trusted_proxies
from backend.web.proxies import client_address

LOCAL_NGINX = (ip_network("127.0.0.1/32"),)


def test_the_address_nginx_saw_is_the_client():
    assert client_address("127.0.0.1", "198.51.100.4", LOCAL_NGINX) == "198.51.100.4"


def test_an_address_the_client_typed_itself_is_not_taken():
    # The client sent "X-Forwarded-For: 10.0.0.1"; a proxy that appends put the real peer after it.
    assert client_address("127.0.0.1", "10.0.0.1, 198.51.100.4", LOCAL_NGINX) == "198.51.100.4"


def test_a_chain_of_trusted_proxies_is_followed_to_the_first_untrusted_hop():
    trusted = trusted_proxies("127.0.0.1, 10.0.0.0/24")
    assert client_address("127.0.0.1", "1.1.1.1, 198.51.100.4, 10.0.0.9", trusted) == "198.51.100.4"


def test_an_untrusted_peer_is_the_client_whatever_it_says():
    assert client_address("192.0.2.50", "198.51.100.4", LOCAL_NGINX) == "192.0.2.50"


def test_trusted_proxies_accepts_addresses_and_networks_and_refuses_anything_else():
    assert trusted_proxies("") == ()
    assert trusted_proxies("127.0.0.1 ::1,10.1.0.0/16") == (
        ip_network("127.0.0.1/32"), ip_network("::1/128"), ip_network("10.1.0.0/16"))
    with pytest.raises(ConfigError, match="nginx-host"):
        trusted_proxies("127.0.0.1, nginx-host")
