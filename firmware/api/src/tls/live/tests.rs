use std::fs;
use std::io::{Read, Write};

use makara_test_support::TestDir;
use rustls::client::ClientConnection;
use rustls::pki_types::CertificateDer;
use rustls::server::ServerConnection;
use rustls::{ClientConfig, Connection, RootCertStore};

use super::super::self_signed::Renewal;
use super::*;

const DAY: u64 = 86_400;

fn days(n: u64) -> Duration {
    Duration::from_secs(n * DAY)
}

fn host(name: &'static str) -> HostName {
    Box::new(move || name.to_string())
}

/// A pair makarad made at `at` in a directory of its own.
fn made_pair(dir: &TestDir, name: &str, at: SystemTime) -> CertPaths {
    let paths = CertPaths::in_data_dir(&dir.join(name));
    ensure_self_signed_at(&paths, "box", at).unwrap();
    paths
}

/// Puts the pair at `from` in place of the one at `to`, as an operator
/// copying files would (certificate first).
fn copy_pair(from: &CertPaths, to: &CertPaths) {
    fs::create_dir_all(to.cert.parent().unwrap()).unwrap();
    fs::copy(&from.cert, &to.cert).unwrap();
    fs::copy(&from.key, &to.key).unwrap();
}

fn first_cert(paths: &CertPaths) -> CertificateDer<'static> {
    read_certs(&paths.cert).unwrap().remove(0)
}

fn served(keeper: &CertKeeper) -> CertificateDer<'static> {
    keeper.live().serving().cert[0].clone()
}

/// Moves what `from` has to send into `to`.
fn pump(from: &mut Connection, to: &mut Connection) {
    let mut bytes = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut bytes).unwrap();
    }
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        to.read_tls(&mut rest).unwrap();
        to.process_new_packets().unwrap();
    }
}

/// An in-memory TLS connection to `server` by a client trusting `roots`.
fn connect(
    server: &Arc<ServerConfig>,
    roots: &[CertificateDer<'static>],
) -> (Connection, Connection) {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    let name = "localhost".try_into().unwrap();
    let mut client = Connection::from(ClientConnection::new(Arc::new(config), name).unwrap());
    let mut server = Connection::from(ServerConnection::new(Arc::clone(server)).unwrap());
    for _ in 0..10 {
        if !client.is_handshaking() && !server.is_handshaking() {
            return (client, server);
        }
        pump(&mut client, &mut server);
        pump(&mut server, &mut client);
    }
    panic!("the handshake did not finish");
}

fn peer_cert(client: &Connection) -> CertificateDer<'static> {
    client.peer_certificates().unwrap()[0].clone()
}

#[test]
fn a_swap_changes_the_served_certificate_and_keeps_open_connections() {
    let dir = TestDir::new("tls-live-swap");
    let now = SystemTime::now();
    let (a, b) = (made_pair(&dir, "a", now), made_pair(&dir, "b", now));
    let (cert_a, cert_b) = (first_cert(&a), first_cert(&b));
    assert_ne!(cert_a, cert_b);
    let live = Arc::new(LiveCert::new(load_pair(&a).unwrap()));
    let config = live_server_config(Arc::clone(&live)).unwrap();
    let roots = [cert_a.clone(), cert_b.clone()];

    let (mut open_client, mut open_server) = connect(&config, &roots);
    assert_eq!(peer_cert(&open_client), cert_a);
    live.swap(load_pair(&b).unwrap());
    let (client, _) = connect(&config, &roots);
    assert_eq!(peer_cert(&client), cert_b);

    // The connection made before the swap still carries data.
    open_client.writer().write_all(b"still here").unwrap();
    pump(&mut open_client, &mut open_server);
    let mut got = [0u8; 10];
    open_server.reader().read_exact(&mut got).unwrap();
    assert_eq!(&got, b"still here");
    assert_eq!(peer_cert(&open_client), cert_a);
}

#[test]
fn own_certificate_is_renewed_and_served_when_due() {
    let dir = TestDir::new("tls-live-renew");
    let paths = CertPaths::in_data_dir(dir.path());
    let (keeper, status) = CertKeeper::in_data_dir(paths.clone(), host("box")).unwrap();
    assert_eq!(status, CertStatus::Generated(Renewal::Missing));
    let first = served(&keeper);
    assert_eq!(first, first_cert(&paths));
    let now = SystemTime::now();

    let early = keeper.check_at(now + days(825 - 31)).unwrap();
    assert_eq!(
        early,
        Checked {
            status: Some(CertStatus::Current),
            swapped: false
        }
    );
    assert_eq!(served(&keeper), first);

    let due = keeper.check_at(now + days(825 - 29)).unwrap();
    assert_eq!(
        due,
        Checked {
            status: Some(CertStatus::Generated(Renewal::Expiring)),
            swapped: true
        }
    );
    assert_ne!(served(&keeper), first);
    assert_eq!(served(&keeper), first_cert(&paths));
}

