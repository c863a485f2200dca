//! The modes of one input: DV timings for digital inputs, standards for
//! analog ones, frame sizes and rates for cameras.

use makara_media::{CaptureMode, PortKind};

use crate::calls::{self, InputInfo, StdInfo};
use crate::device::Device;
use crate::sys::{BtTimings, Fract, IN_CAP_DV_TIMINGS, IN_CAP_STD};

/// How this input picks its mode.
pub fn kind_of(input: &InputInfo) -> PortKind {
    if input.capabilities & IN_CAP_DV_TIMINGS != 0 {
        PortKind::DigitalVideo
    } else if input.capabilities & IN_CAP_STD != 0 {
        PortKind::AnalogStandard
    } else {
        PortKind::Camera
    }
}

/// One mode as the driver names it, kept so that `captureMode` N can be
/// set exactly as it was listed.
#[derive(Clone)]
pub enum Native {
    Timings(BtTimings),
    Standard(u64),
    Size {
        width: u32,
        height: u32,
        interval: Option<Fract>,
    },
}

/// Every mode of the device's current input, in the order `captureMode`
/// numbers them. `fourcc` is the pixel format cameras are listed for.
pub fn list(device: &Device, kind: PortKind, fourcc: u32) -> Vec<(CaptureMode, Native)> {
    let fd = device.fd();
    let mut modes = Vec::new();
    match kind {
        PortKind::DigitalVideo => {
            while let Ok(Some(t)) = calls::enum_dv_timings(fd, modes.len() as u32) {
                modes.push((timings_mode(&t), Native::Timings(t)));
            }
        }
        PortKind::AnalogStandard => {
            while let Ok(Some(s)) = calls::enum_std(fd, modes.len() as u32) {
                modes.push((standard_mode(&s), Native::Standard(s.id)));
            }
        }
        PortKind::Camera => {
            let mut index = 0;
            while let Ok(Some(size)) = calls::enum_framesize(fd, fourcc, index) {
                index += 1;
                let mut intervals = Vec::new();
                while let Ok(Some(i)) =
                    calls::enum_frameinterval(fd, fourcc, size, intervals.len() as u32)
                {
                    intervals.push(i);
                    if intervals.len() > 64 {
                        break;
                    }
                }
                if intervals.is_empty() {
                    modes.push((
                        size_mode(size, None),
                        Native::Size {
                            width: size.0,
                            height: size.1,
                            interval: None,
                        },
                    ));
                }
                for i in intervals {
                    modes.push((
                        size_mode(size, Some(i)),
                        Native::Size {
                            width: size.0,
                            height: size.1,
                            interval: Some(i),
                        },
                    ));
                }
                if index > 256 {
                    break;
                }
            }
        }
    }
    modes
}

/// Frames per second of DV timings: pixel clock over the total frame.
pub fn timings_rate(t: &BtTimings) -> Option<(u32, u32)> {
    let (w, h) = (t.width, t.height);
    let htotal = u64::from(w + t.hfrontporch + t.hsync + t.hbackporch);
    let mut vtotal = u64::from(h + t.vfrontporch + t.vsync + t.vbackporch);
    if t.interlaced != 0 {
        vtotal += u64::from(t.il_vfrontporch + t.il_vsync + t.il_vbackporch);
    }
    let frame = htotal * vtotal;
    let clock = t.pixelclock;
    if frame == 0 || clock == 0 {
        return None;
    }
    // Interlaced timings count one frame as both fields.
    reduce(clock, frame)
}

fn reduce(num: u64, den: u64) -> Option<(u32, u32)> {
    let g = gcd(num, den);
    let (n, d) = (num / g, den / g);
    Some((u32::try_from(n).ok()?, u32::try_from(d).ok()?))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

pub fn timings_mode(t: &BtTimings) -> CaptureMode {
    let rate = timings_rate(t);
    let interlaced = t.interlaced != 0;
    let (w, h) = (t.width, t.height);
    CaptureMode {
        width: w,
        height: h,
        frame_rate: rate,
        interlaced,
        id: format!(
            "{w}x{h}{}{}",
            if interlaced { 'i' } else { 'p' },
            rate_text(rate)
        ),
    }
}

fn standard_mode(s: &StdInfo) -> CaptureMode {
    let Fract {
        numerator,
        denominator,
    } = s.frameperiod;
    CaptureMode {
        width: 720,
        height: if s.framelines == 525 { 480 } else { 576 },
        frame_rate: (numerator > 0).then_some((denominator, numerator)),
        interlaced: true,
        id: s.name.clone(),
    }
}

fn size_mode((width, height): (u32, u32), interval: Option<Fract>) -> CaptureMode {
    let rate = interval
        .filter(|i| i.numerator > 0)
        .map(|i| (i.denominator, i.numerator));
    CaptureMode {
        width,
        height,
        frame_rate: rate,
        interlaced: false,
        id: match rate {
            Some(_) => format!("{width}x{height}@{}", rate_text(rate)),
            None => format!("{width}x{height}"),
        },
    }
}

/// `60`, `59.94`, `29.97`, `12.5`: what broadcast people write.
pub fn rate_text(rate: Option<(u32, u32)>) -> String {
    let Some((n, d)) = rate else {
        return String::new();
    };
    if d != 0 && n % d == 0 {
        return (n / d).to_string();
    }
    let fps = f64::from(n) / f64::from(d.max(1));
    let text = format!("{fps:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Zeroed;

    fn cea(width: u32, height: u32, clock: u64, h: [u32; 3], v: [u32; 3]) -> BtTimings {
        BtTimings {
            width,
            height,
            pixelclock: clock,
            hfrontporch: h[0],
            hsync: h[1],
            hbackporch: h[2],
            vfrontporch: v[0],
            vsync: v[1],
            vbackporch: v[2],
            ..BtTimings::ZERO
        }
    }

    #[test]
    fn cea_720p60_and_1080p30_rates() {
        let t = cea(1280, 720, 74_250_000, [110, 40, 220], [5, 5, 20]);
        assert_eq!(timings_rate(&t), Some((60, 1)));
        assert_eq!(timings_mode(&t).id, "1280x720p60");
        let t = cea(1920, 1080, 74_250_000, [88, 44, 148], [4, 5, 36]);
        assert_eq!(timings_rate(&t), Some((30, 1)));
    }

    #[test]
    fn ntsc_rate_reads_as_broadcasters_write_it() {
        assert_eq!(rate_text(Some((30000, 1001))), "29.97");
        assert_eq!(rate_text(Some((25, 2))), "12.5");
        assert_eq!(rate_text(Some((60, 1))), "60");
        assert_eq!(rate_text(None), "");
    }

    #[test]
    fn zero_clock_has_no_rate() {
        assert_eq!(timings_rate(&BtTimings::ZERO), None);
    }
}
