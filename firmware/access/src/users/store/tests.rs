use std::fs;
use std::os::unix::fs::PermissionsExt;

use makara_test_support::TestDir;

use super::*;
use crate::users::password::{checks_here, DUMMY_HASH};
use crate::users::{PasswordError, SetDeviceLoginError, UserWatch, UsernameError};
use crate::AccessStore;

const PASSWORD: &str = "Tr0ub4dor&3-unique";

fn slot_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for slot in ["users.a", "users.b"] {
        if let Ok(bytes) = fs::read(dir.join(slot)) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_fresh_data_dir_has_no_users_and_reading_creates_nothing() {
    let dir = TestDir::new("users-fresh");
    let store = UserStore::open(dir.path());
    assert!(store.load().expect("load").is_empty());
    assert_eq!(store.load().expect("load").generation(), 0);
    assert!(store.list().expect("list").is_empty());
    assert_eq!(fs::read_dir(dir.path()).expect("dir").count(), 0);
    let missing = UserStore::open(&dir.path().join("data"));
    assert!(missing.list().expect("list").is_empty());
}

#[test]
fn add_then_list_gives_name_role_and_time() {
    let dir = TestDir::new("users-add");
    let store = UserStore::open(&dir.path().join("data"));
    let alice = store.add("alice", Role::Operator, PASSWORD).expect("add");
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.role, Role::Operator);
    assert_eq!(alice.password_version, 1);
    assert!(alice.created_unix > 1_600_000_000);
    assert_eq!(alice.id.len(), 36, "{}", alice.id);
    assert_eq!(alice.id.as_bytes()[14], b'4', "a v4 UUID: {}", alice.id);

    let bob = store.add("bob", Role::Viewer, PASSWORD).expect("add");
    assert_ne!(bob.id, alice.id);
    assert_eq!(store.list().expect("list"), vec![alice.clone(), bob]);
    assert_eq!(store.load().expect("load").get("alice"), Some(&alice));
    assert_eq!(store.load().expect("load").generation(), 2);
}

#[test]
fn the_file_never_holds_a_password_only_argon2id_hashes() {
    let dir = TestDir::new("users-no-clear-text");
    let store = UserStore::open(dir.path());
    store
        .add("alice", Role::Administrator, PASSWORD)
        .expect("add");
    let bytes = slot_bytes(dir.path());
    assert!(!contains(&bytes, PASSWORD));
    assert!(contains(&bytes, "$argon2id$v=19$m=19456,t=2,p=1$"));

    let second = "another-secret-99";
    store.set_password("alice", second).expect("passwd");
    store.set_role("alice", Role::Viewer).expect("role");
    let bytes = slot_bytes(dir.path());
    assert!(!contains(&bytes, PASSWORD) && !contains(&bytes, second));

    // Nor do the answers' Debug forms.
    let shown = format!("{:?}", store.load().expect("load"));
    assert!(
        !shown.contains("argon2") && !shown.contains(second),
        "{shown}"
    );
}

#[test]
fn add_refuses_a_taken_name_even_in_another_case() {
    let dir = TestDir::new("users-duplicate");
    let store = UserStore::open(dir.path());
    store.add("alice", Role::Viewer, PASSWORD).expect("add");
    let before = store.fingerprint();
    for name in ["alice", "Alice", "ALICE"] {
        let err = store
            .add(name, Role::Administrator, "other-password")
            .expect_err(name);
        assert!(
            matches!(&err, AddUserError::Exists { existing } if existing == "alice"),
            "{err:?}"
        );
        assert!(err.to_string().contains("'alice' already exists"), "{err}");
    }
    assert_eq!(store.fingerprint(), before, "a refusal writes nothing");
    let users = store.list().expect("list");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].role, Role::Viewer);
}

