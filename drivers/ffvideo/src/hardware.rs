//! Encoding on a GPU: what this build can say about it.
//!
//! [`hardware_available`] looks for a DRM render node and asks FFmpeg to
//! open the device on it. This build has no hardware encode path (frames
//! uploaded to GPU surfaces for `hevc_vaapi`, `h264_qsv`, …): it was
//! written on machines without a GPU, where such code could not be run
//! once. So every hardware request is refused, with the most precise
//! reason available: the missing node, FFmpeg's reason for not opening
//! the device, or that the device works but this build cannot use it.

use std::fs;
use std::path::{Path, PathBuf};

use makara_encode::{EncodeError, Hardware, VideoSettings};

use crate::hwdevice::{self, DeviceKind};
use crate::options::codec_name;

/// Where Linux puts DRM device nodes.
const DRI: &str = "/dev/dri";

/// Whether `hw` can encode here: `Ok` for software; for QSV and VA-API
/// the reason it cannot, naming the device path that is missing or the
/// reason FFmpeg gave.
pub fn hardware_available(hw: Hardware) -> Result<(), String> {
    let kind = match hw {
        Hardware::Software => return Ok(()),
        Hardware::Qsv => DeviceKind::Qsv,
        Hardware::Vaapi => DeviceKind::Vaapi,
    };
    let node = render_node(kind, Path::new(DRI))?;
    hwdevice::probe(kind, &node).map_err(|why| {
        format!(
            "{}: FFmpeg could not open a device on {}: {why}",
            name(kind),
            node.display()
        )
    })?;
    Err(format!(
        "{}: FFmpeg opens {}, but this firmware cannot encode on it yet \
         (its hardware encode path is not written); use software encoding",
        name(kind),
        node.display()
    ))
}

/// The open error for settings that ask for hardware.
pub(crate) fn refuse(settings: &VideoSettings) -> EncodeError {
    let why = hardware_available(settings.hardware)
        .err()
        .unwrap_or_else(|| "software settings were sent to the hardware path".into());
    EncodeError::Open(format!(
        "{} on {:?}: {why}",
        codec_name(settings.codec),
        settings.hardware
    ))
}

fn name(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Qsv => "qsv",
        DeviceKind::Vaapi => "vaapi",
    }
}

/// The first render node (`renderD128`, …) in `dri`, or why there is none.
fn render_node(kind: DeviceKind, dri: &Path) -> Result<PathBuf, String> {
    let needs = match kind {
        DeviceKind::Qsv => "an Intel GPU render node",
        DeviceKind::Vaapi => "a GPU render node with a VA-API driver",
    };
    let expected = dri.join("renderD128");
    let entries = fs::read_dir(dri).map_err(|e| {
        let problem = if e.kind() == std::io::ErrorKind::NotFound {
            "this machine has no".to_string()
        } else {
            format!("cannot read ({e})")
        };
        format!(
            "{} needs {needs} ({}); {problem} {}",
            name(kind),
            expected.display(),
            dri.display()
        )
    })?;
    let mut nodes: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file = entry.file_name();
            let number = file.to_str()?.strip_prefix("renderD")?.parse().ok()?;
            Some((number, entry.path()))
        })
        .collect();
    nodes.sort();
    nodes
        .into_iter()
        .next()
        .map(|(_, path)| path)
        .ok_or_else(|| {
            format!(
                "{} needs {needs} ({}); {} has no render node",
                name(kind),
                expected.display(),
                dri.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use makara_test_support::TestDir;

    #[test]
    fn a_missing_dri_directory_is_named() {
        let dir = TestDir::new("ffvideo-no-dri");
        let why = render_node(DeviceKind::Qsv, &dir.join("dri")).unwrap_err();
        let dri = dir.join("dri");
        assert_eq!(
            why,
            format!(
                "qsv needs an Intel GPU render node ({}/renderD128); this machine has no {}",
                dri.display(),
                dri.display()
            )
        );
    }

    #[test]
    fn the_lowest_render_node_is_chosen() {
        let dir = TestDir::new("ffvideo-dri");
        dir.write("dri/card0", "");
        let why = render_node(DeviceKind::Vaapi, &dir.join("dri")).unwrap_err();
        assert!(why.ends_with("has no render node"), "{why}");
        dir.write("dri/renderD129", "");
        dir.write("dri/renderD128", "");
        assert_eq!(
            render_node(DeviceKind::Vaapi, &dir.join("dri")),
            Ok(dir.join("dri/renderD128"))
        );
    }

    #[test]
    fn software_needs_no_device() {
        assert_eq!(hardware_available(Hardware::Software), Ok(()));
    }
}
