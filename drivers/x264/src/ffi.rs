//! Every call into libx264, behind owning types and a safe API.
//!
//! This is the crate's only module with `unsafe` code (the crate root
//! denies it everywhere else, and `tests/tidy` allow-lists this file). The
//! rule here: every safe function is sound for any arguments. Where C would
//! read memory through a pointer, the function first checks that the memory
//! is a live Rust slice of the needed length.
//!
//! - [`Params`] owns an `x264_param_t` and frees what `x264_param_parse`
//!   allocated in it (`x264_param_cleanup`) when dropped.
//! - [`Encoder`] owns an `x264_t` and closes it (`x264_encoder_close`) when
//!   dropped. It remembers the picture size and layout it was opened with,
//!   so [`Encoder::encode`] can check the caller's planes before libx264
//!   reads them.
//! - NAL payloads are copied out before the next call into libx264, which
//!   is when libx264 may reuse their memory.

#![allow(unsafe_code)]

use std::ffi::{c_int, CString};
use std::fmt;
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};
use std::slice;

use x264_sys as sys;

/// What went wrong in a call into libx264. The messages say which call and
/// which value; libx264 itself writes its reasons for refusing to open to
/// stderr (at the error log level this module sets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FfiError {
    /// A name or value contained a NUL byte and cannot reach C.
    Nul(String),
    /// `x264_param_default_preset` did not know the preset or tune.
    Preset { preset: String, tune: String },
    /// `x264_param_parse` refused a key or value.
    Parse {
        name: String,
        value: String,
        code: c_int,
    },
    /// `x264_param_apply_profile` refused the profile for these settings.
    Profile(String),
    /// A size that does not fit C's `int`, or a zero size.
    Size { width: u32, height: u32 },
    /// `x264_encoder_open` returned NULL.
    Open,
    /// `x264_encoder_headers` or `x264_encoder_encode` returned an error.
    Call(&'static str, c_int),
    /// The caller's planes do not match the encoder's input.
    Picture(String),
}

impl fmt::Display for FfiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FfiError::Nul(s) => write!(f, "{s:?} contains a NUL byte"),
            FfiError::Preset { preset, tune } => {
                write!(f, "x264 does not know preset {preset:?} / tune {tune:?}")
            }
            FfiError::Parse { name, value, code } => {
                let why = match *code {
                    sys::X264_PARAM_BAD_NAME => "unknown option",
                    sys::X264_PARAM_BAD_VALUE => "bad value",
                    _ => "refused",
                };
                write!(f, "x264 option {name}={value}: {why} ({code})")
            }
            FfiError::Profile(p) => write!(f, "x264 cannot apply profile {p:?} to these settings"),
            FfiError::Size { width, height } => {
                write!(f, "{width}x{height} is not a picture size x264 can take")
            }
            FfiError::Open => write!(
                f,
                "x264_encoder_open refused the parameters (libx264 logs why on stderr)"
            ),
            FfiError::Call(call, code) => write!(f, "{call} returned {code}"),
            FfiError::Picture(why) => write!(f, "{why}"),
        }
    }
}

fn c_string(s: &str) -> Result<CString, FfiError> {
    CString::new(s).map_err(|_| FfiError::Nul(s.to_string()))
}

/// The input layouts this module hands to libx264 (`X264_CSP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Csp {
    /// Planar 4:2:0: Y, U, V.
    I420,
    /// Semi-planar 4:2:0: Y, interleaved UV.
    Nv12,
}

impl Csp {
    fn raw(self) -> c_int {
        let csp = match self {
            Csp::I420 => sys::X264_CSP_I420,
            Csp::Nv12 => sys::X264_CSP_NV12,
        };
        csp as c_int
    }

