use super::*;

const SERVER: &str = "bc305be293d3";
const ID: &str = "f7615c6b-830d-4e73-a132-b315b2c29051";

fn req<'a>(method: &'a str, path: &'a str, body: &'a str) -> ApiRequest<'a> {
    ApiRequest {
        method,
        path,
        query: None,
        body: body.as_bytes(),
    }
}

fn routed(method: &str, path: &str, body: &str) -> Result<(Command, Render), ApiError> {
    route(&req(method, path, body), SERVER)
}

fn code(method: &str, path: &str, body: &str) -> Code {
    routed(method, path, body).unwrap_err().code
}

#[test]
fn collections_and_items() {
    let (c, r) = routed("GET", "/apis/kraken/inputs", "").unwrap();
    assert!(matches!(c, Command::List(Kind::Input)));
    assert_eq!(r, Render::List);
    let (c, r) = routed("GET", &format!("/apis/kraken/streams/stream-{ID}"), "").unwrap();
    assert!(matches!(c, Command::Get(Kind::Stream, id) if id.as_str() == ID));
    assert_eq!(r, Render::One);
    let (c, r) = routed("DELETE", &format!("/apis/kraken/outputs/output-{ID}/"), "").unwrap();
    assert!(matches!(c, Command::Delete(Kind::Output, _)));
    assert_eq!(r, Render::Deleted(Kind::Output));
}

#[test]
fn configuration_paths_take_both_spellings() {
    for prefix in ["configuration-", "config-"] {
        let path = format!("/apis/kraken/configurations/{prefix}{ID}");
        let (c, _) = routed("DELETE", &path, "").unwrap();
        assert!(matches!(c, Command::Delete(Kind::Preset, _)), "{prefix}");
    }
}

#[test]
fn dashless_ids_from_the_contract_examples() {
    let (c, _) = routed("GET", &format!("/apis/kraken/outputs/output{ID}"), "").unwrap();
    assert!(matches!(c, Command::Get(Kind::Output, _)));
    assert!(routed(
        "GET",
        &format!("/apis/servers/server{SERVER}/nics/niceth0"),
        ""
    )
    .is_ok());
}

#[test]
fn structure_errors() {
    assert_eq!(
        code("PATCH", "/apis/kraken/inputs", ""),
        Code::UnknownMethod
    );
    assert_eq!(
        code("GET", "/apis/kraken/metadatas", ""),
        Code::UnknownFunction
    );
    assert_eq!(code("GET", "/other", ""), Code::UnknownFunction);
    assert_eq!(code("GET", "/apis/kraken/inputs/garbage", ""), Code::BadUri);
    assert_eq!(
        code("GET", &format!("/apis/kraken/inputs/input-{ID}/x"), ""),
        Code::BadUri
    );
    assert_eq!(code("GET", "/apis/kraken/system/x", ""), Code::BadUri);
    assert_eq!(
        code("POST", "/apis/kraken/system", ""),
        Code::MethodNotImplemented
    );
    assert_eq!(
        code("DELETE", "/apis/kraken/inputs", ""),
        Code::MethodNotImplemented
    );
    assert_eq!(
        code("POST", &format!("/apis/kraken/inputs/input-{ID}"), ""),
        Code::MethodNotImplemented
    );
    assert_eq!(
        code("GET", "/apis/servers/server-000000000000", ""),
        Code::UnknownId
    );
}

#[test]
fn only_oauth_parameters_in_the_query() {
    let r = ApiRequest {
        query: Some("oauth_nonce=1&foo=2&bar"),
        ..req("GET", "/apis/kraken/inputs", "")
    };
    let e = route(&r, SERVER).unwrap_err();
    assert_eq!(e.code, Code::BadArguments);
    assert_eq!(e.detail.as_deref(), Some("foo, bar"));
    let r = ApiRequest {
        query: Some("oauth_nonce=1"),
        ..req("GET", "/apis/kraken/inputs", "")
    };
    assert!(route(&r, SERVER).is_ok());
}

#[test]
fn bodies_must_be_xml_with_the_right_root() {
    assert_eq!(code("POST", "/apis/kraken/inputs", "<input>"), Code::BadXml);
    assert_eq!(code("POST", "/apis/kraken/inputs", ""), Code::BadXml);
    assert_eq!(
        code("POST", "/apis/kraken/inputs", "<output/>"),
        Code::BadXml
    );
}

#[test]
fn create_errors_are_1000_and_edit_errors_1004() {
    let bad = "<output><url>udp://1.2.3.4:5</url><mtu>100</mtu></output>";
    let e = routed("POST", "/apis/kraken/outputs", bad).unwrap_err();
    assert_eq!(e.code, Code::CreateFailed);
    assert_eq!(
        e.message(),
        "Failed to create new resource: mtu 100 is out of range (228-1500)"
    );
    let e = routed("PUT", &format!("/apis/kraken/outputs/output-{ID}"), bad).unwrap_err();
    assert_eq!(e.code, Code::UpdateFailed);
}

