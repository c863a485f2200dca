//! `/metrics` through the whole API stack, in memory: who may read it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use makara_access::users::{Role, UserStore, UserWatch};
use makara_access::AccessStore;
use makara_api::access::AccessWatch;
use makara_api::hmp::Hmp;
use makara_api::App;
use makara_supervisor::{Handle, NoMediaEngine};
use makara_test_support::TestDir;
use tower::ServiceExt;

struct Fixture {
    _dir: TestDir,
    app: Arc<App>,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let dir = TestDir::new(&format!("api-metrics-{name}"));
        let (supervisor, _thread) = Handle::start(dir.path(), Box::new(NoMediaEngine)).unwrap();
        let keys = AccessStore::open(dir.path());
        // The API is on once a key exists (as after `makarad api-key create`).
        keys.create_key().unwrap();
        let access = Arc::new(AccessWatch::open(keys).unwrap());
        let store = UserStore::open(dir.path());
        store
            .add("watcher", Role::Viewer, "a long password")
            .unwrap();
        let users = UserWatch::open(store).unwrap();
        let hmp = Hmp::new(Arc::new(users), makara_api::hmp::DEFAULT_IDLE);
        let app = Arc::new(App::new(supervisor, access, hmp, "0123456789ab".into()));
        Fixture { _dir: dir, app }
    }

    async fn send(&self, request: Request<Body>) -> (Response<Body>, String) {
        let response = makara_api::router(Arc::clone(&self.app))
            .oneshot(request)
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 8 << 20).await.unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        (Response::from_parts(parts, Body::empty()), text)
    }

    async fn metrics(&self, authorization: Option<&str>) -> (Response<Body>, String) {
        let mut request = Request::builder().method("GET").uri("/metrics");
        if let Some(a) = authorization {
            request = request.header("authorization", a);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{user}:{password}")))
}

fn header<'r>(response: &'r Response<Body>, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn without_credentials_the_answer_is_a_basic_challenge() {
    let f = Fixture::new("none");
    let (response, _) = f.metrics(None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = header(&response, "www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Basic realm=\"makarad metrics\""),
        "{challenge}"
    );
    // An OAuth header is not a credential here.
    let (response, _) = f.metrics(Some("OAuth oauth_consumer_key=\"k\"")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (response, _) = f.metrics(Some("Basic !!!not base64")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn any_users_basic_credentials_read_the_document() {
    let f = Fixture::new("basic");
    let (response, body) = f.metrics(Some(&basic("watcher", "a long password"))).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    assert_eq!(
        header(&response, "content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(body.contains("# TYPE makara_build_info gauge\n"), "{body}");
    assert!(body.contains("makara_uptime_seconds "), "{body}");
    let (response, _) = f.metrics(Some(&basic("watcher", "a wrong password"))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&response, "www-authenticate").is_some());
    let (response, _) = f.metrics(Some(&basic("nobody", "a long password"))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_lock_the_user_as_failed_logins_do() {
    let f = Fixture::new("lockout");
    for _ in 0..10 {
        let (response, _) = f.metrics(Some(&basic("watcher", "guess"))).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let (response, body) = f.metrics(Some(&basic("watcher", "a long password"))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "{body}");
    let retry: u64 = header(&response, "retry-after").unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry), "{retry}");
    // The same lock holds at the HMP login.
    let login = Request::builder()
        .method("POST")
        .uri("/apis/authentication/login")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"username":"watcher","password":"a long password"}"#,
        ))
        .unwrap();
    let (response, body) = f.send(login).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("030001"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_cookie_reads_the_document_and_a_stale_one_does_not() {
    let f = Fixture::new("cookie");
    let login = Request::builder()
        .method("POST")
        .uri("/apis/authentication/login")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"username":"watcher","password":"a long password"}"#,
        ))
        .unwrap();
    let (response, body) = f.send(login).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    let cookie = header(&response, "set-cookie").unwrap();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let with = |cookie: String| {
        Request::builder()
            .method("GET")
            .uri("/metrics")
            .header("cookie", cookie)
            .body(Body::empty())
            .unwrap()
    };
    let (response, body) = f.send(with(pair)).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    assert!(body.contains("makara_build_info{version="), "{body}");
    let stale = format!("calypso-session-id={}", "0".repeat(64));
    let (response, _) = f.send(with(stale)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_get_and_head() {
    let f = Fixture::new("method");
    let request = Request::builder()
        .method("POST")
        .uri("/metrics")
        .header("authorization", basic("watcher", "a long password"))
        .body(Body::empty())
        .unwrap();
    let (response, _) = f.send(request).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&response, "allow"), Some("GET, HEAD"));
}