    /// For a picture of `width` x `height`: each plane's (bytes of one row,
    /// rows). These are exactly the bytes libx264 reads from a plane.
    fn plane_extents(self, width: usize, height: usize) -> Vec<(usize, usize)> {
        match self {
            Csp::I420 => vec![
                (width, height),
                (width.div_ceil(2), height.div_ceil(2)),
                (width.div_ceil(2), height.div_ceil(2)),
            ],
            Csp::Nv12 => vec![(width, height), (width.div_ceil(2) * 2, height.div_ceil(2))],
        }
    }
}

/// One plane of a picture: its bytes and the distance between row starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlaneRef<'a> {
    pub data: &'a [u8],
    pub stride: usize,
}

/// A picture lent to [`Encoder::encode`]: planes in the order of its
/// [`Csp`] (Y, U, V or Y, UV).
#[derive(Debug, Clone)]
pub(crate) struct Picture<'a> {
    pub csp: Csp,
    pub planes: Vec<PlaneRef<'a>>,
    /// In the caller's time base (passed through to the output untouched).
    pub pts: i64,
    /// Ask libx264 for an IDR picture here.
    pub force_idr: bool,
}

/// One access unit out of libx264.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// All NAL units of the picture, each with its Annex B start code.
    pub data: Vec<u8>,
    pub pts: i64,
    /// Below the first picture's pts for the first pictures of a stream
    /// with B-frames (libx264 subtracts its reorder delay).
    pub dts: i64,
    pub keyframe: bool,
}

/// NAL unit types this crate asks for by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NalType {
    Sps,
    Pps,
    Other,
}

/// An owned `x264_param_t`, always initialized.
pub(crate) struct Params(Box<sys::x264_param_t>);

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Params")
            .field("width", &self.0.i_width)
            .field("height", &self.0.i_height)
            .field("csp", &self.0.i_csp)
            .finish_non_exhaustive()
    }
}

impl Params {
    /// libx264's defaults for `preset` and `tune` (`""` for no tune), with
    /// logging cut down to errors.
    pub fn with_preset(preset: &str, tune: &str) -> Result<Params, FfiError> {
        let mut raw = Box::new(MaybeUninit::<sys::x264_param_t>::uninit());
        // SAFETY: `raw` points to writable memory of the size and alignment
        // of an x264_param_t; x264_param_default writes every field (it
        // starts with a memset of the whole struct) and keeps no pointer.
        unsafe { sys::x264_param_default(raw.as_mut_ptr()) };
        // SAFETY: x264_param_default has just initialized the whole struct;
        // Box<MaybeUninit<T>> and Box<T> have the same layout.
        let raw = unsafe { Box::from_raw(Box::into_raw(raw).cast::<sys::x264_param_t>()) };
        let mut params = Params(raw);

        let c_preset = c_string(preset)?;
        let c_tune = c_string(tune)?;
        let tune_ptr = if tune.is_empty() {
            ptr::null()
        } else {
            c_tune.as_ptr()
        };
        // SAFETY: `params.0` is an initialized x264_param_t; the preset and
        // tune pointers are NUL-terminated strings (or NULL for no tune)
        // that live until the call returns; libx264 keeps no pointer to
        // them (it compares them against its own tables).
        let rc =
            unsafe { sys::x264_param_default_preset(&mut *params.0, c_preset.as_ptr(), tune_ptr) };
        params.0.i_log_level = sys::X264_LOG_ERROR as c_int;
        if rc < 0 {
            return Err(FfiError::Preset {
                preset: preset.to_string(),
                tune: tune.to_string(),
            });
        }
        Ok(params)
    }

    /// One option by its x264 command-line name (`x264_param_parse`).
    pub fn parse(&mut self, name: &str, value: &str) -> Result<(), FfiError> {
        let c_name = c_string(name)?;
        let c_value = c_string(value)?;
        // SAFETY: `self.0` is an initialized x264_param_t; both strings are
        // NUL-terminated and outlive the call. Whatever libx264 allocates
        // for string options it records in the struct, and Drop frees it
        // with x264_param_cleanup.
        let rc = unsafe { sys::x264_param_parse(&mut *self.0, c_name.as_ptr(), c_value.as_ptr()) };
        if rc != 0 {
            return Err(FfiError::Parse {
                name: name.to_string(),
                value: value.to_string(),
                code: rc,
            });
        }
        Ok(())
    }

