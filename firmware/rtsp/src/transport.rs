//! The `Transport` header (RFC 2326 §12.39): what a client asks for in
//! SETUP and what the server answers. Unicast only: RTP over UDP to the
//! client's port pair, or interleaved in the RTSP connection.

/// How one track's RTP and RTCP reach a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP datagrams to the client's address, RTP to `rtp_port`, RTCP to
    /// `rtcp_port`.
    Udp { rtp_port: u16, rtcp_port: u16 },
    /// `$`-framed inside the RTSP connection on these two channels.
    Interleaved { rtp_channel: u8, rtcp_channel: u8 },
}

/// Picks the first alternative of a `Transport` header this server can
/// serve; `None` when none can be (multicast, RECORD, another profile),
/// which is 461 Unsupported Transport. An interleaved request without
/// channels gets `default_channel` and the one after it.
pub fn choose(header: &str, default_channel: u8) -> Option<Transport> {
    header
        .split(',')
        .find_map(|spec| one(spec.trim(), default_channel))
}

fn one(spec: &str, default_channel: u8) -> Option<Transport> {
    let mut parts = spec.split(';').map(str::trim);
    let profile = parts.next()?.to_ascii_uppercase();
    let tcp = match profile.as_str() {
        "RTP/AVP" | "RTP/AVP/UDP" => false,
        "RTP/AVP/TCP" => true,
        _ => return None,
    };
    let mut ports = None;
    let mut channels = None;
    for part in parts {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        match key.to_ascii_lowercase().as_str() {
            "multicast" => return None,
            "mode" if !value.trim_matches('"').eq_ignore_ascii_case("play") => return None,
            "client_port" => ports = Some(pair::<u16>(value)?),
            "interleaved" => channels = Some(pair::<u8>(value)?),
            _ => {}
        }
    }
    match tcp {
        true => {
            let (rtp_channel, rtcp_channel) =
                channels.unwrap_or((default_channel, default_channel.wrapping_add(1)));
            Some(Transport::Interleaved {
                rtp_channel,
                rtcp_channel,
            })
        }
        false => {
            let (rtp_port, rtcp_port) = ports?;
            (rtp_port != 0).then_some(Transport::Udp {
                rtp_port,
                rtcp_port,
            })
        }
    }
}

/// `a-b`, or `a` meaning `a-(a+1)`.
fn pair<T: std::str::FromStr + Copy + Into<u32> + TryFrom<u32>>(value: &str) -> Option<(T, T)> {
    match value.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let a: T = value.trim().parse().ok()?;
            let b = T::try_from(a.into() + 1).ok()?;
            Some((a, b))
        }
    }
}

/// The `Transport` header of a SETUP's answer.
pub fn reply(transport: Transport, server_ports: Option<(u16, u16)>, ssrc: u32) -> String {
    match transport {
        Transport::Udp {
            rtp_port,
            rtcp_port,
        } => {
            let server = server_ports
                .map(|(a, b)| format!(";server_port={a}-{b}"))
                .unwrap_or_default();
            format!("RTP/AVP;unicast;client_port={rtp_port}-{rtcp_port}{server};ssrc={ssrc:08X};mode=play")
        }
        Transport::Interleaved {
            rtp_channel,
            rtcp_channel,
        } => format!(
            "RTP/AVP/TCP;unicast;interleaved={rtp_channel}-{rtcp_channel};ssrc={ssrc:08X};mode=play"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_with_a_port_pair() {
        assert_eq!(
            choose("RTP/AVP;unicast;client_port=5000-5001", 0),
            Some(Transport::Udp {
                rtp_port: 5000,
                rtcp_port: 5001
            })
        );
        assert_eq!(
            choose("RTP/AVP/UDP;unicast;client_port=7000", 0),
            Some(Transport::Udp {
                rtp_port: 7000,
                rtcp_port: 7001
            })
        );
    }

    #[test]
    fn interleaved_with_and_without_channels() {
        assert_eq!(
            choose("RTP/AVP/TCP;unicast;interleaved=2-3", 0),
            Some(Transport::Interleaved {
                rtp_channel: 2,
                rtcp_channel: 3
            })
        );
        assert_eq!(
            choose("RTP/AVP/TCP;unicast", 4),
            Some(Transport::Interleaved {
                rtp_channel: 4,
                rtcp_channel: 5
            })
        );
    }

    #[test]
    fn the_first_alternative_served_wins() {
        let header = "RTP/AVP;multicast;port=5000-5001,RTP/AVP/TCP;unicast;interleaved=0-1";
        assert_eq!(
            choose(header, 0),
            Some(Transport::Interleaved {
                rtp_channel: 0,
                rtcp_channel: 1
            })
        );
    }

    #[test]
    fn what_is_refused() {
        for header in [
            "RTP/AVP;multicast",
            "RTP/AVP;unicast",
            "RTP/AVP;unicast;client_port=0-1",
            "RTP/AVP;unicast;client_port=x-y",
            "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record",
            "RAW/RAW/UDP;unicast;client_port=5000-5001",
            "RTP/SAVP;unicast;client_port=5000-5001",
            "",
            "RTP/AVP;unicast;client_port=65535",
        ] {
            assert_eq!(choose(header, 0), None, "{header}");
        }
    }

    #[test]
    fn replies() {
        let udp = Transport::Udp {
            rtp_port: 5000,
            rtcp_port: 5001,
        };
        assert_eq!(
            reply(udp, Some((6970, 6971)), 0xdead_beef),
            "RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=DEADBEEF;mode=play"
        );
        let tcp = Transport::Interleaved {
            rtp_channel: 0,
            rtcp_channel: 1,
        };
        assert_eq!(
            reply(tcp, None, 1),
            "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=00000001;mode=play"
        );
    }
}
