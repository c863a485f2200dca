use makara_access::users::UserStore;
use makara_test_support::TestDir;

use super::*;

const IDLE: Duration = Duration::from_secs(60);

fn store(dir: &TestDir) -> UserStore {
    let store = UserStore::open(dir.path());
    store.add("ana", Role::Operator, "correct horse").unwrap();
    store.add("ben", Role::Viewer, "battery staple").unwrap();
    store
}

#[test]
fn a_session_lives_while_used_and_ends_after_the_idle_time() {
    let dir = TestDir::new("hmp-login");
    let store = store(&dir);
    let users = store.load().unwrap();
    let ana = users.get("ana").unwrap().clone();
    let sessions = LoginSessions::new(IDLE);
    let t = Instant::now();
    let login = sessions.open(&ana, t, 1_000);
    assert_eq!(login.token.len(), 64);
    assert_eq!(login.expires_unix_ms, 61_000);
    let later = t + IDLE - Duration::from_secs(1);
    let touched = sessions.touch(&login.token, &users, later, 2_000).unwrap();
    assert_eq!(
        touched.expires_unix_ms, 62_000,
        "each request restarts the idle time"
    );
    assert!(sessions
        .touch(&login.token, &users, later + IDLE, 3_000)
        .is_none());
    assert!(sessions.is_empty(), "an expired session is forgotten");
}

#[test]
fn tokens_are_unguessable_and_distinct() {
    let dir = TestDir::new("hmp-login");
    let users = store(&dir).load().unwrap();
    let ana = users.get("ana").unwrap().clone();
    let sessions = LoginSessions::new(IDLE);
    let a = sessions.open(&ana, Instant::now(), 0).token;
    let b = sessions.open(&ana, Instant::now(), 0).token;
    assert_ne!(a, b);
    assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(sessions
        .touch("0".repeat(64).as_str(), &users, Instant::now(), 0)
        .is_none());
}

#[test]
fn a_password_change_or_removal_ends_the_users_sessions_and_a_role_change_applies_at_once() {
    let dir = TestDir::new("hmp-login");
    let store = store(&dir);
    let users = store.load().unwrap();
    let sessions = LoginSessions::new(IDLE);
    let t = Instant::now();
    let ana = sessions.open(users.get("ana").unwrap(), t, 0);
    let ben = sessions.open(users.get("ben").unwrap(), t, 0);

    store.set_role("ben", Role::Administrator).unwrap();
    let users = store.load().unwrap();
    assert_eq!(
        sessions.touch(&ben.token, &users, t, 0).unwrap().role,
        Role::Administrator
    );

    store.set_password("ana", "a new long password").unwrap();
    let users = store.load().unwrap();
    assert!(sessions.touch(&ana.token, &users, t, 0).is_none());

    store.remove("ben").unwrap();
    store.add("ben", Role::Viewer, "battery staple").unwrap();
    let users = store.load().unwrap();
    assert!(
        sessions.touch(&ben.token, &users, t, 0).is_none(),
        "a user added again under the same name is someone else"
    );
}

#[test]
fn logout_ends_a_session_once() {
    let dir = TestDir::new("hmp-login");
    let users = store(&dir).load().unwrap();
    let sessions = LoginSessions::new(IDLE);
    let t = Instant::now();
    let login = sessions.open(users.get("ana").unwrap(), t, 0);
    assert!(sessions.close(&login.token, t));
    assert!(!sessions.close(&login.token, t));
    let expired = sessions.open(users.get("ana").unwrap(), t, 0);
    assert!(
        !sessions.close(&expired.token, t + IDLE),
        "an expired session is already over"
    );
}

#[test]
fn sessions_are_bounded_per_user_and_in_all() {
    let dir = TestDir::new("hmp-login");
    let users = store(&dir).load().unwrap();
    let ana = users.get("ana").unwrap();
    let ben = users.get("ben").unwrap();
    let sessions = LoginSessions::new(IDLE);
    let t = Instant::now();
    let first = sessions.open(ana, t, 0);
    for i in 1..=MAX_SESSIONS_PER_USER as u64 {
        sessions.open(ana, t + Duration::from_millis(i), 0);
    }
    assert_eq!(sessions.len(), MAX_SESSIONS_PER_USER);
    assert!(
        sessions.touch(&first.token, &users, t, 0).is_none(),
        "the user's least recently used session made room"
    );
    let keep = sessions.open(ben, t + Duration::from_secs(1), 0);
    for i in 0..MAX_SESSIONS as u64 {
        let user = if i % 2 == 0 { ana } else { ben };
        sessions.open(
            user,
            t + Duration::from_secs(2) + Duration::from_millis(i),
            0,
        );
    }
    assert!(sessions.len() <= MAX_SESSIONS);
    assert!(sessions.touch(&keep.token, &users, t, 0).is_none());
}
