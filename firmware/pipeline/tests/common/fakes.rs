//! Stand-in encoders: a video "encoder" that emits one small access unit
//! per picture and an audio one that emits one ADTS header per chunk (and
//! can tell whether it heard anything but silence).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use makara_encode::{AudioEncoder, EncodeError, RawAudio, RawPicture, VideoEncoder};
use makara_media::{EncodedAudio, EncodedVideo};
use makara_pipeline::Codecs;

/// Emits one small "access unit" per picture, a keyframe every `gop`.
pub struct FakeVideo {
    pub gop: u32,
    pub count: u32,
    pub out: Option<EncodedVideo>,
}

impl VideoEncoder for FakeVideo {
    fn send_picture(&mut self, picture: Option<RawPicture<'_>>) -> Result<(), EncodeError> {
        if let Some(p) = picture {
            assert_eq!(p.data.len(), p.format.frame_len());
            let keyframe = self.count.is_multiple_of(self.gop);
            let mut data = vec![0, 0, 0, 1, 0x09, 0xF0];
            data.extend_from_slice(&self.count.to_be_bytes());
            data.resize(4000, 0xAB);
            self.out = Some(EncodedVideo {
                data,
                pts: p.pts,
                dts: p.pts,
                keyframe,
            });
            self.count += 1;
        }
        Ok(())
    }

    fn receive(&mut self) -> Result<Option<EncodedVideo>, EncodeError> {
        Ok(self.out.take())
    }

    fn headers(&mut self) -> Result<Vec<u8>, EncodeError> {
        Ok(Vec::new())
    }
}

/// Emits one ADTS header per chunk of samples.
pub struct FakeAudio {
    pub out: Option<EncodedAudio>,
}

impl AudioEncoder for FakeAudio {
    fn send_samples(&mut self, audio: Option<RawAudio<'_>>) -> Result<(), EncodeError> {
        if let Some(a) = audio {
            self.out = Some(EncodedAudio {
                data: vec![0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC],
                pts: a.pts,
            });
        }
        Ok(())
    }

    fn receive(&mut self) -> Result<Option<EncodedAudio>, EncodeError> {
        Ok(self.out.take())
    }

    fn frame_samples(&self) -> usize {
        1024
    }
}

/// A `FakeAudio` that says whether any sample it was given was not
/// silence.
pub struct ListeningAudio {
    inner: FakeAudio,
    heard: Arc<AtomicBool>,
}

impl ListeningAudio {
    /// Sets `heard` once a sample is not silence.
    pub fn new(heard: Arc<AtomicBool>) -> ListeningAudio {
        ListeningAudio {
            inner: FakeAudio { out: None },
            heard,
        }
    }
}

impl AudioEncoder for ListeningAudio {
    fn send_samples(&mut self, audio: Option<RawAudio<'_>>) -> Result<(), EncodeError> {
        if audio
            .as_ref()
            .is_some_and(|a| a.samples.iter().any(|&s| s != 0))
        {
            self.heard.store(true, Ordering::Relaxed);
        }
        self.inner.send_samples(audio)
    }

    fn receive(&mut self) -> Result<Option<EncodedAudio>, EncodeError> {
        self.inner.receive()
    }

    fn frame_samples(&self) -> usize {
        self.inner.frame_samples()
    }
}

/// The stand-ins, the test pattern, and no network decoder.
pub fn codecs() -> Codecs {
    Codecs {
        video: Box::new(|s| {
            Ok(Box::new(FakeVideo {
                gop: s.gop_frames,
                count: 0,
                out: None,
            }))
        }),
        audio: Box::new(|_| Ok(Box::new(FakeAudio { out: None }))),
        hardware: Box::new(|_| Err("the fakes have no hardware".into())),
        devices: std::sync::Arc::new(makara_capture::NoCaptureDevices),
        network: None,
    }
}
