//! Which codecs each output kind can carry. A transport stream carries
//! them all; RTMP and RTSP repackage the elementary streams and carry
//! fewer. Asked twice: when a transcoded stream starts (its transcoder
//! says the codecs, so a mismatch refuses the start), and by the RTMP push
//! and RTSP server on the transport stream they are given (passthru and
//! bypass streams carry whatever their input does).

use makara_media::{AudioCodec, VideoCodec};
use makara_mpegts::es;

/// The codec of video found in a transport stream.
pub(crate) fn ts_video(codec: es::VideoCodec) -> VideoCodec {
    match codec {
        es::VideoCodec::H264 => VideoCodec::H264,
        es::VideoCodec::Hevc => VideoCodec::Hevc,
        es::VideoCodec::Mpeg2 => VideoCodec::Mpeg2,
        es::VideoCodec::Av1 => VideoCodec::Av1,
    }
}

/// Why an RTMP push cannot carry this video and audio, or `None` if it
/// can. FLV carries H.264 and AAC; Enhanced RTMP adds HEVC (when the
/// server announces it, which is known only once connected).
pub fn rtmp_refusal(video: Option<VideoCodec>, audio: Option<AudioCodec>) -> Option<String> {
    let video_refused = match video {
        Some(VideoCodec::Mpeg2) => Some("MPEG-2"),
        Some(VideoCodec::Av1) => Some("AV1"),
        Some(VideoCodec::H264 | VideoCodec::Hevc) | None => None,
    };
    if let Some(name) = video_refused {
        return Some(format!(
            "{name} video cannot be pushed over RTMP (FLV carries H.264, Enhanced RTMP adds \
             HEVC): use videoType avc or hevc for a stream with an RTMP output"
        ));
    }
    match audio {
        Some(AudioCodec::Mp2) => Some(
            "MPEG audio (MP2) cannot be pushed over RTMP (FLV carries AAC): set the \
             transcoder's audioType to mpeg2_aac_adts"
                .into(),
        ),
        Some(AudioCodec::AacAdts) | None => None,
    }
}

/// Why an RTSP output cannot serve this video, or `None` if it can. Its
/// RTP packetisers are H.264's (RFC 6184) and HEVC's (RFC 7798); audio
/// other than AAC is left out (the video is still served), not refused.
pub fn rtsp_refusal(video: Option<VideoCodec>) -> Option<String> {
    let name = match video {
        Some(VideoCodec::Mpeg2) => "MPEG-2",
        Some(VideoCodec::Av1) => "AV1",
        Some(VideoCodec::H264 | VideoCodec::Hevc) | None => return None,
    };
    Some(format!(
        "{name} video cannot be served over RTSP; only H.264 and HEVC can: use videoType \
         avc or hevc for a stream with an RTSP output"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtmp_takes_h264_and_hevc_with_aac_only() {
        for video in [Some(VideoCodec::H264), Some(VideoCodec::Hevc), None] {
            assert_eq!(rtmp_refusal(video, Some(AudioCodec::AacAdts)), None);
            assert_eq!(rtmp_refusal(video, None), None);
            let mp2 = rtmp_refusal(video, Some(AudioCodec::Mp2)).unwrap();
            assert!(
                mp2.contains("MP2") && mp2.contains("mpeg2_aac_adts"),
                "{mp2}"
            );
        }
        for (video, name) in [(VideoCodec::Mpeg2, "MPEG-2"), (VideoCodec::Av1, "AV1")] {
            let e = rtmp_refusal(Some(video), Some(AudioCodec::AacAdts)).unwrap();
            assert!(e.starts_with(name) && e.contains("avc or hevc"), "{e}");
        }
    }

    #[test]
    fn rtsp_serves_h264_and_hevc_video_only() {
        assert_eq!(rtsp_refusal(Some(VideoCodec::H264)), None);
        assert_eq!(rtsp_refusal(Some(VideoCodec::Hevc)), None);
        assert_eq!(rtsp_refusal(None), None);
        let e = rtsp_refusal(Some(VideoCodec::Av1)).unwrap();
        assert!(e.starts_with("AV1 video cannot be served over RTSP"), "{e}");
        assert!(rtsp_refusal(Some(VideoCodec::Mpeg2)).is_some());
    }
}