#[test]
fn add_refuses_names_and_passwords_against_the_rules() {
    let dir = TestDir::new("users-rules");
    let store = UserStore::open(dir.path());
    let long_name = "n".repeat(65);
    let long_password = "p".repeat(129);
    assert!(matches!(
        store.add("", Role::Viewer, PASSWORD),
        Err(AddUserError::Username(UsernameError::Length(0)))
    ));
    assert!(matches!(
        store.add(&long_name, Role::Viewer, PASSWORD),
        Err(AddUserError::Username(UsernameError::Length(65)))
    ));
    assert!(matches!(
        store.add("a b", Role::Viewer, PASSWORD),
        Err(AddUserError::Username(UsernameError::Character(' ')))
    ));
    assert!(matches!(
        store.add("alice", Role::Viewer, "short"),
        Err(AddUserError::Password(PasswordError::Length(5)))
    ));
    assert!(matches!(
        store.add("alice", Role::Viewer, &long_password),
        Err(AddUserError::Password(PasswordError::Length(129)))
    ));
    assert_eq!(fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn at_most_max_users() {
    let dir = TestDir::new("users-full");
    let store = UserStore::open(dir.path());
    // MAX_USERS written at once (hashing each would only cost time).
    let entries: Vec<Entry> = (0..MAX_USERS)
        .map(|i| Entry {
            user: User {
                id: format!("id-{i}"),
                username: format!("user{i}"),
                role: Role::Viewer,
                created_unix: 1,
                password_version: 1,
                device_login: false,
            },
            hash: DUMMY_HASH.into(),
            device_secret: None,
        })
        .collect();
    Slots::new(dir.path(), NAME)
        .save(&file::encode(&entries).expect("encode"))
        .expect("save");
    assert_eq!(store.list().expect("list").len(), MAX_USERS);

    let err = store
        .add("one-more", Role::Viewer, PASSWORD)
        .expect_err("full");
    assert!(matches!(err, AddUserError::Full), "{err:?}");
    assert!(err.to_string().contains("64 users"), "{err}");

    store.remove("user0").expect("remove");
    store
        .add("one-more", Role::Viewer, PASSWORD)
        .expect("room again");
    assert_eq!(store.list().expect("list").len(), MAX_USERS);
}

#[test]
fn verify_gives_the_user_for_the_right_password() {
    let dir = TestDir::new("users-verify");
    let store = UserStore::open(dir.path());
    let alice = store.add("alice", Role::Operator, PASSWORD).expect("add");
    assert_eq!(store.verify("alice", PASSWORD).expect("verify"), alice);
}

#[test]
fn a_wrong_password_and_an_unknown_user_are_refused_alike_and_both_cost_a_check() {
    let dir = TestDir::new("users-refusals");
    let store = UserStore::open(dir.path());
    store.add("alice", Role::Operator, PASSWORD).expect("add");
    let users = store.load().expect("load");
    let attempts = [
        ("alice", "wrong-password"),
        ("alice", ""),
        ("alice", &PASSWORD[..PASSWORD.len() - 1]),
        ("Alice", PASSWORD),
        ("nobody", PASSWORD),
        ("nobody", "wrong-password"),
        ("", ""),
        ("a b\n", PASSWORD),
    ];
    for (name, password) in attempts {
        let before = checks_here::so_far();
        let err = users.verify(name, password).expect_err(name);
        assert_eq!(
            checks_here::so_far(),
            before + 1,
            "{name}/{password}: one check"
        );
        assert!(matches!(err, VerifyError::InvalidCredentials), "{err:?}");
        assert_eq!(err.to_string(), "invalid username or password");
    }
}

#[test]
fn an_overlong_password_is_refused_without_a_check() {
    let dir = TestDir::new("users-overlong");
    let store = UserStore::open(dir.path());
    store.add("alice", Role::Operator, PASSWORD).expect("add");
    let users = store.load().expect("load");
    let huge = "x".repeat(1 << 20);
    let before = checks_here::so_far();
    for name in ["alice", "nobody"] {
        assert!(matches!(
            users.verify(name, &huge),
            Err(VerifyError::InvalidCredentials)
        ));
    }
    assert_eq!(checks_here::so_far(), before);
}

#[test]
fn set_password_replaces_the_old_one_and_counts_up_the_version() {
    let dir = TestDir::new("users-passwd");
    let store = UserStore::open(dir.path());
    let alice = store.add("alice", Role::Operator, PASSWORD).expect("add");
    let changed = store
        .set_password("alice", "new-password-1")
        .expect("passwd");
    assert_eq!(changed.password_version, 2);
    assert_eq!(
        (&changed.id, changed.created_unix),
        (&alice.id, alice.created_unix)
    );
    assert!(matches!(
        store.verify("alice", PASSWORD),
        Err(VerifyError::InvalidCredentials)
    ));
    assert_eq!(
        store.verify("alice", "new-password-1").expect("verify"),
        changed
    );

    assert!(matches!(
        store.set_password("nobody", "new-password-1"),
        Err(SetPasswordError::NoSuchUser(n)) if n == "nobody"
    ));
    assert!(matches!(
        store.set_password("alice", "short"),
        Err(SetPasswordError::Password(PasswordError::Length(5)))
    ));
    assert_eq!(
        store.verify("alice", "new-password-1").expect("unchanged"),
        changed
    );
}

#[test]
fn set_role_changes_only_the_role_and_a_same_role_writes_nothing() {
    let dir = TestDir::new("users-role");
    let store = UserStore::open(dir.path());
    let alice = store.add("alice", Role::Viewer, PASSWORD).expect("add");
    let promoted = store.set_role("alice", Role::Administrator).expect("role");
    assert_eq!(
        promoted,
        User {
            role: Role::Administrator,
            ..alice
        }
    );
    assert_eq!(store.verify("alice", PASSWORD).expect("verify"), promoted);

    let before = store.fingerprint();
    store.set_role("alice", Role::Administrator).expect("again");
    assert_eq!(store.fingerprint(), before);

    let err = store
        .set_role("ALICE", Role::Viewer)
        .expect_err("exact names");
    assert!(matches!(err, SetRoleError::NoSuchUser(_)), "{err:?}");
    assert_eq!(err.to_string(), "no user 'ALICE'");
}

#[test]
fn remove_forgets_the_user_and_a_new_one_of_that_name_is_another() {
    let dir = TestDir::new("users-remove");
    let store = UserStore::open(dir.path());
    let alice = store.add("alice", Role::Operator, PASSWORD).expect("add");
    let bob = store.add("bob", Role::Viewer, PASSWORD).expect("add");
    assert_eq!(store.remove("alice").expect("remove"), alice);
    assert_eq!(store.list().expect("list"), vec![bob]);
    assert!(matches!(
        store.verify("alice", PASSWORD),
        Err(VerifyError::InvalidCredentials)
    ));
    assert!(matches!(
        store.remove("alice"),
        Err(RemoveUserError::NoSuchUser(n)) if n == "alice"
    ));
    let again = store
        .add("alice", Role::Operator, PASSWORD)
        .expect("add again");
    assert_ne!(again.id, alice.id);
}

#[test]
fn a_watch_sees_another_instances_changes() {
    let dir = TestDir::new("users-watch");
    let cli = UserStore::open(dir.path());
    let watch = UserWatch::open(UserStore::open(dir.path())).expect("open");
    assert!(watch.current().is_empty());
    assert!(!watch.refresh().expect("refresh"), "nothing changed yet");

    let alice = cli.add("alice", Role::Operator, PASSWORD).expect("add");
    assert!(watch.refresh().expect("refresh"));
    assert_eq!(watch.current().get("alice"), Some(&alice));
    assert_eq!(watch.verify("alice", PASSWORD).expect("verify"), alice);
    assert!(!watch.refresh().expect("refresh"));

    let before = watch.current().generation();
    cli.set_role("alice", Role::Viewer).expect("role");
    assert!(watch.refresh().expect("refresh"));
    assert_eq!(watch.current().generation(), before + 1);
    assert_eq!(
        watch.current().get("alice").map(|u| u.role),
        Some(Role::Viewer)
    );

    cli.remove("alice").expect("remove");
    assert!(watch.refresh().expect("refresh"));
    assert!(matches!(
        watch.verify("alice", PASSWORD),
        Err(VerifyError::InvalidCredentials)
    ));
}

#[test]
fn a_watch_keeps_the_last_users_when_the_file_goes_bad() {
    let dir = TestDir::new("users-watch-corrupt");
    let cli = UserStore::open(dir.path());
    let alice = cli.add("alice", Role::Operator, PASSWORD).expect("add");
    let watch = UserWatch::open(UserStore::open(dir.path())).expect("open");
    fs::write(dir.path().join("users.a"), b"garbage").expect("corrupt");
    assert!(matches!(watch.refresh(), Err(UserStoreError::Load(_))));
    assert_eq!(watch.current().get("alice"), Some(&alice));
    assert!(matches!(cli.list(), Err(UserStoreError::Load(_))));
}

#[test]
fn users_and_api_keys_are_apart() {
    let dir = TestDir::new("users-apart");
    let users = UserStore::open(dir.path());
    let keys = AccessStore::open(dir.path());
    users.add("alice", Role::Operator, PASSWORD).expect("add");
    let fingerprint = users.fingerprint();
    keys.create_key().expect("key");
    keys.set_enabled(false).expect("disable");
    assert_eq!(users.fingerprint(), fingerprint);
    assert_eq!(users.list().expect("list").len(), 1);
    users.remove("alice").expect("remove");
    assert_eq!(keys.load().expect("keys").keys.len(), 1);
}

#[test]
fn concurrent_adds_all_survive() {
    const THREADS: usize = 4;
    const EACH: usize = 3;
    let dir = TestDir::new("users-concurrent");
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let path = dir.path();
            scope.spawn(move || {
                // Each thread its own instance, as separate CLI processes.
                let store = UserStore::open(path);
                for i in 0..EACH {
                    store
                        .add(&format!("user{t}-{i}"), Role::Viewer, PASSWORD)
                        .expect("add");
                }
            });
        }
    });
    let users = UserStore::open(dir.path()).list().expect("list");
    assert_eq!(users.len(), THREADS * EACH);
}

