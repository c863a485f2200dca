use super::*;

fn rtmp(url: &str) -> Result<RtmpUrl, Invalid> {
    RtmpUrl::parse("url", url)
}

fn rtsp(url: &str) -> Result<RtspUrl, Invalid> {
    RtspUrl::parse("url", url)
}

#[test]
fn an_rtmp_url_splits_into_app_and_stream_key() {
    let u = rtmp("rtmp://fms-01-02.example.com/pp1234/sn5678").unwrap();
    assert_eq!(
        (u.tls(), u.host(), u.port()),
        (false, "fms-01-02.example.com", 1935)
    );
    assert_eq!((u.app(), u.stream_key()), ("pp1234", "sn5678"));
    assert_eq!(u.tc_url(), "rtmp://fms-01-02.example.com:1935/pp1234");
    assert_eq!(u.as_str(), "rtmp://fms-01-02.example.com/pp1234/sn5678");
}

#[test]
fn an_app_with_an_instance_and_a_key_with_a_query_stay_whole() {
    let u = rtmp("rtmps://[::1]:8443/live/inst/key?token=abc").unwrap();
    assert_eq!((u.tls(), u.host(), u.port()), (true, "::1", 8443));
    assert_eq!((u.app(), u.stream_key()), ("live/inst", "key?token=abc"));
    assert_eq!(u.tc_url(), "rtmps://[::1]:8443/live/inst");
    assert_eq!(rtmp("rtmps://cdn.example.com/a/b").unwrap().port(), 443);
}

#[test]
fn a_redacted_rtmp_url_hides_the_stream_key() {
    let u = rtmp("rtmp://127.0.0.1/live/secret").unwrap();
    assert!(!u.redacted().contains("secret"), "{}", u.redacted());
}

#[test]
fn malformed_rtmp_urls_are_refused_with_the_reason() {
    for (url, why) in [
        ("udp://1.2.3.4:5000/a/b", "is not an RTMP URL"),
        ("rtmp://host", "has no path"),
        ("rtmp://host/keyonly", "needs both an app and a stream key"),
        ("rtmp://host/app/", "needs both an app and a stream key"),
        ("rtmp://host//key", "needs both an app and a stream key"),
        ("rtmp://host/a//key", "empty or malformed app"),
        ("rtmp://user:pw@host/app/key", "carries credentials"),
        ("rtmp://host:0/app/key", "bad host or port"),
        ("rtmp://host:99999/app/key", "bad host or port"),
        ("rtmp://ho st/app/key", "bad host or port"),
        ("rtmp://host/app/k ey", "spaces or control characters"),
    ] {
        let e = rtmp(url).unwrap_err();
        assert_eq!(e.field(), "url");
        assert!(e.to_string().contains(why), "{url}: {e}");
    }
}

#[test]
fn an_rtsp_url_names_the_address_port_and_path_served() {
    let u = rtsp("rtsp://0.0.0.0:8554/cam1").unwrap();
    assert_eq!(
        (u.bind().to_string(), u.port(), u.path()),
        ("0.0.0.0".into(), 8554, "cam1")
    );
    let u = rtsp("rtsp://[::]/live/main/").unwrap();
    assert_eq!(
        (u.bind().to_string(), u.port(), u.path()),
        ("::".into(), 554, "live/main")
    );
}

#[test]
fn malformed_rtsp_urls_are_refused_with_the_reason() {
    for (url, why) in [
        ("rtmp://0.0.0.0:1/a", "is not an RTSP URL"),
        ("rtsp://0.0.0.0:8554", "has no name"),
        ("rtsp://0.0.0.0:8554/", "needs a name"),
        ("rtsp://box.local:8554/a", "not a host name"),
        ("rtsp://0.0.0.0:8554/a b", "needs a name"),
        ("rtsp://0.0.0.0:8554/a//b", "needs a name"),
        ("rtsp://0.0.0.0:8554/a?x=1", "needs a name"),
    ] {
        let e = rtsp(url).unwrap_err();
        assert!(e.to_string().contains(why), "{url}: {e}");
    }
    let long = format!("rtsp://0.0.0.0:8554/{}", "a".repeat(RTSP_PATH_MAX + 1));
    assert!(rtsp(&long).is_err());
}

#[test]
fn retry_policy_defaults_and_ranges() {
    assert_eq!(
        RetryPolicy::validate(None, None).unwrap(),
        RetryPolicy {
            limit: 0,
            delay_max_s: 30
        }
    );
    assert_eq!(
        RetryPolicy::validate(Some(1001), None)
            .unwrap_err()
            .to_string(),
        "retryLimit 1001 is out of range (0-1000)"
    );
    assert_eq!(
        RetryPolicy::validate(None, Some(0))
            .unwrap_err()
            .to_string(),
        "retryDelayMax 0 is out of range (1-300)"
    );
}

#[test]
fn urls_come_back_from_disk_as_written() {
    let u = rtmp("rtmp://127.0.0.1:19350/live/k").unwrap();
    let text: String = u.clone().into();
    assert_eq!(RtmpUrl::try_from(text).unwrap(), u);
    let u = rtsp("rtsp://127.0.0.1:8554/a").unwrap();
    let text: String = u.clone().into();
    assert_eq!(RtspUrl::try_from(text).unwrap(), u);
}