#[test]
fn operators_certificate_near_its_end_is_kept_and_a_new_one_served() {
    let dir = TestDir::new("tls-live-operator");
    let now = SystemTime::now();
    // Made 800 days ago elsewhere: it ends in 25 days, and is not listed
    // as makarad's here.
    let theirs = made_pair(&dir, "theirs", now - days(800));
    let paths = CertPaths::in_data_dir(&dir.join("data"));
    copy_pair(&theirs, &paths);
    let (keeper, status) = CertKeeper::in_data_dir(paths.clone(), host("box")).unwrap();
    assert_eq!(status, CertStatus::Operator);

    let checked = keeper.check_at(now).unwrap();
    assert_eq!(
        checked,
        Checked {
            status: Some(CertStatus::Operator),
            swapped: false
        }
    );
    assert_eq!(first_cert(&paths), first_cert(&theirs));
    assert_eq!(served(&keeper), first_cert(&theirs));

    let newer = made_pair(&dir, "newer", now);
    copy_pair(&newer, &paths);
    assert!(keeper.check_at(now).unwrap().swapped);
    assert_eq!(served(&keeper), first_cert(&newer));
}

#[test]
fn a_pair_replaced_over_makarads_own_is_served_as_the_operators() {
    let dir = TestDir::new("tls-live-replaced");
    let paths = CertPaths::in_data_dir(&dir.join("data"));
    let (keeper, _) = CertKeeper::in_data_dir(paths.clone(), host("box")).unwrap();
    let theirs = made_pair(&dir, "theirs", SystemTime::now());
    copy_pair(&theirs, &paths);
    let checked = keeper.check_at(SystemTime::now()).unwrap();
    assert_eq!(checked.status, Some(CertStatus::Operator));
    assert!(checked.swapped);
    assert_eq!(served(&keeper), first_cert(&theirs));
}

#[test]
fn a_half_copied_pair_leaves_the_served_one() {
    let dir = TestDir::new("tls-live-half");
    let now = SystemTime::now();
    let (given, other) = (made_pair(&dir, "given", now), made_pair(&dir, "other", now));
    let keeper = CertKeeper::operators(given.clone()).unwrap();
    let before = served(&keeper);

    fs::copy(&other.cert, &given.cert).unwrap();
    assert!(matches!(keeper.check_at(now), Err(TlsError::Config(_))));
    assert_eq!(served(&keeper), before);

    fs::copy(&other.key, &given.key).unwrap();
    assert_eq!(
        keeper.check_at(now).unwrap(),
        Checked {
            status: None,
            swapped: true
        }
    );
    assert_eq!(served(&keeper), first_cert(&other));
}

#[test]
fn an_operators_key_copied_first_over_makarads_pair_is_not_overwritten() {
    let dir = TestDir::new("tls-live-key-first");
    let paths = CertPaths::in_data_dir(&dir.join("data"));
    let (keeper, _) = CertKeeper::in_data_dir(paths.clone(), host("box")).unwrap();
    let ours = first_cert(&paths);
    let theirs = made_pair(&dir, "theirs", SystemTime::now());
    let their_key = fs::read(&theirs.key).unwrap();

    // Key first: makarad's certificate with their key does not load.
    fs::copy(&theirs.key, &paths.key).unwrap();
    assert!(keeper.check_at(SystemTime::now()).is_err());
    assert_eq!(fs::read(&paths.key).unwrap(), their_key);
    assert_eq!(first_cert(&paths), ours);
    assert_eq!(served(&keeper), ours);

    fs::copy(&theirs.cert, &paths.cert).unwrap();
    let checked = keeper.check_at(SystemTime::now()).unwrap();
    assert_eq!(checked.status, Some(CertStatus::Operator));
    assert!(checked.swapped);
    assert_eq!(served(&keeper), first_cert(&theirs));
}

#[test]
fn a_deleted_pair_is_made_anew_and_served() {
    let dir = TestDir::new("tls-live-deleted");
    let paths = CertPaths::in_data_dir(dir.path());
    let (keeper, _) = CertKeeper::in_data_dir(paths.clone(), host("box")).unwrap();
    let first = served(&keeper);
    fs::remove_file(&paths.cert).unwrap();
    fs::remove_file(&paths.key).unwrap();
    let checked = keeper.check_at(SystemTime::now()).unwrap();
    assert_eq!(
        checked.status,
        Some(CertStatus::Generated(Renewal::Missing))
    );
    assert!(checked.swapped);
    assert_ne!(served(&keeper), first);
}