    /// The input picture size and layout. x264_param_parse has no keys
    /// for these (the x264 CLI takes them from its input file).
    pub fn set_picture(&mut self, width: u32, height: u32, csp: Csp) -> Result<(), FfiError> {
        let (Ok(w), Ok(h)) = (c_int::try_from(width), c_int::try_from(height)) else {
            return Err(FfiError::Size { width, height });
        };
        if w <= 0 || h <= 0 {
            return Err(FfiError::Size { width, height });
        }
        self.0.i_width = w;
        self.0.i_height = h;
        self.0.i_csp = csp.raw();
        Ok(())
    }

    /// Restrict the settings to an H.264 profile (`x264_param_apply_profile`).
    pub fn apply_profile(&mut self, profile: &str) -> Result<(), FfiError> {
        let c_profile = c_string(profile)?;
        // SAFETY: `self.0` is an initialized x264_param_t; the profile name
        // is NUL-terminated and outlives the call; libx264 keeps no pointer.
        let rc = unsafe { sys::x264_param_apply_profile(&mut *self.0, c_profile.as_ptr()) };
        if rc < 0 {
            return Err(FfiError::Profile(profile.to_string()));
        }
        Ok(())
    }
}

impl Drop for Params {
    fn drop(&mut self) {
        // SAFETY: `self.0` is an initialized x264_param_t whose allocated
        // members (if any) came from libx264 itself; x264_param_cleanup
        // frees exactly those and does not free the struct. It is called
        // once, here.
        unsafe { sys::x264_param_cleanup(&mut *self.0) };
    }
}

/// An open libx264 encoder. Closed when dropped.
pub(crate) struct Encoder {
    raw: NonNull<sys::x264_t>,
    width: usize,
    height: usize,
    csp: Csp,
}

