//! The card's picture layouts into the frame pool's UYVY: 8-bit UYVY
//! ('2vuy') row by row, and 10-bit v210 with each component cut to its
//! top 8 bits (the encoders take 8-bit 4:2:0 and 4:2:2).

/// `bmdFormat8BitYUV`: 4:2:2 UYVY, 8 bits a component.
pub(crate) const FORMAT_UYVY: u32 = u32::from_be_bytes(*b"2vuy");
/// `bmdFormat10BitYUV`: v210, six pixels in each 16 bytes.
pub(crate) const FORMAT_V210: u32 = u32::from_be_bytes(*b"v210");

/// Bytes of one v210 group: four little-endian words, three 10-bit
/// components each, six pixels.
const V210_GROUP: usize = 16;
const V210_GROUP_PIXELS: usize = 6;

/// A picture the card delivered, as `ffi` hands it over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Picture<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) row_bytes: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) pixel_format: u32,
}

/// Why a picture could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PixelError {
    #[error("the card sent pixel format {0:#010x}, neither 2vuy nor v210")]
    Format(u32),
    #[error("the card's rows of {row_bytes} bytes are too short for {width} pixels")]
    Rows { row_bytes: usize, width: usize },
    #[error("the card's picture is {got_width}x{got_height}; the capture is {width}x{height}")]
    Size {
        got_width: usize,
        got_height: usize,
        width: usize,
        height: usize,
    },
}

/// Writes `picture` into `out`, a packed UYVY picture of `width` x
/// `height` (rows of `2 * width` bytes, no padding).
pub(crate) fn to_uyvy(
    picture: &Picture<'_>,
    width: usize,
    height: usize,
    out: &mut [u8],
) -> Result<(), PixelError> {
    if (picture.width, picture.height) != (width, height) || out.len() != 2 * width * height {
        return Err(PixelError::Size {
            got_width: picture.width,
            got_height: picture.height,
            width,
            height,
        });
    }
    let needed = match picture.pixel_format {
        FORMAT_UYVY => 2 * width,
        FORMAT_V210 => width.div_ceil(V210_GROUP_PIXELS) * V210_GROUP,
        other => return Err(PixelError::Format(other)),
    };
    if picture.row_bytes < needed {
        return Err(PixelError::Rows {
            row_bytes: picture.row_bytes,
            width,
        });
    }
    let rows = picture.bytes.chunks(picture.row_bytes);
    for (src, dst) in rows.zip(out.chunks_exact_mut(2 * width)) {
        match picture.pixel_format {
            FORMAT_UYVY => dst.copy_from_slice(&src[..2 * width]),
            _ => v210_row_to_uyvy(src, dst),
        }
    }
    Ok(())
}

/// One v210 row into one UYVY row. v210 keeps the components in UYVY's
/// own order (Cb Y Cr Y ...), three to a 32-bit word, so each word gives
/// the next three output bytes.
fn v210_row_to_uyvy(src: &[u8], dst: &mut [u8]) {
    let components = src.chunks_exact(4).flat_map(|word| {
        let w = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        [w & 0x3ff, (w >> 10) & 0x3ff, (w >> 20) & 0x3ff]
    });
    for (out, c) in dst.iter_mut().zip(components) {
        // The top 8 of 10 bits: truncation, as 8-bit capture would give.
        *out = (c >> 2) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(
        bytes: &[u8],
        row_bytes: usize,
        width: usize,
        height: usize,
        format: u32,
    ) -> Picture<'_> {
        Picture {
            bytes,
            row_bytes,
            width,
            height,
            pixel_format: format,
        }
    }

    #[test]
    fn uyvy_rows_are_copied_without_their_padding() {
        // 2x2 pixels, rows padded to 6 bytes.
        let src = [1, 2, 3, 4, 0xEE, 0xEE, 5, 6, 7, 8, 0xEE, 0xEE];
        let mut out = [0; 8];
        to_uyvy(&picture(&src, 6, 2, 2, FORMAT_UYVY), 2, 2, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    /// One v210 word from three 10-bit components.
    fn word(a: u32, b: u32, c: u32) -> [u8; 4] {
        (a | b << 10 | c << 20).to_le_bytes()
    }

    #[test]
    fn v210_gives_the_top_eight_bits_in_uyvy_order() {
        // Six pixels: Cb0 Y0 Cr0 Y1 Cb1 Y2 Cr1 Y3 Cb2 Y4 Cr2 Y5, in 10 bits.
        let tens: [u32; 12] = [512, 64, 513, 940, 0, 1023, 4, 7, 8, 100, 200, 300];
        let mut src = Vec::new();
        for t in tens.chunks(3) {
            src.extend_from_slice(&word(t[0], t[1], t[2]));
        }
        let mut out = [0; 12];
        to_uyvy(&picture(&src, 16, 6, 1, FORMAT_V210), 6, 1, &mut out).unwrap();
        assert_eq!(out, [128, 16, 128, 235, 0, 255, 1, 1, 2, 25, 50, 75]);
    }

    #[test]
    fn v210_rows_padded_as_the_sdk_pads_them_are_read_row_by_row() {
        // 4 pixels of a 2-row picture in rows padded to 48 pixels, 128
        // bytes.
        let mut src = vec![0u8; 256];
        src[..4].copy_from_slice(&word(4, 8, 12));
        src[128..132].copy_from_slice(&word(16, 20, 24));
        let mut out = [0; 16];
        to_uyvy(&picture(&src, 128, 4, 2, FORMAT_V210), 4, 2, &mut out).unwrap();
        assert_eq!(&out[..3], &[1, 2, 3]);
        assert_eq!(&out[8..11], &[4, 5, 6]);
    }

    #[test]
    fn other_formats_short_rows_and_other_sizes_are_refused() {
        let src = [0u8; 64];
        let mut out = [0u8; 8];
        let rgb = u32::from_be_bytes(*b"BGRA");
        assert_eq!(
            to_uyvy(&picture(&src, 8, 2, 2, rgb), 2, 2, &mut out),
            Err(PixelError::Format(rgb))
        );
        assert_eq!(
            to_uyvy(&picture(&src, 3, 2, 2, FORMAT_UYVY), 2, 2, &mut out),
            Err(PixelError::Rows {
                row_bytes: 3,
                width: 2
            })
        );
        assert!(matches!(
            to_uyvy(&picture(&src, 8, 4, 2, FORMAT_UYVY), 2, 2, &mut out),
            Err(PixelError::Size { .. })
        ));
    }
}
