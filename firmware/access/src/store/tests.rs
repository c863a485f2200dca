use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;

use makara_test_support::TestDir;

use super::*;

#[test]
fn fresh_dir_is_disabled_with_no_keys() {
    let dir = TestDir::new("access-fresh");
    let store = AccessStore::open(dir.path());
    assert_eq!(store.load().expect("load"), AccessState::default());
    // Reading must not create anything.
    assert_eq!(fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn missing_data_dir_is_disabled_with_no_keys() {
    let dir = TestDir::new("access-missing");
    let store = AccessStore::open(&dir.path().join("data"));
    assert_eq!(store.load().expect("load"), AccessState::default());
}

#[test]
fn create_key_enables_the_api_and_lists_the_key() {
    let dir = TestDir::new("access-create");
    let store = AccessStore::open(&dir.path().join("data"));
    let creds = store.create_key().expect("create");
    let state = store.load().expect("load");
    assert!(state.enabled);
    assert_eq!(state.keys, vec![creds.clone()]);
    assert_eq!(
        state.secret_for(&creds.consumer_key),
        Some(creds.consumer_secret.as_str())
    );

    let second = store.create_key().expect("create");
    assert_ne!(second.consumer_key, creds.consumer_key);
    assert_eq!(store.load().expect("load").keys, vec![creds, second]);
}

#[test]
fn revoke_removes_only_that_key() {
    let dir = TestDir::new("access-revoke");
    let store = AccessStore::open(dir.path());
    let first = store.create_key().expect("create");
    let second = store.create_key().expect("create");

    assert!(store.revoke(&first.consumer_key).expect("revoke"));
    let state = store.load().expect("load");
    assert_eq!(state.keys, vec![second.clone()]);
    assert_eq!(state.secret_for(&first.consumer_key), None);
    assert!(state.enabled);

    assert!(!store.revoke(&first.consumer_key).expect("revoke again"));
    assert!(!store.revoke("no-such-key").expect("revoke unknown"));
    assert!(store.revoke(&second.consumer_key).expect("revoke"));
    let state = store.load().expect("load");
    assert!(state.keys.is_empty());
    assert!(
        state.enabled,
        "revoking the last key leaves the switch alone"
    );
}

#[test]
fn revoking_an_unknown_key_writes_nothing() {
    let dir = TestDir::new("access-revoke-noop");
    let store = AccessStore::open(dir.path());
    store.create_key().expect("create");
    let before = store.fingerprint();
    assert!(!store.revoke("nope").expect("revoke"));
    assert_eq!(store.fingerprint(), before);
}

#[test]
fn enable_and_disable_keep_the_keys() {
    let dir = TestDir::new("access-switch");
    let store = AccessStore::open(dir.path());
    store.set_enabled(true).expect("enable without keys");
    assert!(store.load().expect("load").enabled);

    let creds = store.create_key().expect("create");
    store.set_enabled(false).expect("disable");
    let state = store.load().expect("load");
    assert!(!state.enabled);
    assert_eq!(state.keys, vec![creds.clone()]);

    store.set_enabled(false).expect("disable again");
    assert!(!store.load().expect("load").enabled);

    store.set_enabled(true).expect("enable");
    let state = store.load().expect("load");
    assert!(state.enabled);
    assert_eq!(state.keys, vec![creds]);
}

#[test]
fn instances_see_each_others_writes() {
    let dir = TestDir::new("access-two-instances");
    let cli = AccessStore::open(dir.path());
    let server = AccessStore::open(dir.path());

    let creds = cli.create_key().expect("create");
    assert_eq!(server.load().expect("load").keys, vec![creds.clone()]);

    server.set_enabled(false).expect("disable");
    assert!(!cli.load().expect("load").enabled);

    let other = server.create_key().expect("create");
    assert!(cli.revoke(&creds.consumer_key).expect("revoke"));
    let state = server.load().expect("load");
    assert_eq!(state.keys, vec![other]);
    assert!(state.enabled);
}

#[test]
fn fingerprint_changes_when_another_instance_writes() {
    let dir = TestDir::new("access-fingerprint");
    let cli = AccessStore::open(dir.path());
    let server = AccessStore::open(dir.path());

    let mut last = server.fingerprint();
    let creds = cli.create_key().expect("create");
    let changes: [&dyn Fn(); 4] = [
        &|| cli.set_enabled(false).expect("disable"),
        &|| cli.set_enabled(true).expect("enable"),
        &|| {
            cli.create_key().expect("create");
        },
        &|| {
            cli.revoke(&creds.consumer_key).expect("revoke");
        },
    ];
    let now = server.fingerprint();
    assert_ne!(now, last, "after create_key");
    last = now;
    for (i, change) in changes.iter().enumerate() {
        change();
        let now = server.fingerprint();
        assert_ne!(now, last, "after change {i}");
        last = now;
    }
    // No write, no change.
    assert_eq!(server.fingerprint(), last);
}

#[test]
fn concurrent_creates_all_survive() {
    const THREADS: usize = 4;
    const TOTAL: usize = 50;
    let dir = TestDir::new("access-concurrent");
    let created: Vec<Credentials> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let path = dir.path();
                // 13 + 13 + 12 + 12 = 50.
                let count = TOTAL / THREADS + usize::from(t < TOTAL % THREADS);
                scope.spawn(move || {
                    // Each thread its own instance, as separate CLI
                    // processes would have.
                    let store = AccessStore::open(path);
                    (0..count)
                        .map(|_| store.create_key().expect("create"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    assert_eq!(created.len(), TOTAL);

    let state = AccessStore::open(dir.path()).load().expect("load");
    assert!(state.enabled);
    assert_eq!(state.keys.len(), TOTAL);
    let stored: HashSet<_> = state.keys.iter().map(|c| &c.consumer_key).collect();
    for creds in &created {
        assert!(stored.contains(&creds.consumer_key));
        assert_eq!(
            state.secret_for(&creds.consumer_key),
            Some(creds.consumer_secret.as_str())
        );
    }
}

#[test]
fn slot_files_are_private() {
    let dir = TestDir::new("access-mode");
    let store = AccessStore::open(dir.path());
    store.create_key().expect("create");
    let mode = fs::metadata(dir.path().join("access.a"))
        .expect("slot a")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn writer_waits_for_the_lock() {
    let dir = TestDir::new("access-lock");
    let store = AccessStore::open(dir.path());
    let held = DirLock::try_acquire(dir.path(), NAME).expect("lock");
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| store.create_key());
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!writer.is_finished(), "create_key ignored the lock");
        drop(held);
        writer.join().expect("thread").expect("create");
    });
    assert_eq!(store.load().expect("load").keys.len(), 1);
}

#[test]
fn a_corrupt_document_is_an_error_not_an_empty_state() {
    let dir = TestDir::new("access-corrupt");
    let store = AccessStore::open(dir.path());
    store.create_key().expect("create");
    fs::write(dir.path().join("access.a"), b"garbage").expect("corrupt");
    // The only copy is gone: refusing beats silently disabling the API.
    assert!(matches!(store.load(), Err(AccessError::Load(_))));
}