// SAFETY: an x264_t is not tied to the thread that opened it (libx264 keeps
// no thread-local state for it; its own worker threads are joined by
// x264_encoder_close). Every call that uses it takes `&mut self`, so two
// threads never call into the same encoder at once.
unsafe impl Send for Encoder {}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("csp", &self.csp)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// Opens an encoder with `params`. libx264 copies what it needs, so
    /// `params` may be dropped afterwards.
    pub fn open(params: &mut Params, csp: Csp) -> Result<Encoder, FfiError> {
        // The checks in `picture_in` rely on these being what libx264 reads:
        // the size, the layout, and 8-bit samples.
        let (width, height) = (params.0.i_width, params.0.i_height);
        if params.0.i_csp != csp.raw() || params.0.i_bitdepth != 8 || width <= 0 || height <= 0 {
            return Err(FfiError::Picture(format!(
                "the parameters are for csp {} at {width}x{height}, {} bits, not 8-bit {csp:?}",
                params.0.i_csp, params.0.i_bitdepth
            )));
        }
        // SAFETY: `params.0` is an initialized x264_param_t. libx264
        // validates it and copies it (duplicating its strings) into the new
        // encoder, keeping no pointer to ours; it returns NULL on failure.
        let raw = unsafe { sys::x264_encoder_open(&mut *params.0) };
        let raw = NonNull::new(raw).ok_or(FfiError::Open)?;
        Ok(Encoder {
            raw,
            // Both checked positive above.
            width: width as usize,
            height: height as usize,
            csp,
        })
    }

    /// The stream headers libx264 will use (`x264_encoder_headers`): SPS,
    /// PPS and its version SEI, as (type, bytes with start code).
    pub fn headers(&mut self) -> Result<Vec<(NalType, Vec<u8>)>, FfiError> {
        let mut nals: *mut sys::x264_nal_t = ptr::null_mut();
        let mut count: c_int = 0;
        // SAFETY: `self.raw` is an open encoder; the two out-pointers are
        // valid locals. libx264 points `nals` at `count` NAL descriptors in
        // its own memory, valid until the next call on this encoder.
        let rc = unsafe { sys::x264_encoder_headers(self.raw.as_ptr(), &mut nals, &mut count) };
        if rc < 0 {
            return Err(FfiError::Call("x264_encoder_headers", rc));
        }
        // SAFETY: on success `nals`/`count` describe libx264's NAL array,
        // which stays valid until the next call on this encoder; `&mut
        // self` rules that out while the copies are made.
        Ok(unsafe { copy_nals(nals, count) })
    }

    /// Sends one picture (or `None` to drain a delayed picture) and returns
    /// the access unit libx264 finished, if any.
    pub fn encode(&mut self, picture: Option<&Picture<'_>>) -> Result<Option<Frame>, FfiError> {
        let mut pic_in = match picture {
            Some(p) => Some(self.picture_in(p)?),
            None => None,
        };
        let pic_in_ptr = pic_in
            .as_mut()
            .map_or(ptr::null_mut(), |p| p as *mut sys::x264_picture_t);
        let mut pic_out = new_picture();
        let mut nals: *mut sys::x264_nal_t = ptr::null_mut();
        let mut count: c_int = 0;
        // SAFETY: `self.raw` is an open encoder. `pic_in_ptr` is NULL (drain)
        // or an initialized picture whose planes `picture_in` checked to be
        // live slices covering every byte libx264 reads for this encoder's
        // size and layout; the slices outlive this call and libx264 copies
        // the picture into its own frame before returning, keeping no
        // pointer to them. libx264 only reads the planes, although the
        // struct field is `*mut`. `pic_out` and the out-pointers are valid
        // locals.
        let size = unsafe {
            sys::x264_encoder_encode(
                self.raw.as_ptr(),
                &mut nals,
                &mut count,
                pic_in_ptr,
                &mut pic_out,
            )
        };
        if size < 0 {
            return Err(FfiError::Call("x264_encoder_encode", size));
        }
        if size == 0 {
            return Ok(None);
        }
        // SAFETY: as in `headers`: libx264's NAL array for this call, valid
        // until the next call on this encoder, which `&mut self` excludes.
        let nals = unsafe { copy_nals(nals, count) };
        let mut data = Vec::with_capacity(size as usize);
        for (_, bytes) in &nals {
            data.extend_from_slice(bytes);
        }
        Ok(Some(Frame {
            data,
            pts: pic_out.i_pts,
            dts: pic_out.i_dts,
            keyframe: pic_out.b_keyframe != 0,
        }))
    }

    /// Pictures libx264 holds for reordering, lookahead or frame threads.
    pub fn delayed_frames(&self) -> usize {
        // SAFETY: `self.raw` is an open encoder; the call only reads its
        // counters.
        let n = unsafe { sys::x264_encoder_delayed_frames(self.raw.as_ptr()) };
        usize::try_from(n).unwrap_or(0)
    }

    /// The most pictures libx264 can hold back with these settings.
    pub fn maximum_delayed_frames(&self) -> usize {
        // SAFETY: `self.raw` is an open encoder; the call only reads its
        // parameters.
        let n = unsafe { sys::x264_encoder_maximum_delayed_frames(self.raw.as_ptr()) };
        usize::try_from(n).unwrap_or(0)
    }

    /// An x264_picture_t pointing into `p`'s planes, after checking that
    /// every byte libx264 will read lies inside them.
    fn picture_in(&self, p: &Picture<'_>) -> Result<sys::x264_picture_t, FfiError> {
        if p.csp != self.csp {
            return Err(FfiError::Picture(format!(
                "a {:?} picture sent to a {:?} encoder",
                p.csp, self.csp
            )));
        }
        let extents = self.csp.plane_extents(self.width, self.height);
        if p.planes.len() != extents.len() {
            return Err(FfiError::Picture(format!(
                "{} planes given, {:?} has {}",
                p.planes.len(),
                self.csp,
                extents.len()
            )));
        }
        let mut pic = new_picture();
        pic.i_pts = p.pts;
        pic.i_type = if p.force_idr {
            sys::X264_TYPE_IDR as c_int
        } else {
            sys::X264_TYPE_AUTO as c_int
        };
        pic.img.i_csp = self.csp.raw();
        pic.img.i_plane = extents.len() as c_int;
        for (i, (plane, (row_bytes, rows))) in p.planes.iter().zip(extents).enumerate() {
            let needed = if rows == 0 {
                Some(0)
            } else {
                plane
                    .stride
                    .checked_mul(rows - 1)
                    .and_then(|n| n.checked_add(row_bytes))
            }
            .ok_or_else(|| FfiError::Picture(format!("plane {i}: stride overflows")))?;
            if plane.stride < row_bytes || plane.data.len() < needed {
                return Err(FfiError::Picture(format!(
                    "plane {i}: {} bytes at stride {}, but {rows} rows of {row_bytes} bytes need {needed}",
                    plane.data.len(),
                    plane.stride
                )));
            }
            pic.img.i_stride[i] = c_int::try_from(plane.stride)
                .map_err(|_| FfiError::Picture(format!("plane {i}: stride too large")))?;
            // libx264 only reads input planes; the field is `*mut` in C.
            pic.img.plane[i] = plane.data.as_ptr().cast_mut();
        }
        Ok(pic)
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: `self.raw` came from x264_encoder_open and is closed
        // exactly once, here; nothing uses it afterwards. libx264 frees
        // frames it still holds (delayed pictures are discarded).
        unsafe { sys::x264_encoder_close(self.raw.as_ptr()) };
    }
}

