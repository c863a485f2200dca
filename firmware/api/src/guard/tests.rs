use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

fn v4(last: u8) -> Option<Peer> {
    Some(Peer::of(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn an_address_is_blocked_after_its_burst_and_others_are_not() {
    let guard = Guard::default();
    let t0 = Instant::now();
    for _ in 0..9 {
        assert_eq!(guard.failed(v4(1), None, t0), NewBlocks::default());
    }
    assert_eq!(guard.check(v4(1), None, t0), Ok(()));
    assert_eq!(guard.failed(v4(1), None, t0).address, Some(secs(1)));
    assert_eq!(
        guard.check(v4(1), Some("k"), t0),
        Err(Refusal {
            subject: Subject::Address,
            retry_after: secs(1)
        })
    );
    assert_eq!(guard.check(v4(2), None, t0), Ok(()));
    assert_eq!(guard.check(v4(1), None, t0 + secs(1)), Ok(()));
}

#[test]
fn guessing_a_key_from_many_addresses_blocks_the_key_but_not_its_clients() {
    let guard = Guard::default();
    let t0 = Instant::now();
    guard.succeeded(v4(200), "k", t0);
    let mut blocks = Vec::new();
    for i in 0..10 {
        blocks.push(guard.failed(v4(i), Some("k"), t0));
    }
    assert!(blocks.iter().all(|b| b.address.is_none()), "{blocks:?}");
    assert_eq!(blocks[9].key, Some(secs(1)));
    let refused = Err(Refusal {
        subject: Subject::Key,
        retry_after: secs(1),
    });
    // A new address claiming the key waits; the key's known client does
    // not, nor does anyone claiming another key, nor a request without an
    // address (which could be the key's client).
    assert_eq!(guard.check(v4(50), Some("k"), t0), refused);
    assert_eq!(guard.check(None, Some("k"), t0), Ok(()));
    assert_eq!(guard.check(v4(200), Some("k"), t0), Ok(()));
    assert_eq!(guard.check(v4(50), Some("other"), t0), Ok(()));
}

#[test]
fn trust_lapses() {
    let guard = Guard::default();
    let t0 = Instant::now();
    guard.succeeded(v4(200), "k", t0);
    let later = t0 + TRUST_FOR;
    for i in 0..10 {
        guard.failed(v4(i), Some("k"), later);
    }
    assert_eq!(
        guard
            .check(v4(200), Some("k"), later)
            .map_err(|r| r.subject),
        Err(Subject::Key)
    );
}

#[test]
fn trusted_addresses_per_key_are_bounded() {
    let guard = Guard::default();
    let t0 = Instant::now();
    for i in 0..=MAX_TRUSTED_PER_KEY as u64 {
        guard.succeeded(v4(i as u8), "k", t0 + secs(i));
    }
    let now = t0 + secs(100);
    for i in 100..110 {
        guard.failed(v4(i), Some("k"), now);
    }
    // The first (least recently seen) made room for the last.
    assert!(guard.check(v4(0), Some("k"), now).is_err());
    assert_eq!(guard.check(v4(1), Some("k"), now), Ok(()));
    assert_eq!(
        guard.check(v4(MAX_TRUSTED_PER_KEY as u8), Some("k"), now),
        Ok(())
    );
}

#[test]
fn unknown_keys_get_no_record_and_revoked_ones_are_dropped() {
    let guard = Guard::default();
    let t0 = Instant::now();
    guard.failed(v4(1), None, t0);
    assert_eq!(guard.keys_tracked(), 0);
    guard.failed(v4(1), Some("a"), t0);
    guard.succeeded(v4(1), "b", t0);
    assert_eq!(guard.keys_tracked(), 2);
    guard.retain_keys(|k| k == "b");
    assert_eq!(guard.keys_tracked(), 1);
}

#[test]
fn the_address_table_is_bounded_and_swept() {
    let guard = Guard::default();
    let t0 = Instant::now();
    let peer = |i: usize| Some(Peer::V6Net((i as u64).to_be_bytes()));
    for i in 0..MAX_ADDRESSES {
        guard.failed(peer(i), None, t0);
    }
    // Full of busy records: a new address is not counted…
    for _ in 0..20 {
        guard.failed(peer(MAX_ADDRESSES), None, t0);
    }
    assert_eq!(guard.check(peer(MAX_ADDRESSES), None, t0), Ok(()));
    // …until the old ones are idle and swept.
    let later = t0 + secs(60);
    for _ in 0..10 {
        guard.failed(peer(MAX_ADDRESSES), None, later);
    }
    assert!(guard.check(peer(MAX_ADDRESSES), None, later).is_err());
    assert!(guard.lock().addresses.len() <= MAX_ADDRESSES);
}

#[test]
fn ipv6_hosts_count_per_64_and_mapped_ipv4_as_ipv4() {
    let a: Ipv6Addr = "2001:db8:1:2::1".parse().unwrap_or(Ipv6Addr::LOCALHOST);
    let b: Ipv6Addr = "2001:db8:1:2:ffff::9"
        .parse()
        .unwrap_or(Ipv6Addr::LOCALHOST);
    let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap_or(Ipv6Addr::LOCALHOST);
    assert_eq!(Peer::of(a.into()), Peer::of(b.into()));
    assert_ne!(Peer::of(a.into()), Peer::of(c.into()));
    assert_eq!(Peer::of(a.into()).to_string(), "2001:db8:1:2::/64");
    let mapped = Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped();
    assert_eq!(Peer::of(mapped.into()), v4(7).unwrap_or(Peer::V4([0; 4])));
    assert_eq!(Peer::of(mapped.into()).to_string(), "192.0.2.7");
}

#[test]
fn a_refusal_names_its_subject_and_whole_seconds() {
    let r = Refusal {
        subject: Subject::Address,
        retry_after: Duration::from_millis(1500),
    };
    assert_eq!(r.retry_after_secs(), 2);
    assert_eq!(
        r.to_string(),
        "too many failed authorisations from this address; try again in 2 s"
    );
}
