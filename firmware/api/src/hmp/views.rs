//! The supervisor's views in HMP's words: sources, sessions, recordings,
//! assets (videos) and events.

use std::net::IpAddr;

use makara_access::users::Role;
use makara_config::{OutputConfig, OutputKind, SrtMode};
use makara_supervisor::{Asset, EventKind, EventView, GroupView, RecordingState, SourceView};
use serde_json::{json, Value};

/// What a non-administrator sees for an SRT passphrase that is set.
pub const MASKED: &str = "********";

/// An output as an HMP source, seen from the appliance (hmp.md DEC-8):
/// `host`/`port` are where it sends (UDP, SRT caller and rendezvous) or
/// where it listens (SRT listener). Only administrators see passphrases.
pub fn source(view: &SourceView, role: Role) -> Value {
    let output = &view.output;
    let config = &output.config;
    let mut doc = json!({
        "id": output.id.as_str(),
        "name": config.name,
        "description": config.description.as_deref().unwrap_or_default(),
        "active": view.active,
        "bitrate": view.bitrate_bps,
        "stream": view.stream.as_ref().map(|s| json!({"id": s.id.as_str(), "name": s.name})),
    });
    let fields = doc.as_object_mut().expect("an object");
    for (key, value) in transport(config, role) {
        fields.insert(key.to_owned(), value);
    }
    doc
}

fn transport(config: &OutputConfig, role: Role) -> Vec<(&'static str, Value)> {
    match &config.kind {
        OutputKind::Udp { url } => vec![
            ("type", json!("UDP")),
            ("host", json!(url.host())),
            ("port", json!(url.port())),
            ("multicast", json!(is_multicast(url.host()))),
            ("continuous", json!(false)),
        ],
        OutputKind::Srt { url, srt } => {
            let (mode, port) = match srt.mode {
                SrtMode::Caller => ("CALLER", srt.remote_port),
                SrtMode::Listener => ("LISTENER", srt.local_port),
                SrtMode::Rendezvous => ("RENDEZVOUS", srt.remote_port),
            };
            let host = srt
                .address
                .clone()
                .or_else(|| url.as_ref().map(|u| u.host().to_owned()))
                .unwrap_or_else(|| "0.0.0.0".to_owned());
            let port = port.or_else(|| url.as_ref().and_then(|u| u.port()));
            let passphrase = srt.passphrase.as_deref().map(|p| {
                if role == Role::Administrator {
                    p
                } else {
                    MASKED
                }
            });
            vec![
                ("type", json!("SRT")),
                ("host", json!(host)),
                ("port", json!(port)),
                ("mode", json!(mode)),
                ("latency", json!(srt.latency_ms)),
                ("passphrase", json!(passphrase.unwrap_or_default())),
                // The seed: "value forced to true for SRT".
                ("continuous", json!(true)),
            ]
        }
        // Ours: the seed's sources are UDP and SRT. An RTMP source names
        // the server it pushes to (never the stream key, the CDN's
        // secret); an RTSP source the address and port it serves on.
        OutputKind::Rtmp { url } => vec![
            ("type", json!("RTMP")),
            ("host", json!(url.host())),
            ("port", json!(url.port())),
            ("continuous", json!(true)),
        ],
        OutputKind::Rtsp { url } => vec![
            ("type", json!("RTSP")),
            ("host", json!(url.bind().to_string())),
            ("port", json!(url.port())),
            ("path", json!(url.path())),
            ("continuous", json!(true)),
        ],
    }
}

fn is_multicast(host: &str) -> bool {
    host.trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_multicast())
}

/// A group as an HMP session.
pub fn session(group: &GroupView) -> Value {
    json!({
        "id": group.id.as_str(),
        "title": group.title,
        "description": group.description,
        "active": group.active,
        "syncrecord": group.sync_record,
        "ctime": group.created_unix,
        "mtime": group.modified_unix,
        // The seed's sessions always show 0: a session is not a recording.
        "duration": 0,
        "recording": group.recording,
        "movieTrackCount": group.outputs.len(),
        "sources": group.outputs.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
    })
}