#[test]
fn slot_files_are_private() {
    let dir = TestDir::new("users-mode");
    UserStore::open(dir.path())
        .add("alice", Role::Operator, PASSWORD)
        .expect("add");
    let mode = fs::metadata(dir.path().join("users.a"))
        .expect("slot a")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn writers_wait_for_the_lock() {
    let dir = TestDir::new("users-lock");
    let store = UserStore::open(dir.path());
    let held = DirLock::try_acquire(dir.path(), NAME).expect("lock");
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| store.add("alice", Role::Viewer, PASSWORD));
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(!writer.is_finished(), "add ignored the lock");
        drop(held);
        writer.join().expect("thread").expect("add");
    });
    assert_eq!(store.list().expect("list").len(), 1);
}

#[test]
fn a_device_login_keeps_the_password_sealed_and_opens_it() {
    let dir = TestDir::new("users-device");
    let store = UserStore::open(dir.path());
    let alice = store
        .add_with_device_login("alice", Role::Viewer, PASSWORD, true)
        .expect("add");
    assert!(alice.device_login);
    store.add("bob", Role::Viewer, PASSWORD).expect("add");
    let key_path = dir.path().join(crate::users::DEVICE_KEY_FILE);
    let mode = fs::metadata(&key_path).expect("key").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        !contains(&slot_bytes(dir.path()), PASSWORD),
        "sealed on disk"
    );

    let users = store.load().expect("load");
    let password = users.device_password("alice").expect("key").expect("on");
    assert_eq!(password.as_str(), PASSWORD);
    assert!(users
        .device_password("bob")
        .expect("no key needed")
        .is_none());
    assert!(users.device_password("nobody").expect("none").is_none());
    let found = users
        .verify_digest("alice", |p| p == PASSWORD)
        .expect("digest");
    assert_eq!(found.username, "alice");
    for (name, check) in [("alice", false), ("bob", true), ("nobody", true)] {
        let mut seen = None;
        let err = users
            .verify_digest(name, |p| {
                seen = Some(p.to_owned());
                check
            })
            .expect_err(name);
        assert!(
            matches!(err, VerifyError::InvalidCredentials),
            "{name}: {err}"
        );
        assert!(seen.is_some(), "{name}: the check runs for every refusal");
    }
    // HMP logins still check the hash.
    store.verify("alice", PASSWORD).expect("hash login");
}

