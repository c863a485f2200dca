use std::net::Ipv4Addr;

use makara_test_support::TestDir;

use super::*;

fn ip(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

fn fixed(address: &str, prefix: u8, gateway: Option<&str>) -> StaticNetwork {
    StaticNetwork {
        address: ip(address),
        prefix,
        gateway: gateway.map(ip),
    }
}

#[test]
fn a_missing_mode_is_dhcp() {
    let conf = NetworkConf::parse("# nothing yet\nINTERFACE=eth1\n").unwrap();
    assert_eq!(conf.network, Network::Dhcp);
    assert!(conf.dns.is_empty());
    assert_eq!(conf.to_text(), "# nothing yet\nINTERFACE=eth1\nMODE=dhcp\n");
}

#[test]
fn a_static_file_is_read_as_init_reads_it() {
    let text = "MODE=static # set by hand\nADDRESS = 192.0.2.10/24\nGATEWAY=\"192.0.2.1\"\nDNS=\"192.0.2.53 198.51.100.53\"\nHOSTNAME=studio-a\n";
    let conf = NetworkConf::parse(text).unwrap();
    assert_eq!(
        conf.network,
        Network::Static(fixed("192.0.2.10", 24, Some("192.0.2.1")))
    );
    assert_eq!(conf.dns, vec![ip("192.0.2.53"), ip("198.51.100.53")]);
    assert_eq!(
        conf.to_text(),
        "HOSTNAME=studio-a\nMODE=static\nADDRESS=192.0.2.10/24\nGATEWAY=192.0.2.1\nDNS=\"192.0.2.53 198.51.100.53\"\n"
    );
    assert_eq!(NetworkConf::parse(&conf.to_text()).unwrap(), conf);
}

#[test]
fn bad_values_name_their_line_and_key() {
    let cases = [
        ("MODE=bootp\n", "line 1: MODE=bootp: dhcp or static"),
        ("MODE=static\n", "MODE=static needs ADDRESS=a.b.c.d/len"),
        (
            "MODE=static\nADDRESS=192.0.2.10\n",
            "line 2: ADDRESS=192.0.2.10: not a.b.c.d/len",
        ),
        (
            "MODE=static\nADDRESS=192.0.2.10/24\nGATEWAY=gw\n",
            "line 3: GATEWAY=gw: 'gw' is not an IPv4 address",
        ),
        (
            "DNS=1.1.1.1 x\n",
            "line 1: DNS=1.1.1.1 x: 'x' is not an IPv4 address",
        ),
        (
            "MODE=static\nADDRESS=192.0.2.0/24\n",
            "192.0.2.0/24 is the subnet's own address, not a host of it",
        ),
        (
            "DNS=1.1.1.1 1.0.0.1 8.8.8.8 8.8.4.4\n",
            "4 DNS servers: at most 3",
        ),
    ];
    for (text, want) in cases {
        let err = NetworkConf::parse(text).unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err}");
    }
}

#[test]
fn static_networks_are_held_to_the_subnet_rules() {
    let refused = [
        (fixed("0.1.2.3", 8, None), Refusal::NotHost(ip("0.1.2.3"))),
        (
            fixed("127.0.0.2", 8, None),
            Refusal::NotHost(ip("127.0.0.2")),
        ),
        (
            fixed("239.1.1.1", 8, None),
            Refusal::NotHost(ip("239.1.1.1")),
        ),
        (fixed("10.0.0.1", 0, None), Refusal::Prefix(0)),
        (fixed("10.0.0.1", 33, None), Refusal::Prefix(33)),
        (
            fixed("10.0.0.0", 24, None),
            Refusal::SubnetAddress(ip("10.0.0.0"), 24),
        ),
        (
            fixed("10.0.0.255", 24, None),
            Refusal::Broadcast(ip("10.0.0.255"), 24),
        ),
        (
            fixed("10.0.0.5", 24, Some("10.0.1.1")),
            Refusal::GatewayOffSubnet(ip("10.0.1.1")),
        ),
        (
            fixed("10.0.0.5", 24, Some("10.0.0.5")),
            Refusal::GatewayIsTheBox(ip("10.0.0.5")),
        ),
        (
            fixed("10.0.0.5", 24, Some("10.0.0.255")),
            Refusal::Broadcast(ip("10.0.0.255"), 24),
        ),
    ];
    for (config, want) in refused {
        assert_eq!(config.check(), Err(want), "{config:?}");
    }
    for ok in [
        fixed("10.0.0.5", 24, Some("10.0.0.1")),
        fixed("10.0.0.0", 31, Some("10.0.0.1")),
        fixed("192.0.2.7", 32, None),
    ] {
        assert_eq!(ok.check(), Ok(()), "{ok:?}");
    }
}

#[test]
fn written_files_read_back_and_replace_the_old_one() {
    let dir = TestDir::new("netconf");
    let path = dir.path().join("network.conf");
    assert_eq!(NetworkConf::read(&path).unwrap(), NetworkConf::default());
    std::fs::write(&path, "INTERFACE=eth0\nMODE=dhcp\n").unwrap();
    let mut conf = NetworkConf::read(&path).unwrap();
    conf.network = Network::Static(fixed("10.0.2.20", 24, Some("10.0.2.2")));
    conf.dns = vec![ip("10.0.2.3")];
    conf.write(&path).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "INTERFACE=eth0\nMODE=static\nADDRESS=10.0.2.20/24\nGATEWAY=10.0.2.2\nDNS=\"10.0.2.3\"\n"
    );
    assert_eq!(NetworkConf::read(&path).unwrap(), conf);
    assert!(!path.with_extension("conf.new").exists());
}

#[test]
fn a_refused_configuration_is_not_written() {
    let dir = TestDir::new("netconf");
    let path = dir.path().join("network.conf");
    let conf = NetworkConf {
        network: Network::Static(fixed("10.0.0.255", 24, None)),
        ..NetworkConf::default()
    };
    assert!(matches!(conf.write(&path), Err(NetConfError::Refused(_))));
    assert!(!path.exists());
}

#[test]
fn an_oversized_file_is_refused() {
    let dir = TestDir::new("netconf");
    let path = dir.path().join("network.conf");
    std::fs::write(&path, "#".repeat(MAX_FILE_BYTES as usize + 1)).unwrap();
    assert!(matches!(
        NetworkConf::read(&path),
        Err(NetConfError::TooLarge { .. })
    ));
}
