//! `/apis/kraken/transcoders`: reading `<transcoder>` bodies and writing
//! transcoders.

use makara_config::{Invalid, ResolutionMode, TranscoderRequest};
use makara_supervisor::{Kind, TranscoderView};

use super::fields::{boolean, choice, int, string};
use super::links::Links;
use super::words::{
    on_off, resource_state, word, AUDIO_TYPES, ENCODER_TYPES, ENCODING_PROFILES, VIDEO_PROFILES,
    VIDEO_TYPES,
};
use crate::xml::{Element, XmlWriter};

pub fn parse(el: &Element) -> Result<TranscoderRequest, Invalid> {
    let resolution = el.child(&["resolution"]);
    let dimension = |name: &'static str| match resolution {
        Some(r) => int(r, &[name]),
        None => Ok(None),
    };
    Ok(TranscoderRequest {
        name: string(el, &["name"]),
        resolution_mode: int(el, &["resolutionMode"])?,
        width: dimension("width")?,
        height: dimension("height")?,
        frame_rate: int(el, &["frameRate", "framerate"])?,
        video_bitrate_kbps: int(el, &["videoBitrate"])?,
        gop_size: int(el, &["gopSize"])?,
        metadata: boolean(el, &["metadata"])?,
        audio: boolean(el, &["audio"])?,
        video_type: choice(el, &["videoType"], VIDEO_TYPES)?,
        audio_bitrate_kbps: int(el, &["audioBitrate"])?,
        b_frames: int(el, &["bFrame"])?,
        quality_level: int(el, &["qualityLevel"])?,
        intra_refresh: boolean(el, &["enableIntraRefresh"])?,
        encoding_profile: choice(el, &["encodingProfile"], ENCODING_PROFILES)?,
        encoder_type: choice(el, &["encoderType"], ENCODER_TYPES)?,
        interleave_adjustment_ms: int(el, &["interleaveAdjustmentMs"])?,
        jitter_buffer_ms: int(el, &["jitterBufferMs"])?,
        video_profile: choice(el, &["videoProfile"], VIDEO_PROFILES)?,
        audio_type: choice(el, &["audioType"], AUDIO_TYPES)?,
        output_pacing: boolean(el, &["outputPacing"])?,
        output_pacing_interval_ms: int(el, &["outputPacingInterval"])?,
        shaping_bitrate_kbps: int(el, &["shapingBitrate"])?,
        shaping_max_bitrate_percent: int(el, &["shapingMaxBitratePercent"])?,
        shaping_target_bitrate_percent: int(el, &["shapingTargetBitratePercent"])?,
        shaping_vbv_size_ms: int(el, &["shapingVbvSizeMs"])?,
        shaping_buffering_interval_ms: int(el, &["shapingBufferingIntervalMs"])?,
    })
}

pub fn render_list(w: &mut XmlWriter, views: &[TranscoderView], links: &Links) {
    w.open("transcoders");
    for v in views {
        w.open("transcoder");
        w.text("uuid", &v.id);
        w.text("name", &v.config.name);
        w.link("self", &links.resource(Kind::Transcoder, &v.id));
        w.close();
    }
    w.close();
}

/// Every property with its effective value, defaults included: a client
/// reading a transcoder back sees exactly what will be encoded.
pub fn render(w: &mut XmlWriter, v: &TranscoderView, links: &Links) {
    let c = &v.config;
    w.open("transcoder");
    w.text("uuid", &v.id);
    w.text("name", &c.name);
    w.text("resolutionMode", c.resolution.code());
    if let ResolutionMode::Custom { width, height } = c.resolution {
        w.open("resolution");
        w.text("width", width);
        w.text("height", height);
        w.close();
    }
    w.text("frameRate", c.frame_rate);
    w.text("videoBitrate", c.video_bitrate_kbps);
    w.text("gopSize", c.gop_size);
    w.text("metadata", on_off(c.metadata));
    w.text("audio", on_off(c.audio));
    w.text("videoType", word(VIDEO_TYPES, &c.video_type));
    w.text("audioBitrate", c.audio_bitrate_kbps);
    w.text("bFrame", c.b_frames);
    w.optional("qualityLevel", c.quality_level);
    w.text("enableIntraRefresh", on_off(c.intra_refresh));
    w.text(
        "encodingProfile",
        word(ENCODING_PROFILES, &c.encoding_profile),
    );
    w.text("encoderType", word(ENCODER_TYPES, &c.encoder_type));
    w.text("interleaveAdjustmentMs", c.interleave_adjustment_ms);
    w.text("jitterBufferMs", c.jitter_buffer_ms);
    w.text("outputPacing", on_off(c.output_pacing));
    w.text("outputPacingInterval", c.output_pacing_interval_ms);
    w.text("shapingBitrate", c.shaping.bitrate_kbps);
    w.text("shapingMaxBitratePercent", c.shaping.max_bitrate_percent);
    w.text(
        "shapingTargetBitratePercent",
        c.shaping.target_bitrate_percent,
    );
    w.text("shapingVbvSizeMs", c.shaping.vbv_size_ms);
    w.text(
        "shapingBufferingIntervalMs",
        c.shaping.buffering_interval_ms,
    );
    w.text("videoProfile", word(VIDEO_PROFILES, &c.video_profile));
    w.text("audioType", word(AUDIO_TYPES, &c.audio_type));
    w.text("state", resource_state(v.state));
    w.link("self", &links.resource(Kind::Transcoder, &v.id));
    w.close();
}
