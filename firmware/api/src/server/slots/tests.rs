use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn slots(total: usize, per_peer: usize) -> Arc<Slots> {
    Arc::new(Slots::new(Limits { total, per_peer }))
}

fn held(slot: &Slot) -> bool {
    slot.watch(Duration::ZERO, Instant::now()) != Watch::Gone
}

fn secs(t0: Instant, s: u64) -> Instant {
    t0 + Duration::from_secs(s)
}

#[test]
fn a_peer_at_its_bound_replaces_its_own_oldest_stranger() {
    let s = slots(10, 2);
    let t0 = Instant::now();
    let first = s.admit(ip("127.0.0.2"), t0).unwrap();
    let second = s.admit(ip("127.0.0.2"), secs(t0, 1)).unwrap();
    let other = s.admit(ip("127.0.0.3"), t0).unwrap();
    let third = s.admit(ip("127.0.0.2"), secs(t0, 2)).unwrap();
    assert!(!held(&first));
    assert!(held(&second) && held(&third) && held(&other));
    assert_eq!(s.held(), 3);
}

#[test]
fn a_peer_whose_connections_are_all_proven_and_busy_is_refused() {
    let s = slots(10, 1);
    let t0 = Instant::now();
    let only = s.admit(ip("127.0.0.2"), t0).unwrap();
    only.begin_request();
    only.end_request(true, t0);
    only.begin_request();
    assert_eq!(
        s.admit(ip("127.0.0.2"), secs(t0, 1)).err(),
        Some(Refused::PeerFull)
    );
    assert!(held(&only));
}

#[test]
fn when_full_idle_strangers_go_before_idle_proven_before_busy_strangers() {
    let s = slots(3, 10);
    let t0 = Instant::now();
    let busy_stranger = s.admit(ip("10.0.0.1"), t0).unwrap();
    busy_stranger.begin_request();
    let proven = s.admit(ip("10.0.0.2"), t0).unwrap();
    proven.begin_request();
    proven.end_request(true, secs(t0, 1));
    let idle_stranger = s.admit(ip("10.0.0.3"), secs(t0, 2)).unwrap();

    let newcomer = s.admit(ip("10.0.0.4"), secs(t0, 3)).unwrap();
    assert!(!held(&idle_stranger));
    assert!(held(&proven) && held(&busy_stranger));

    // With no idle stranger left, the idle proven connection goes.
    newcomer.begin_request();
    let _later = s.admit(ip("10.0.0.5"), secs(t0, 4)).unwrap();
    assert!(!held(&proven));
    assert!(held(&busy_stranger) && held(&newcomer));
}

#[test]
fn the_longest_idle_proven_connection_is_shed_first() {
    let s = slots(2, 10);
    let t0 = Instant::now();
    let early = s.admit(ip("10.0.0.1"), t0).unwrap();
    let late = s.admit(ip("10.0.0.2"), t0).unwrap();
    // `late` was accepted at the same time but answered more recently.
    early.begin_request();
    early.end_request(true, secs(t0, 1));
    late.begin_request();
    late.end_request(true, secs(t0, 5));
    let _new = s.admit(ip("10.0.0.3"), secs(t0, 6)).unwrap();
    assert!(!held(&early));
    assert!(held(&late));
}

#[test]
fn busy_strangers_are_shed_when_nothing_else_can_be() {
    let s = slots(2, 10);
    let t0 = Instant::now();
    let older = s.admit(ip("10.0.0.1"), t0).unwrap();
    let newer = s.admit(ip("10.0.0.2"), secs(t0, 1)).unwrap();
    older.begin_request();
    newer.begin_request();
    let _new = s.admit(ip("10.0.0.3"), secs(t0, 2)).unwrap();
    assert!(!held(&older));
    assert!(held(&newer));
}

#[test]
fn proven_busy_connections_are_never_shed() {
    let s = slots(1, 10);
    let t0 = Instant::now();
    let serving = s.admit(ip("10.0.0.1"), t0).unwrap();
    serving.begin_request();
    serving.end_request(true, t0);
    serving.begin_request();
    assert_eq!(
        s.admit(ip("10.0.0.2"), secs(t0, 1)).err(),
        Some(Refused::Full)
    );
    assert!(held(&serving));
}

#[test]
fn dropping_a_slot_frees_it_for_its_peer() {
    let s = slots(10, 1);
    let t0 = Instant::now();
    let first = s.admit(ip("10.0.0.1"), t0).unwrap();
    first.begin_request();
    first.end_request(true, t0);
    first.begin_request();
    drop(first);
    assert_eq!(s.held(), 0);
    assert!(s.admit(ip("10.0.0.1"), t0).is_ok());
}

#[tokio::test]
async fn a_shed_connection_is_told() {
    let s = slots(1, 10);
    let t0 = Instant::now();
    let victim = s.admit(ip("10.0.0.1"), t0).unwrap();
    let _new = s.admit(ip("10.0.0.2"), t0).unwrap();
    tokio::time::timeout(Duration::from_secs(5), victim.shed())
        .await
        .expect("the shed connection is notified");
}

#[test]
fn strangers_close_when_idle_proven_connections_keep_alive() {
    let s = slots(10, 10);
    let t0 = Instant::now();
    let limit = Duration::from_secs(10);
    let slot = s.admit(ip("10.0.0.1"), t0).unwrap();
    assert_eq!(slot.watch(limit, t0), Watch::CloseIdleAt(secs(t0, 10)));
    slot.begin_request();
    assert_eq!(
        slot.watch(limit, secs(t0, 30)),
        Watch::CloseIdleAt(secs(t0, 40))
    );
    slot.end_request(false, secs(t0, 31));
    assert_eq!(
        slot.watch(limit, secs(t0, 32)),
        Watch::CloseIdleAt(secs(t0, 41))
    );
    slot.begin_request();
    slot.end_request(true, secs(t0, 33));
    assert_eq!(slot.watch(limit, secs(t0, 99)), Watch::Proven);
    // One unauthorised answer later it is still proven.
    slot.begin_request();
    slot.end_request(false, secs(t0, 100));
    assert_eq!(slot.watch(limit, secs(t0, 101)), Watch::Proven);
}

#[test]
fn ipv6_peers_are_counted_by_64_bit_prefix_and_mapped_ipv4_as_ipv4() {
    assert_eq!(
        peer_key(ip("2001:db8:1:2:aaaa::1")),
        peer_key(ip("2001:db8:1:2:bbbb::2"))
    );
    assert_ne!(
        peer_key(ip("2001:db8:1:2::1")),
        peer_key(ip("2001:db8:1:3::1"))
    );
    assert_eq!(peer_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    let s = slots(10, 1);
    let t0 = Instant::now();
    let first = s.admit(ip("2001:db8::1"), t0).unwrap();
    let _second = s.admit(ip("2001:db8::2"), t0).unwrap();
    assert!(!held(&first));
}