#[test]
fn a_new_password_is_sealed_again_and_a_lost_key_is_a_clear_fault() {
    let dir = TestDir::new("users-device-passwd");
    let store = UserStore::open(dir.path());
    store
        .add_with_device_login("alice", Role::Viewer, PASSWORD, true)
        .expect("add");
    let key_path = dir.path().join(crate::users::DEVICE_KEY_FILE);
    let key = fs::read(&key_path).expect("key");
    store
        .set_password("alice", "a-new-password")
        .expect("passwd");
    assert_eq!(fs::read(&key_path).expect("key"), key, "the key stays");
    let users = store.load().expect("load");
    assert!(users
        .verify_digest("alice", |p| p == "a-new-password")
        .is_ok());

    fs::remove_file(&key_path).expect("lose the key");
    let users = store.load().expect("a lost key does not fail the load");
    let err = users.verify_digest("alice", |_| true).expect_err("no key");
    assert!(err.to_string().contains("device.key"), "{err}");
    assert!(matches!(err, VerifyError::DeviceKey(_)));
    store.verify("alice", "a-new-password").expect("hash login");
    // Setting the password again makes a new key.
    store
        .set_password("alice", "a-third-password")
        .expect("passwd");
    let users = store.load().expect("load");
    assert!(users
        .verify_digest("alice", |p| p == "a-third-password")
        .is_ok());

    fs::write(&key_path, [9u8; 32]).expect("another key");
    let err = store
        .load()
        .expect("load")
        .verify_digest("alice", |_| true)
        .expect_err("wrong key");
    assert!(err.to_string().contains("does not open"), "{err}");
}