/// A live recording as HMP's recording object. Recorders follow the
/// seed's examples: `chunk` names the recording and track (3 and up) and
/// `id` counts from 1; clients should not parse either.
pub fn recording(asset: &Asset) -> Value {
    let state = recording_state(asset.state);
    let recorders: Vec<Value> = asset
        .tracks
        .iter()
        .enumerate()
        .map(|(n, track)| {
            json!({
                "id": (n + 1).to_string(),
                "source": track.source.as_str(),
                "chunk": format!("asset-chunk://{}/{}/0/0", asset.id.as_str(), n + 3),
                "state": state,
            })
        })
        .collect();
    json!({
        "id": asset.id.as_str(),
        "session": asset.group.as_str(),
        "username": asset.creator,
        "state": state,
        "duration": asset.duration_secs,
        "ctime": asset.created,
        "title": asset.title,
        "description": asset.description,
        "recorders": recorders,
        "droppedPackets": asset.dropped_packets,
    })
}

fn recording_state(state: RecordingState) -> &'static str {
    match state {
        RecordingState::Recording => "RECORDING",
        RecordingState::Paused => "PAUSED",
        RecordingState::Finished(_) => "STOPPED",
    }
}

/// A recording, live or finished, as an HMP video (asset). Beyond the
/// seed's fields: how it finished, its size and its tracks.
pub fn asset(asset: &Asset) -> Value {
    let finish = match asset.state {
        RecordingState::Finished(reason) => Some(reason.as_str()),
        _ => None,
    };
    let tracks: Vec<Value> = asset
        .tracks
        .iter()
        .enumerate()
        .map(|(n, t)| {
            json!({
                "index": n,
                "source": t.source.as_str(),
                "bytes": t.bytes,
                "duration": t.duration_secs,
            })
        })
        .collect();
    json!({
        "id": asset.id.as_str(),
        "title": asset.title,
        "description": asset.description,
        "ctime": asset.created,
        "mtime": asset.modified,
        "duration": asset.duration_secs,
        "active": false,
        "movieTrackCount": asset.tracks.len(),
        "recording": asset.is_live(),
        "trimming": false,
        "importing": false,
        "tag": null,
        "session": asset.group.as_str(),
        "username": asset.creator,
        "finish": finish,
        "detail": asset.detail,
        "size": asset.size_bytes(),
        "droppedPackets": asset.dropped_packets,
        "tracks": tracks,
    })
}

/// One entry of the event list (what happened; the seed's scheduled
/// events are not kept by this appliance).
pub fn event(event: &EventView) -> Value {
    let mut doc = json!({
        "id": event.id.to_string(),
        "type": event_type(&event.kind),
        "time": event.unix_ms / 1000,
        "timeMs": event.unix_ms,
        "subjectId": event.subject.as_ref().map(|s| s.as_str()),
        "name": event.name,
        "detail": event.detail,
    });
    let fields = doc.as_object_mut().expect("an object");
    match &event.kind {
        EventKind::RecordingStopped(reason) => {
            fields.insert("reason".into(), json!(reason.as_str()));
        }
        EventKind::LoginLockout { username, address } => {
            fields.insert("username".into(), json!(username));
            fields.insert("address".into(), json!(address.map(|a| a.to_string())));
        }
        _ => {}
    }
    doc
}

pub fn event_type(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::StreamStarted => "stream-started",
        EventKind::StreamStopped => "stream-stopped",
        EventKind::StreamFailed => "stream-failed",
        EventKind::StreamRecovered => "stream-recovered",
        EventKind::InputLost => "input-lost",
        EventKind::InputRecovered => "input-recovered",
        EventKind::RecordingStarted => "recording-started",
        EventKind::RecordingStopped(_) => "recording-stopped",
        EventKind::LoginLockout { .. } => "login-lockout",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multicast_is_known_by_the_address() {
        assert!(is_multicast("239.1.1.1"));
        assert!(is_multicast("[ff0e::1]"));
        assert!(!is_multicast("127.0.0.1"));
        assert!(!is_multicast("encoder.example"));
    }
}
