//! The whole API stack (auth, routing, supervisor, rendering) driven
//! in memory, without sockets: requests go straight into the axum router.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use makara_access::users::{UserStore, UserWatch};
use makara_access::AccessStore;
use makara_api::access::AccessWatch;
use makara_api::hmp::Hmp;
use makara_api::App;
use makara_supervisor::{Handle, NoMediaEngine};
use makara_test_support::oauth::Signer;
use makara_test_support::TestDir;
use tower::ServiceExt;

const HOST: &str = "appliance.test:8443";

struct Fixture {
    dir: TestDir,
    app: Arc<App>,
    key: String,
    secret: String,
    nonce: std::cell::Cell<u64>,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let dir = TestDir::new(&format!("api-router-{name}"));
        let store = AccessStore::open(dir.path());
        let creds = store.create_key().unwrap();
        let (supervisor, _thread) = Handle::start(dir.path(), Box::new(NoMediaEngine)).unwrap();
        let access = Arc::new(AccessWatch::open(store).unwrap());
        let users = UserWatch::open(UserStore::open(dir.path())).unwrap();
        let hmp = Hmp::new(Arc::new(users), makara_api::hmp::DEFAULT_IDLE);
        let app = Arc::new(App::new(supervisor, access, hmp, "0123456789ab".into()));
        Fixture {
            dir,
            app,
            key: creds.consumer_key,
            secret: creds.consumer_secret,
            nonce: std::cell::Cell::new(0),
        }
    }

    /// An OAuth 1.0 Authorization header for the request (no query, no
    /// form body), signed with `secret`.
    fn authorization(&self, method: &str, path: &str, secret: &str) -> String {
        self.nonce.set(self.nonce.get() + 1);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        Signer::new(self.key.as_str(), secret).authorization(
            method,
            &format!("https://{HOST}{path}"),
            &format!("n{}", self.nonce.get()),
            now.as_secs(),
        )
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: &str,
        secret: &str,
    ) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", HOST)
            .header("content-type", "application/xml")
            .header("authorization", self.authorization(method, path, secret))
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = makara_api::router(Arc::clone(&self.app))
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn call(&self, method: &str, path: &str, body: &str) -> (StatusCode, String) {
        let secret = self.secret.clone();
        self.send(method, path, body, &secret).await
    }
}

/// The id at the end of the first `href`.
fn linked_id(xml: &str) -> String {
    let href = xml.split("href=\"").nth(1).unwrap();
    let href = &href[..href.find('"').unwrap()];
    href.rsplit_once('-')
        .map(|_| href[href.len() - 36..].to_string())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn create_get_list_with_links_from_the_host() {
    let f = Fixture::new("crud");
    let (status, body) = f.call("GET", "/apis/kraken/inputs", "").await;
    assert_eq!(status, 404);
    assert!(body.contains("<code>1001</code>"), "{body}");

    let (status, body) = f
        .call(
            "POST",
            "/apis/kraken/inputs",
            "<input><name>Bars</name><streamType>TESTPATTERN</streamType></input>",
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(
        body.contains("href=\"https://appliance.test:8443/apis/kraken/inputs/input-"),
        "{body}"
    );
    let id = linked_id(&body);

    let (status, body) = f
        .call("GET", &format!("/apis/kraken/inputs/input-{id}"), "")
        .await;
    assert_eq!(status, 200);
    for expected in [
        "<name>Bars</name>",
        "<streamType>TESTPATTERN</streamType>",
        "<width>1280</width>",
        "<url></url>",
        "<state>unset</state>",
    ] {
        assert!(body.contains(expected), "{expected} missing in {body}");
    }
    let (_, list) = f.call("GET", "/apis/kraken/inputs", "").await;
    assert!(list.contains(&format!("<uuid>{id}</uuid>")), "{list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_secret_is_1014_and_disabled_api_is_1015() {
    let f = Fixture::new("auth");
    let (status, body) = f.send("GET", "/apis/kraken/system", "", "wrong").await;
    assert_eq!(status, 401);
    assert!(
        body.contains("<code>1014</code>") && body.contains("Not Authorized"),
        "{body}"
    );

    AccessStore::open(f.dir.path()).set_enabled(false).unwrap();
    f.app.access.refresh();
    let (status, body) = f.call("GET", "/apis/kraken/system", "").await;
    assert_eq!(status, 403);
    assert!(body.contains("<code>1015</code>"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn start_without_a_media_engine_is_503() {
    let f = Fixture::new("start");
    let (_, b) = f
        .call(
            "POST",
            "/apis/kraken/inputs",
            "<input><streamType>TESTPATTERN</streamType></input>",
        )
        .await;
    let input = linked_id(&b);
    let (_, b) = f
        .call(
            "POST",
            "/apis/kraken/transcoders",
            "<transcoder><name>T</name></transcoder>",
        )
        .await;
    let transcoder = linked_id(&b);
    let (_, b) = f
        .call(
            "POST",
            "/apis/kraken/outputs",
            "<output><url>udp://127.0.0.1:5000</url></output>",
        )
        .await;
    let output = linked_id(&b);
    let stream = format!(
        "<stream><name>S</name><input>{input}</input><transcoder>{transcoder}</transcoder><outputs><output>{output}</output></outputs></stream>"
    );
    let (status, b) = f.call("POST", "/apis/kraken/streams", &stream).await;
    assert_eq!(status, 201, "{b}");
    let id = linked_id(&b);
    let path = format!("/apis/kraken/streams/stream-{id}");
    let (status, b) = f
        .call("PUT", &path, "<stream><state>start</state></stream>")
        .await;
    assert_eq!(status, 503, "{b}");
    let message = "Service provider for this API is unavailable: \
                   this build has no media engine, so streams cannot run";
    assert!(
        b.contains("<code>1016</code>") && b.contains(&format!("<message>{message}</message>")),
        "{b}"
    );
    let (_, b) = f.call("GET", &path, "").await;
    assert!(
        b.contains("<state>stopped</state>") && b.contains("<lastError>"),
        "{b}"
    );

    let (status, b) = f
        .call(
            "DELETE",
            &format!("/apis/kraken/outputs/output-{output}"),
            "",
        )
        .await;
    assert_eq!(status, 400);
    assert!(b.contains("<code>1005</code>") && b.contains("'S'"), "{b}");
}