#[test]
fn a_device_login_is_turned_on_with_the_right_password_and_off_without() {
    let dir = TestDir::new("users-device-switch");
    let store = UserStore::open(dir.path());
    let before = store.add("alice", Role::Operator, PASSWORD).expect("add");
    assert!(!before.device_login);
    assert!(!dir.path().join(crate::users::DEVICE_KEY_FILE).exists());
    let err = store
        .set_device_login("alice", Some("not-her-password"))
        .expect_err("wrong");
    assert!(
        matches!(err, SetDeviceLoginError::WrongPassword(_)),
        "{err}"
    );
    let on = store.set_device_login("alice", Some(PASSWORD)).expect("on");
    assert!(on.device_login);
    assert_eq!(on.password_version, before.password_version);
    assert!(store.list().expect("list")[0].device_login);
    assert!(store
        .load()
        .expect("load")
        .verify_digest("alice", |p| p == PASSWORD)
        .is_ok());
    let off = store.set_device_login("alice", None).expect("off");
    assert!(!off.device_login);
    assert!(!store.list().expect("list")[0].device_login);
    assert!(store
        .load()
        .expect("load")
        .device_password("alice")
        .expect("ok")
        .is_none());
    assert!(matches!(
        store.set_device_login("nobody", None),
        Err(SetDeviceLoginError::NoSuchUser(_))
    ));
}