/// A picture with libx264's defaults (`x264_picture_init`): no planes, auto
/// type, no properties.
fn new_picture() -> sys::x264_picture_t {
    let mut pic = MaybeUninit::<sys::x264_picture_t>::uninit();
    // SAFETY: `pic` is writable memory of the size and alignment of an
    // x264_picture_t; x264_picture_init writes every field (memset, then
    // defaults) and keeps no pointer.
    unsafe { sys::x264_picture_init(pic.as_mut_ptr()) };
    // SAFETY: fully initialized by x264_picture_init just above.
    unsafe { pic.assume_init() }
}

/// Copies `count` NAL units' payloads out of libx264's memory.
///
/// # Safety
///
/// `nals` must point to `count` initialized `x264_nal_t` (or `count` must be
/// zero or negative), each `p_payload` pointing to `i_payload` readable
/// bytes, all valid for the duration of this call: libx264's output of the
/// last `x264_encoder_encode` or `x264_encoder_headers` on an encoder that
/// is not used concurrently.
unsafe fn copy_nals(nals: *const sys::x264_nal_t, count: c_int) -> Vec<(NalType, Vec<u8>)> {
    let count = usize::try_from(count).unwrap_or(0);
    if count == 0 || nals.is_null() {
        return Vec::new();
    }
    // SAFETY: the caller guarantees `count` initialized descriptors at
    // `nals`, valid during this call.
    let descriptors = unsafe { slice::from_raw_parts(nals, count) };
    descriptors
        .iter()
        .map(|nal| {
            let kind = match nal.i_type as u32 {
                sys::nal_unit_type_e_NAL_SPS => NalType::Sps,
                sys::nal_unit_type_e_NAL_PPS => NalType::Pps,
                _ => NalType::Other,
            };
            let len = usize::try_from(nal.i_payload).unwrap_or(0);
            let bytes = if len == 0 || nal.p_payload.is_null() {
                Vec::new()
            } else {
                // SAFETY: the caller guarantees `i_payload` readable bytes
                // at `p_payload`, valid during this call; they are copied
                // before it returns.
                unsafe { slice::from_raw_parts(nal.p_payload, len) }.to_vec()
            };
            (kind, bytes)
        })
        .collect()
}
