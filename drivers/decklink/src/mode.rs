//! Display modes and connectors as the SDK describes them, checked into
//! the crate's types.

use std::fmt;

use crate::ffi::RawMode;

/// A display mode's `BMDDisplayMode`: a four-character code such as `Hp59`
/// (1080p59.94) or `ntsc`, what `EnableVideoInput` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModeCode(pub u32);

impl fmt::Display for ModeCode {
    /// The four characters, or the number in hex when they are not
    /// printable ASCII.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0.to_be_bytes();
        if bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            bytes
                .iter()
                .try_for_each(|b| write!(f, "{}", char::from(*b)))
        } else {
            write!(f, "{:#010x}", self.0)
        }
    }
}

/// Frames per second as `num / den` (the SDK's time scale over frame
/// duration: 60000/1001 for 59.94).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRate {
    pub num: u32,
    pub den: u32,
}

/// How a mode's lines are scanned (`BMDFieldDominance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    Progressive,
    /// Progressive segmented frame (PsF): progressive pictures carried as
    /// two fields.
    ProgressiveSegmented,
    /// Interlaced, upper field first.
    UpperFieldFirst,
    /// Interlaced, lower field first (NTSC).
    LowerFieldFirst,
    /// The driver does not say.
    Unknown,
}

impl Scan {
    fn from_raw(raw: u32) -> Scan {
        match &raw.to_be_bytes() {
            b"prog" => Scan::Progressive,
            b"psf " => Scan::ProgressiveSegmented,
            b"uppr" => Scan::UpperFieldFirst,
            b"lowr" => Scan::LowerFieldFirst,
            _ => Scan::Unknown,
        }
    }
}

/// One input display mode of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayMode {
    /// The driver's name for it, e.g. "1080p59.94".
    pub name: String,
    pub code: ModeCode,
    pub width: u32,
    pub height: u32,
    pub frame_rate: FrameRate,
    pub scan: Scan,
}

/// A mode the driver described with values no picture has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModeError {
    #[error("mode {code} has size {width}x{height} (expected 1..=65535 each way)")]
    Size {
        code: ModeCode,
        width: i64,
        height: i64,
    },
    #[error(
        "mode {code} has frame duration {duration} / time scale {scale} \
         (expected both in 1..=4294967295)"
    )]
    Rate {
        code: ModeCode,
        duration: i64,
        scale: i64,
    },
}

/// The largest width or height taken (DeckLink modes reach 8K, 8192).
const MAX_SIDE: i64 = 65535;

impl DisplayMode {
    pub(crate) fn from_raw(raw: &RawMode) -> Result<DisplayMode, ModeError> {
        let code = ModeCode(raw.code);
        let side = |v: i64| {
            u32::try_from(v)
                .ok()
                .filter(|v| (1..=MAX_SIDE).contains(&i64::from(*v)))
        };
        let (Some(width), Some(height)) = (side(raw.width), side(raw.height)) else {
            return Err(ModeError::Size {
                code,
                width: raw.width,
                height: raw.height,
            });
        };
        let positive = |v: i64| u32::try_from(v).ok().filter(|v| *v > 0);
        let (Some(num), Some(den)) = (positive(raw.time_scale), positive(raw.frame_duration))
        else {
            return Err(ModeError::Rate {
                code,
                duration: raw.frame_duration,
                scale: raw.time_scale,
            });
        };
        Ok(DisplayMode {
            name: raw.name.clone(),
            code,
            width,
            height,
            frame_rate: FrameRate { num, den },
            scan: Scan::from_raw(raw.field_dominance),
        })
    }
}

/// A video input connector (`BMDVideoConnection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Sdi,
    Hdmi,
    OpticalSdi,
    Component,
    Composite,
    SVideo,
}

impl Connection {
    /// In the SDK's bit order.
    const ALL: [(u32, Connection); 6] = [
        (1 << 0, Connection::Sdi),
        (1 << 1, Connection::Hdmi),
        (1 << 2, Connection::OpticalSdi),
        (1 << 3, Connection::Component),
        (1 << 4, Connection::Composite),
        (1 << 5, Connection::SVideo),
    ];

    /// The connectors a `BMDVideoConnection` bit field names (bits this
    /// SDK version does not know are left out).
    pub(crate) fn from_bits(bits: u32) -> Vec<Connection> {
        Connection::ALL
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, c)| *c)
            .collect()
    }
}

impl fmt::Display for Connection {
    /// The connector's name as it is printed on the card.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Connection::Sdi => "SDI",
            Connection::Hdmi => "HDMI",
            Connection::OpticalSdi => "Optical SDI",
            Connection::Component => "Component",
            Connection::Composite => "Composite",
            Connection::SVideo => "S-Video",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(width: i64, height: i64, duration: i64, scale: i64) -> RawMode {
        RawMode {
            name: "1080p59.94".to_owned(),
            code: u32::from_be_bytes(*b"Hp59"),
            width,
            height,
            frame_duration: duration,
            time_scale: scale,
            field_dominance: u32::from_be_bytes(*b"prog"),
        }
    }

    #[test]
    fn a_mode_keeps_its_rate_as_scale_over_duration() {
        let mode = DisplayMode::from_raw(&raw(1920, 1080, 1001, 60000)).unwrap();
        assert_eq!(
            mode.frame_rate,
            FrameRate {
                num: 60000,
                den: 1001
            }
        );
        assert_eq!(
            (mode.width, mode.height, mode.scan),
            (1920, 1080, Scan::Progressive)
        );
        assert_eq!(mode.code.to_string(), "Hp59");
    }

    #[test]
    fn impossible_sizes_and_rates_are_errors() {
        for (w, h) in [(0, 1080), (1920, -1), (70000, 1080), (1920, i64::MAX)] {
            assert!(
                matches!(
                    DisplayMode::from_raw(&raw(w, h, 1001, 60000)),
                    Err(ModeError::Size { .. })
                ),
                "{w}x{h}"
            );
        }
        for (d, s) in [(0, 60000), (1001, 0), (-1, 60000), (1001, 1 << 33)] {
            assert!(
                matches!(
                    DisplayMode::from_raw(&raw(1920, 1080, d, s)),
                    Err(ModeError::Rate { .. })
                ),
                "{d}/{s}"
            );
        }
    }

    #[test]
    fn unprintable_codes_show_as_hex() {
        assert_eq!(ModeCode(0x7fff_0001).to_string(), "0x7fff0001");
        assert_eq!(ModeCode(u32::from_be_bytes(*b"psf ")).to_string(), "psf ");
    }

    #[test]
    fn connections_follow_the_sdk_bits() {
        assert_eq!(Connection::from_bits(0), vec![]);
        assert_eq!(
            Connection::from_bits(0b10_0011 | 1 << 20),
            vec![Connection::Sdi, Connection::Hdmi, Connection::SVideo]
        );
    }
}
