use makara_test_support::TestDir;

use super::*;

fn paths(dir: &TestDir) -> CertPaths {
    CertPaths::in_data_dir(dir.path())
}

fn days(n: u64) -> Duration {
    Duration::from_secs(n * DAY)
}

fn pair(paths: &CertPaths) -> (Vec<u8>, Vec<u8>) {
    (
        fs::read(&paths.cert).unwrap(),
        fs::read(&paths.key).unwrap(),
    )
}

/// A certificate of someone else's, valid for `valid` from now.
fn operator_pair(paths: &CertPaths, valid: Duration) {
    let mut params = CertificateParams::new(vec!["encoder.example.com".to_string()]).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "encoder.example.com");
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + since_epoch(SystemTime::now()) - days(1);
    params.not_after = epoch + since_epoch(SystemTime::now()) + valid;
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    fs::create_dir_all(paths.cert.parent().unwrap()).unwrap();
    fs::write(&paths.cert, cert.pem()).unwrap();
    fs::write(&paths.key, key.serialize_pem()).unwrap();
}

#[test]
fn made_once_for_the_host_and_kept_while_good() {
    let dir = TestDir::new("tls-made");
    let paths = paths(&dir);
    let status = ensure_self_signed(&paths, "encoder-7").unwrap();
    assert_eq!(status, CertStatus::Generated(Renewal::Missing));
    let made = pair(&paths);
    assert_eq!(
        ensure_self_signed(&paths, "encoder-7").unwrap(),
        CertStatus::Current
    );
    assert_eq!(pair(&paths), made);
    assert!(server_config(&paths).is_ok());
    let mode = fs::metadata(&paths.key).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
}

#[test]
fn renewed_within_thirty_days_of_its_end() {
    let dir = TestDir::new("tls-expiry");
    let paths = paths(&dir);
    let now = SystemTime::now();
    ensure_self_signed_at(&paths, "box", now).unwrap();
    let made = pair(&paths);
    // 825 days of validity: still good 31 days before the end.
    assert_eq!(
        ensure_self_signed_at(&paths, "box", now + days(825 - 31)).unwrap(),
        CertStatus::Current
    );
    assert_eq!(pair(&paths), made);
    let later = now + days(825 - 29);
    assert_eq!(
        ensure_self_signed_at(&paths, "box", later).unwrap(),
        CertStatus::Generated(Renewal::Expiring)
    );
    let renewed = pair(&paths);
    assert_ne!(renewed.0, made.0);
    assert_ne!(renewed.1, made.1, "a new key too");
    assert_eq!(
        ensure_self_signed_at(&paths, "box", later).unwrap(),
        CertStatus::Current
    );
}

#[test]
fn renewed_when_the_host_name_changes() {
    let dir = TestDir::new("tls-rename");
    let paths = paths(&dir);
    ensure_self_signed(&paths, "studio-a").unwrap();
    assert_eq!(
        ensure_self_signed(&paths, "Studio-B").unwrap(),
        CertStatus::Generated(Renewal::Renamed("studio-b".into()))
    );
    assert_eq!(
        ensure_self_signed(&paths, "studio-b").unwrap(),
        CertStatus::Current
    );
}

#[test]
fn a_host_name_that_is_no_dns_name_gets_localhost_only() {
    let dir = TestDir::new("tls-odd-name");
    let paths = paths(&dir);
    assert_eq!(host_name("not a name"), None);
    assert_eq!(host_name("localhost"), None);
    assert_eq!(host_name(" Box-1\n").as_deref(), Some("box-1"));
    ensure_self_signed(&paths, "not a name").unwrap();
    assert_eq!(
        ensure_self_signed(&paths, "not a name").unwrap(),
        CertStatus::Current
    );
}

#[test]
fn the_operators_certificate_is_never_replaced() {
    let dir = TestDir::new("tls-operator");
    let paths = paths(&dir);
    // Expiring in a day and for another name: makarad's own would go.
    operator_pair(&paths, days(1));
    let theirs = pair(&paths);
    assert_eq!(
        ensure_self_signed(&paths, "box").unwrap(),
        CertStatus::Operator
    );
    assert_eq!(pair(&paths), theirs);
    assert!(!marker(&paths).exists());
}

#[test]
fn an_operators_certificate_over_a_made_one_is_theirs() {
    let dir = TestDir::new("tls-operator-over");
    let paths = paths(&dir);
    ensure_self_signed(&paths, "box").unwrap();
    operator_pair(&paths, days(1));
    let theirs = pair(&paths);
    assert_eq!(
        ensure_self_signed(&paths, "box").unwrap(),
        CertStatus::Operator
    );
    assert_eq!(pair(&paths), theirs);
}

#[test]
fn an_unreadable_certificate_without_the_marker_is_left_alone() {
    let dir = TestDir::new("tls-garbage");
    let paths = paths(&dir);
    fs::create_dir_all(paths.cert.parent().unwrap()).unwrap();
    fs::write(&paths.cert, "not a certificate").unwrap();
    assert_eq!(
        ensure_self_signed(&paths, "box").unwrap(),
        CertStatus::Operator
    );
    assert_eq!(fs::read(&paths.cert).unwrap(), b"not a certificate");
}

#[test]
fn an_earlier_makarads_certificate_is_replaced() {
    let dir = TestDir::new("tls-legacy");
    let paths = paths(&dir);
    let old = rcgen::generate_simple_self_signed(vec!["localhost".into(), "box".into()]).unwrap();
    fs::create_dir_all(paths.cert.parent().unwrap()).unwrap();
    fs::write(&paths.cert, old.cert.pem()).unwrap();
    fs::write(&paths.key, old.key_pair.serialize_pem()).unwrap();
    assert_eq!(
        ensure_self_signed(&paths, "box").unwrap(),
        CertStatus::Generated(Renewal::Legacy)
    );
    assert_eq!(
        ensure_self_signed(&paths, "box").unwrap(),
        CertStatus::Current
    );
}

#[test]
fn a_renewal_cut_short_is_finished_at_the_next_start() {
    let dir = TestDir::new("tls-crash");
    let paths = paths(&dir);
    let now = SystemTime::now();
    ensure_self_signed_at(&paths, "box", now).unwrap();
    let (old_cert, old_key) = pair(&paths);
    let later = now + days(825 - 29);
    ensure_self_signed_at(&paths, "box", later).unwrap();
    let (_, new_key) = pair(&paths);

    // Stopped after the marker: the old pair is still makarad's.
    fs::write(&paths.cert, &old_cert).unwrap();
    fs::write(&paths.key, &old_key).unwrap();
    assert_eq!(
        ensure_self_signed_at(&paths, "box", now).unwrap(),
        CertStatus::Current
    );
    // Stopped after the key: the old certificate with the new key.
    fs::write(&paths.key, &new_key).unwrap();
    let status = ensure_self_signed_at(&paths, "box", now).unwrap();
    assert!(
        matches!(status, CertStatus::Generated(Renewal::Unusable(_))),
        "{status:?}"
    );
    assert!(server_config(&paths).is_ok());
    assert_eq!(
        ensure_self_signed_at(&paths, "box", now).unwrap(),
        CertStatus::Current
    );
}