#[test]
fn stream_state_is_an_action_on_its_own() {
    let path = format!("/apis/kraken/streams/stream-{ID}");
    let (c, r) = routed(
        "PUT",
        &path,
        "<stream><state>start</state><name>ignored</name></stream>",
    )
    .unwrap();
    assert!(matches!(c, Command::StartStream(_)));
    assert_eq!(r, Render::Updated(Kind::Stream));
    let (c, _) = routed("PUT", &path, "<stream><state>stop</state></stream>").unwrap();
    assert!(matches!(c, Command::StopStream(_)));
    assert_eq!(
        code("PUT", &path, "<stream><state>pause</state></stream>"),
        Code::UpdateFailed
    );
}

#[test]
fn stream_create_links_and_autostart() {
    let body = format!(
        "<stream><name>S</name><auto_start>true</auto_start>\
         <input>https://10.1.40.89/apis/kraken/inputs/\ninput-{ID}</input>\
         <transcoder>https://x/apis/kraken/transcoders/transcoder-{ID}</transcoder>\
         <outputs><output>https://x/apis/kraken/outputs/output-{ID}</output></outputs></stream>"
    );
    let (c, r) = routed("POST", "/apis/kraken/streams", &body).unwrap();
    match c {
        Command::CreateStream { config, start } => {
            assert!(start);
            assert_eq!(config.input.as_str(), ID);
            assert_eq!(config.outputs.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r, Render::Created(Kind::Stream));
}

#[test]
fn metadata_sources_are_not_implemented() {
    let body = format!(
        "<stream><name>S</name><input>{ID}</input><transcoder>{ID}</transcoder>\
         <outputs><output>{ID}</output></outputs>\
         <metadatas><metadata>https://h/apis/kraken/metadatas/metadata-{ID}</metadata></metadatas></stream>"
    );
    assert_eq!(
        code("POST", "/apis/kraken/streams", &body),
        Code::NotImplemented
    );
}

#[test]
fn aliases_are_accepted() {
    let body = "<transcoder><name>T</name><framerate>25</framerate></transcoder>";
    let (c, _) = routed("POST", "/apis/kraken/transcoders", body).unwrap();
    assert!(matches!(c, Command::CreateTranscoder(t) if t.frame_rate == 25));
    let body = "<input><streamType>V4L2</streamType><capture_card>1</capture_card><capture_mode>3</capture_mode></input>";
    let (c, _) = routed("POST", "/apis/kraken/inputs", body).unwrap();
    assert!(
        matches!(c, Command::CreateInput(i) if i.kind == makara_config::InputKind::V4l2 { port: 1, mode: 3 })
    );
}

#[test]
fn preset_update() {
    let path = format!("/apis/kraken/configurations/configuration-{ID}");
    let (c, _) = routed(
        "PUT",
        &path,
        "<configuration><activate>1</activate><default>0</default></configuration>",
    )
    .unwrap();
    assert!(matches!(
        c,
        Command::UpdatePreset {
            activate: true,
            make_default: Some(false),
            ..
        }
    ));
}

#[test]
fn srt_stream_id_on_inputs_and_outputs() {
    let body = "<input><streamType>SRT</streamType><srtMode>listener</srtMode>\
                <srtLocalPort>9000</srtLocalPort><srtStreamId> feed-1 </srtStreamId></input>";
    let (c, _) = routed("POST", "/apis/kraken/inputs", body).unwrap();
    assert!(
        matches!(&c, Command::CreateInput(i) if matches!(&i.kind,
            makara_config::InputKind::Srt { srt, .. } if srt.stream_id.as_deref() == Some("feed-1"))),
        "{c:?}"
    );
    let long = "s".repeat(513);
    let body = format!(
        "<output><streamType>SRT</streamType><srtMode>caller</srtMode>\
         <srtAddress>127.0.0.1</srtAddress><srtRemotePort>9000</srtRemotePort>\
         <srtStreamId>{long}</srtStreamId></output>"
    );
    let e = routed("POST", "/apis/kraken/outputs", &body).unwrap_err();
    assert_eq!(e.code, Code::CreateFailed);
    assert_eq!(
        e.message(),
        "Failed to create new resource: srtStreamId is 513 characters long; at most 512 are allowed"
    );
    let e = routed("PUT", &format!("/apis/kraken/outputs/output-{ID}"), &body).unwrap_err();
    assert_eq!(e.code, Code::UpdateFailed);
}
