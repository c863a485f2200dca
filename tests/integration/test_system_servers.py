"""System and server resources: /apis/kraken/system, /apis/servers,
/apis/servers/server-{id}, …/nics and …/nics/nic-{name}."""

import os
import re
from pathlib import Path

import pytest

from kraken import (assert_error, child, expect, href_host, href_path, id_from_href, self_link,
                    text)

SYS_NET = Path("/sys/class/net")


def machine_nics():
    """Interface names as the kernel lists them (entries that are directories;
    /sys/class/net can also hold a plain file such as bonding_masters)."""
    return sorted(n for n in os.listdir(SYS_NET) if (SYS_NET / n).is_dir())


def server_id(api):
    root = expect(api.get("/apis/servers"), 200)
    servers = child(root, "servers").findall("server")
    assert len(servers) == 1, "one server"
    return text(servers[0], "id"), servers[0]


def test_system_version(api):
    root = expect(api.get("/apis/kraken/system"), 200)
    system = child(root, "system")
    assert text(system, "version"), "<version> is present and not empty"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_system_is_get_only(api, method):
    resp = api.request(method, "/apis/kraken/system",
                       "<system/>" if method in ("POST", "PUT") else None)
    assert_error(resp, 1009)


def test_servers_list(api):
    sid, server = server_id(api)
    assert re.fullmatch(r"[0-9a-fA-F]{12}", sid), f"server id {sid!r}"
    href = self_link(server)
    assert href_host(href) == api.host
    assert href_path(href) == f"/apis/servers/server-{sid}"


def test_server_id_is_a_mac_or_machine_id(api):
    sid, _ = server_id(api)
    candidates = set()
    for nic in machine_nics():
        if nic == "lo":
            continue
        try:
            mac = (SYS_NET / nic / "address").read_text().strip()
        except OSError:
            continue
        candidates.add(mac.replace(":", "").lower())
    try:
        candidates.add(Path("/etc/machine-id").read_text().strip()[:12].lower())
    except OSError:
        pass
    assert sid.lower() in candidates, f"{sid} is neither a NIC's MAC nor the machine-id prefix"


@pytest.mark.parametrize("spelling", ["server-{}", "server{}"])
def test_server_details(api, spelling):
    sid, _ = server_id(api)
    root = expect(api.get("/apis/servers/" + spelling.format(sid)), 200)
    server = child(root, "server")
    assert text(server, "id") == sid
    links = {link.get("rel"): link.get("href") for link in server.findall("link")}
    assert href_path(links["self"]) == f"/apis/servers/server-{sid}"
    assert href_path(links["nics"]) == f"/apis/servers/server-{sid}/nics"
    assert href_host(links["nics"]) == api.host


def test_nics_match_the_machine(api):
    sid, _ = server_id(api)
    root = expect(api.get(f"/apis/servers/server-{sid}/nics"), 200)
    nics = child(root, "nics").findall("nic")
    names = sorted(text(n, "name") for n in nics)
    assert names == machine_nics()
    for n in nics:
        assert text(n, "id") == text(n, "name")
        href = self_link(n)
        assert href_path(href) == f"/apis/servers/server-{sid}/nics/nic-{text(n, 'name')}"
        assert id_from_href(href) == text(n, "name")


@pytest.mark.parametrize("spelling", ["nic-{}", "nic{}"])
def test_nic_details(api, spelling):
    sid, _ = server_id(api)
    for name in machine_nics():
        root = expect(api.get(f"/apis/servers/server-{sid}/nics/" + spelling.format(name)), 200)
        nic = child(root, "nic")
        assert text(nic, "id") == name and text(nic, "name") == name
        assert href_path(self_link(nic)) == f"/apis/servers/server-{sid}/nics/nic-{name}"
        mtu = (SYS_NET / name / "mtu").read_text().strip()
        assert text(nic, "mtu") == mtu
        mac = (SYS_NET / name / "address").read_text().strip()
        assert text(nic, "mac").replace(":", "").lower() == mac.replace(":", "").lower()
        assert text(nic, "state") in ("up", "down")
        if name == "lo":
            addresses = [a.text.strip() for a in nic.findall("address")]
            assert any(a.startswith("127.0.0.1/") for a in addresses), addresses


def test_unknown_server_and_nic(api):
    sid, _ = server_id(api)
    other = "000000000000" if sid != "000000000000" else "111111111111"
    assert_error(api.get(f"/apis/servers/server-{other}"), 1002)
    assert_error(api.get(f"/apis/servers/server-{other}/nics"), 1002)
    assert_error(api.get(f"/apis/servers/server-{sid}/nics/nic-doesnotexist0"), 1002)


@pytest.mark.parametrize("path", ["/apis/servers", "/apis/servers/server-{}",
                                  "/apis/servers/server-{}/nics"])
def test_servers_are_get_only(api, path):
    sid, _ = server_id(api)
    assert_error(api.post(path.format(sid), "<server/>"), 1009)
