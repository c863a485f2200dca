// A fake libDeckLinkAPI.so for the tests: the SDK 10.9.12 entry point the
// shim looks up, over the interfaces enumeration and capture use, compiled
// against the same vendored headers as the shim so the vtables match.
//
// Built by the tests (tests/common/mod.rs) in variants chosen by macros:
// - (none): two devices. "DeckLink Duo 2" has an SDI input, format
//   detection, the modes of kModes and an IDeckLinkInput that captures
//   (below); "DeckLink Mini Monitor" is output-only.
// - FAKE_NO_DEVICES: an iterator that yields nothing (the library of a
//   machine without a card).
// - FAKE_NULL_ITERATOR: the entry point returns NULL.
//
// Capture. StartStreams starts a delivery thread that calls the client's
// VideoInputFrameArrived in real time at the enabled mode's rate: frame i
// of a stream is due at start + i * duration / scale on the steady clock,
// and is never early (a late frame is delivered late, none is dropped).
// Frames carry moving colour bars (UYVY '2vuy' or 'v210'), a timecode and,
// with audio enabled, a packet with exactly the samples of the frame's
// duration at 48 kHz. Two environment variables, read by StartStreams from
// stopped, script the signal (frame numbers count the frames of that
// stream, from 0, whatever their mode):
// - MAKARA_FAKE_DECKLINK_NO_SIGNAL=FIRST:COUNT: frames FIRST..FIRST+COUNT-1
//   are flagged bmdFrameHasNoInputSource, black, without timecode and with
//   no audio packet (NULL). They keep coming at the mode's rate, as from a
//   card with its cable pulled.
// - MAKARA_FAKE_DECKLINK_FORMAT_CHANGE=FRAME:MODENAME (a name of kModes):
//   when the input was enabled with bmdVideoInputEnableFormatDetection, at
//   frame FRAME the source switches to MODENAME: the client gets
//   VideoInputFormatChanged instead of the frame, and no frame comes until
//   it enables the new mode (EnableVideoInput, and StartStreams if it
//   paused); frame FRAME is then the first of the new mode. Enabling
//   another mode afterwards reports the change again. It happens once per
//   process.
// A malformed value makes StartStreams fail with E_INVALIDARG and a line on
// stderr, so that a test's typo does not pass for a clean run.
//
// Threading. The client may call PauseStreams, EnableVideoInput,
// FlushStreams, StartStreams and StopStreams from inside its callbacks, on
// the delivery thread (the SDK's own order for following a format change).
// The input's mutex is never held while a callback runs, and a call made
// on the delivery thread never waits for that thread: it only changes the
// state, which the loop reads again when the callback returns (pause or
// stop: the loop ends; started again: it goes on in the enabled mode).
// Called from any other thread, PauseStreams and StopStreams end the loop
// and join the thread, so that when they return no callback is running or
// will run. The state lives in a shared object the thread co-owns, so even
// an input released from inside its own callback is not used after free.
//
// Refusals: EnableVideoInput takes the modes of kModes in '2vuy' or 'v210',
// with or without format detection (else E_INVALIDARG); EnableAudioInput
// takes 48 kHz, 16 or 32 bits, 2, 8 or 16 channels (else E_INVALIDARG);
// StartStreams without video enabled or without a callback fails with
// E_ACCESSDENIED (what a card answers there is not verified).
// Not implemented: GetAncillaryData answers E_NOTIMPL (no VANC).
//
// A client's frame memory (SetVideoInputFrameMemoryAllocator), so that
// frames are captured straight into its buffers. The vendored headers say
// nothing of when the calls come or what a refusal answers (the SDK manual
// is not vendored), so this is the fake's choice, unverified on a card:
// - SetVideoInputFrameMemoryAllocator(allocator) only while video input is
//   disabled, else E_ACCESSDENIED and nothing changes. It AddRefs the new
//   one and Releases the old; NULL goes back to the fake's own memory.
// - Commit: in EnableVideoInput from disabled (not when another mode is
//   enabled over an enabled one, as after a format change), on the calling
//   thread, before the mode takes effect. If it fails, EnableVideoInput
//   answers its HRESULT and video stays disabled.
// - AllocateBuffer(rowBytes * height of the enabled mode and format): on
//   the delivery thread, once per frame, before the picture is written
//   into that buffer. A failure (not S_OK, or S_OK with NULL) drops the
//   frame: no callback, its frame number and stream time pass as for a
//   card that had no buffer, the next frame is asked for as usual; the
//   drops are counted (makara_fake_decklink_dropped_frames(), exported,
//   not part of the SDK). After a format change the new mode's size is
//   asked for.
// - ReleaseBuffer: when the frame's last reference goes, on the thread
//   that lets it go (the delivery thread after VideoInputFrameArrived
//   returns, or the client's, for a frame it AddRef'd and kept). The frame
//   holds a reference to its allocator until then, so this may come after
//   StopStreams, DisableVideoInput, Decommit, a new allocator or the
//   input's release.
// - Decommit: in DisableVideoInput with video enabled, or when the input
//   is released with video enabled, on the calling thread, after any
//   AllocateBuffer in progress has returned (the input's lock not held);
//   no AllocateBuffer comes after it until the next Commit. Commit and
//   Decommit thus come once each per enable/disable.
// The allocator's methods are called without the input's lock held, but
// Commit and Decommit must not call EnableVideoInput, DisableVideoInput
// or SetVideoInputFrameMemoryAllocator (they would wait for themselves).
//
// Every object is counted: makara_fake_decklink_live_objects() (exported,
// not part of the SDK) lets a test check that it released all it was given.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "DeckLinkAPI.h"

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<long> g_live_objects{0};
std::atomic<long> g_dropped_frames{0};

bool same_iid(REFIID a, REFIID b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Runs a method body that may throw (allocation, threads): nothing unwinds
// into the client.
template <typename Body> HRESULT guarded(Body body) {
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return E_OUTOFMEMORY;
    } catch (...) {
        return E_FAIL;
    }
}

// Reference counting shared by every fake object.
template <typename Base> class Counted : public Base {
  public:
    Counted() { ++g_live_objects; }
    ULONG AddRef() override { return ++refs_; }
    ULONG Release() override {
        ULONG left = --refs_;
        if (left == 0) {
            delete this;
        }
        return left;
    }

  protected:
    virtual ~Counted() { --g_live_objects; }

    // QueryInterface for an object that answers only its own interface.
    HRESULT answer_if(REFIID asked, REFIID own, LPVOID *ppv) {
        if (ppv == nullptr) {
            return E_POINTER;
        }
        if (same_iid(asked, own) || same_iid(asked, IID_IUnknown)) {
            AddRef();
            *ppv = static_cast<Base *>(this);
            return S_OK;
        }
        *ppv = nullptr;
        return E_NOINTERFACE;
    }

  private:
    std::atomic<ULONG> refs_{1};
};

struct ModeSpec {
    const char *name;
    BMDDisplayMode code;
    long width;
    long height;
    BMDTimeValue duration;
    BMDTimeScale scale;
    BMDFieldDominance dominance;
    BMDDisplayModeFlags flags;
};

// NTSC stays first (tests/enumerate.rs lists them in this order). PAL is
// the small mode for capture tests: SD frames, an integer rate, and a
// different field order and size from NTSC for the format change.
const ModeSpec kModes[] = {
    {"NTSC", bmdModeNTSC, 720, 486, 1001, 30000, bmdLowerFieldFirst,
     bmdDisplayModeColorspaceRec601},
    {"1080i50", bmdModeHD1080i50, 1920, 1080, 1000, 25000, bmdUpperFieldFirst,
     bmdDisplayModeColorspaceRec709},
    {"1080p59.94", bmdModeHD1080p5994, 1920, 1080, 1001, 60000, bmdProgressiveFrame,
     bmdDisplayModeColorspaceRec709},
    {"PAL", bmdModePAL, 720, 576, 1000, 25000, bmdUpperFieldFirst,
     bmdDisplayModeColorspaceRec601},
    {"720p50", bmdModeHD720p50, 1280, 720, 1000, 50000, bmdProgressiveFrame,
     bmdDisplayModeColorspaceRec709},
};

const ModeSpec *mode_by_code(BMDDisplayMode code) {
    for (const ModeSpec &mode : kModes) {
        if (mode.code == code) {
            return &mode;
        }
    }
    return nullptr;
}

const ModeSpec *mode_by_name(const std::string &name) {
    for (const ModeSpec &mode : kModes) {
        if (name == mode.name) {
            return &mode;
        }
    }
    return nullptr;
}

// The rate timecode counts at: 30 for 29.97, 60 for 59.94.
int nominal_rate(const ModeSpec &mode) {
    return static_cast<int>((mode.scale + mode.duration / 2) / mode.duration);
}

// value * to / from, rounded down, without overflow for hours of stream at
// any scale a client asks for (value / from is small, the rest below from).
int64_t rescale(int64_t value, int64_t from, int64_t to) {
    return value / from * to + value % from * to / from;
}

const int64_t kNanosPerSecond = 1000000000;
const int64_t kAudioRate = 48000;

// When the frame with this stream frame number is due, counted from the
// stream's start.
Clock::duration frame_offset(const ModeSpec &mode, int64_t stream_frame) {
    return std::chrono::nanoseconds(
        rescale(stream_frame * mode.duration, mode.scale, kNanosPerSecond));
}

// The first sample of a frame: samples are counted on the stream's time
// line, so frame lengths add up exactly (1601, 1602, 1601, 1602, 1602 for
// 29.97).
int64_t first_sample_of(const ModeSpec &mode, int64_t stream_frame) {
    return rescale(stream_frame * mode.duration, mode.scale, kAudioRate);
}

// Strings the SDK hands out are the caller's to free().
HRESULT give(const char *text, const char **out) {
    if (out == nullptr) {
        return E_POINTER;
    }
    *out = strdup(text);
    return *out != nullptr ? S_OK : E_OUTOFMEMORY;
}

class DisplayMode : public Counted<IDeckLinkDisplayMode> {
  public:
    explicit DisplayMode(const ModeSpec &spec) : spec_(spec) {}
    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        return answer_if(iid, IID_IDeckLinkDisplayMode, ppv);
    }
    HRESULT GetName(const char **name) override { return give(spec_.name, name); }
    BMDDisplayMode GetDisplayMode() override { return spec_.code; }
    long GetWidth() override { return spec_.width; }
    long GetHeight() override { return spec_.height; }
    HRESULT GetFrameRate(BMDTimeValue *duration, BMDTimeScale *scale) override {
        *duration = spec_.duration;
        *scale = spec_.scale;
        return S_OK;
    }
    BMDFieldDominance GetFieldDominance() override { return spec_.dominance; }
    BMDDisplayModeFlags GetFlags() override { return spec_.flags; }

  private:
    ModeSpec spec_;
};

class DisplayModeIterator : public Counted<IDeckLinkDisplayModeIterator> {
  public:
    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        return answer_if(iid, IID_IDeckLinkDisplayModeIterator, ppv);
    }
    HRESULT Next(IDeckLinkDisplayMode **mode) override {
        *mode = nullptr;
        if (next_ >= sizeof kModes / sizeof kModes[0]) {
            return S_FALSE;
        }
        return guarded([&] {
            *mode = new DisplayMode(kModes[next_]);
            ++next_;
            return S_OK;
        });
    }

  private:
    size_t next_ = 0;
};

// ---- Pictures ----

// A pixel in 10-bit Y'CbCr.
struct Yuv10 {
    uint32_t y;
    uint32_t cb;
    uint32_t cr;
};

// 75% colour bars (BT.601 8-bit values, scaled to 10 bits).
const Yuv10 kBars[] = {
    {180 << 2, 128 << 2, 128 << 2}, {162 << 2, 44 << 2, 142 << 2},
    {131 << 2, 156 << 2, 44 << 2},  {112 << 2, 72 << 2, 58 << 2},
    {84 << 2, 184 << 2, 198 << 2},  {65 << 2, 100 << 2, 212 << 2},
    {35 << 2, 212 << 2, 114 << 2},  {16 << 2, 128 << 2, 128 << 2},
};
const Yuv10 kBlack = {64, 512, 512};

// Both formats pack whole groups of six pixels: 12 bytes of UYVY, 16 of v210.
const long kGroup = 6;

long group_bytes(BMDPixelFormat format) { return format == bmdFormat10BitYUV ? 16 : 12; }

long row_bytes_of(BMDPixelFormat format, long width) {
    return format == bmdFormat10BitYUV ? (width + 47) / 48 * 128 : width * 2;
}

void put_le32(uint8_t *out, uint32_t word) {
    out[0] = static_cast<uint8_t>(word);
    out[1] = static_cast<uint8_t>(word >> 8);
    out[2] = static_cast<uint8_t>(word >> 16);
    out[3] = static_cast<uint8_t>(word >> 24);
}

// Packs six pixels; chroma is taken from the first pixel of each pair.
void pack_group(BMDPixelFormat format, const Yuv10 *p, uint8_t *out) {
    if (format == bmdFormat10BitYUV) {
        put_le32(out, p[0].cb | p[0].y << 10 | p[0].cr << 20);
        put_le32(out + 4, p[1].y | p[2].cb << 10 | p[2].y << 20);
        put_le32(out + 8, p[2].cr | p[3].y << 10 | p[4].cb << 20);
        put_le32(out + 12, p[4].y | p[4].cr << 10 | p[5].y << 20);
        return;
    }
    for (long pair = 0; pair < kGroup; pair += 2) {
        *out++ = static_cast<uint8_t>(p[pair].cb >> 2);
        *out++ = static_cast<uint8_t>(p[pair].y >> 2);
        *out++ = static_cast<uint8_t>(p[pair].cr >> 2);
        *out++ = static_cast<uint8_t>(p[pair + 1].y >> 2);
    }
}

std::vector<uint8_t> pack_row(BMDPixelFormat format, const std::vector<Yuv10> &pixels) {
    std::vector<uint8_t> bytes(pixels.size() / kGroup * group_bytes(format));
    for (size_t g = 0; g * kGroup < pixels.size(); ++g) {
        pack_group(format, &pixels[g * kGroup], &bytes[g * group_bytes(format)]);
    }
    return bytes;
}

// The rows of one mode and pixel format, packed once: a frame is a copy of
// a window into a wide row of bars, the window moving six pixels a frame
// (one packing group, so the copy stays aligned in both formats).
class Raster {
  public:
    Raster(const ModeSpec &mode, BMDPixelFormat format)
        : mode_(&mode), format_(format), row_bytes_(row_bytes_of(format, mode.width)) {
        // Bars a whole number of groups wide, so the pattern repeats on a
        // group boundary.
        bar_width_ = kGroup * ((mode.width + 8 * kGroup - 1) / (8 * kGroup));
        long padded = (mode.width + 47) / 48 * 48;
        std::vector<Yuv10> pixels(8 * bar_width_ + padded);
        for (size_t x = 0; x < pixels.size(); ++x) {
            pixels[x] = kBars[x / bar_width_ % 8];
        }
        bars_ = pack_row(format, pixels);
        black_ = pack_row(format, std::vector<Yuv10>(padded, kBlack));
    }
    // One of kModes: the identity tells whether the raster fits a frame.
    const ModeSpec &mode() const { return *mode_; }
    BMDPixelFormat format() const { return format_; }
    long row_bytes() const { return row_bytes_; }

    void paint(int64_t frame, bool black, uint8_t *out) const {
        const uint8_t *row = black_.data();
        if (!black) {
            int64_t groups = 8 * bar_width_ / kGroup;
            row = bars_.data() + frame % groups * group_bytes(format_);
        }
        for (long y = 0; y < mode_->height; ++y) {
            std::memcpy(out + y * row_bytes_, row, row_bytes_);
        }
    }

  private:
    const ModeSpec *mode_;
    BMDPixelFormat format_;
    long row_bytes_;
    long bar_width_;
    std::vector<uint8_t> bars_;
    std::vector<uint8_t> black_;
};

// ---- Sound ----

const double kPi = 3.14159265358979323846;

// One turn of a sine in 48000 steps: with whole-hertz tones the phase of
// sample n is (n * hz) % 48000 exactly, however long the stream runs.
const std::vector<double> &sine_table() {
    static const std::vector<double> table = [] {
        std::vector<double> t(kAudioRate);
        for (int64_t i = 0; i < kAudioRate; ++i) {
            t[i] = std::sin(2.0 * kPi * static_cast<double>(i) / kAudioRate);
        }
        return t;
    }();
    return table;
}

// 1 kHz on the stereo pair, then 100 Hz more per channel, so that a test
// can tell every channel apart.
int64_t tone_hz(uint32_t channel) { return channel < 2 ? 1000 : 1000 + 100 * channel; }

const double kToneLevel = 0.1; // peak, -20 dBFS

class AudioPacket : public Counted<IDeckLinkAudioInputPacket> {
  public:
    AudioPacket(int64_t first_sample, long count, uint32_t channels, BMDAudioSampleType type)
        : first_sample_(first_sample), count_(count),
          bytes_(static_cast<size_t>(count) * channels * (type / 8)) {
        const std::vector<double> &sine = sine_table();
        for (long n = 0; n < count; ++n) {
            for (uint32_t c = 0; c < channels; ++c) {
                double v = kToneLevel * sine[(first_sample + n) * tone_hz(c) % kAudioRate];
                size_t at = static_cast<size_t>(n) * channels + c;
                if (type == bmdAudioSampleType16bitInteger) {
                    int16_t s = static_cast<int16_t>(std::lround(v * INT16_MAX));
                    std::memcpy(&bytes_[at * 2], &s, 2);
                } else {
                    int32_t s = static_cast<int32_t>(std::lround(v * INT32_MAX));
                    std::memcpy(&bytes_[at * 4], &s, 4);
                }
            }
        }
    }
    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        return answer_if(iid, IID_IDeckLinkAudioInputPacket, ppv);
    }
    long GetSampleFrameCount() override { return count_; }
    HRESULT GetBytes(void **buffer) override {
        *buffer = bytes_.data();
        return S_OK;
    }
    HRESULT GetPacketTime(BMDTimeValue *packet_time, BMDTimeScale scale) override {
        if (scale <= 0) {
            return E_INVALIDARG;
        }
        *packet_time = rescale(first_sample_, kAudioRate, scale);
        return S_OK;
    }

  private:
    int64_t first_sample_;
    long count_;
    std::vector<uint8_t> bytes_;
};

// ---- Frames ----

uint8_t bcd(unsigned value) { return static_cast<uint8_t>(value / 10 << 4 | value % 10); }

// Non-drop-frame HH:MM:SS:FF counting frames at the nominal rate (frames
// 0..59 at 59.94, where RP188 on a card counts frame pairs with the field
// mark: not modelled).
class Timecode : public Counted<IDeckLinkTimecode> {
  public:
    Timecode(int64_t frame, int rate)
        : frames_(static_cast<uint8_t>(frame % rate)),
          seconds_(static_cast<uint8_t>(frame / rate % 60)),
          minutes_(static_cast<uint8_t>(frame / rate / 60 % 60)),
          hours_(static_cast<uint8_t>(frame / rate / 3600 % 24)) {}
    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        return answer_if(iid, IID_IDeckLinkTimecode, ppv);
    }
    BMDTimecodeBCD GetBCD() override {
        return static_cast<BMDTimecodeBCD>(bcd(hours_)) << 24 |
               static_cast<BMDTimecodeBCD>(bcd(minutes_)) << 16 |
               static_cast<BMDTimecodeBCD>(bcd(seconds_)) << 8 | bcd(frames_);
    }
    HRESULT GetComponents(uint8_t *hours, uint8_t *minutes, uint8_t *seconds,
                          uint8_t *frames) override {
        *hours = hours_;
        *minutes = minutes_;
        *seconds = seconds_;
        *frames = frames_;
        return S_OK;
    }
    HRESULT GetString(const char **timecode) override {
        char text[16];
        std::snprintf(text, sizeof text, "%02u:%02u:%02u:%02u", unsigned{hours_},
                      unsigned{minutes_}, unsigned{seconds_}, unsigned{frames_});
        return give(text, timecode);
    }
    BMDTimecodeFlags GetFlags() override { return bmdTimecodeFlagDefault; }
    HRESULT GetTimecodeUserBits(BMDTimecodeUserBits *bits) override {
        *bits = 0;
        return S_OK;
    }

  private:
    uint8_t frames_;
    uint8_t seconds_;
    uint8_t minutes_;
    uint8_t hours_;
};

// What the delivery thread decided about one frame, under the lock.
struct FrameFacts {
    int64_t number = 0;       // frames since StartStreams (the env vars' count)
    int64_t stream_frame = 0; // position on the stream's time line, in this mode's frames
    bool no_signal = false;
    Clock::time_point due;
};

// Hands a buffer back to the client's allocator; nothing unwinds.
void give_back(IDeckLinkMemoryAllocator *allocator, void *buffer) {
    try {
        allocator->ReleaseBuffer(buffer);
    } catch (...) {
        // The client's exception must not end the releasing thread.
    }
}

// The picture lives in the fake's own memory or, with a client's
// allocator, in the buffer AllocateBuffer gave for it: the frame owns that
// buffer and a reference to its allocator, and gives both back when its
// last reference goes, on whichever thread lets it go.
class VideoFrame : public Counted<IDeckLinkVideoInputFrame> {
  public:
    // `buffer` (rowBytes * height bytes from `allocator`), or null and
    // the fake's own memory.
    VideoFrame(const Raster &raster, const FrameFacts &facts,
               IDeckLinkMemoryAllocator *allocator, void *buffer)
        : mode_(raster.mode()), format_(raster.format()), row_bytes_(raster.row_bytes()),
          facts_(facts), allocator_(buffer != nullptr ? allocator : nullptr) {
        if (allocator_ != nullptr) {
            allocator_->AddRef();
            data_ = static_cast<uint8_t *>(buffer);
        } else {
            bytes_.resize(static_cast<size_t>(row_bytes_) * mode_.height);
            data_ = bytes_.data();
        }
        raster.paint(facts.number, facts.no_signal, data_);
    }
    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        if (ppv != nullptr && same_iid(iid, IID_IDeckLinkVideoFrame)) {
            AddRef();
            *ppv = static_cast<IDeckLinkVideoFrame *>(this);
            return S_OK;
        }
        return answer_if(iid, IID_IDeckLinkVideoInputFrame, ppv);
    }
    long GetWidth() override { return mode_.width; }
    long GetHeight() override { return mode_.height; }
    long GetRowBytes() override { return row_bytes_; }
    BMDPixelFormat GetPixelFormat() override { return format_; }
    BMDFrameFlags GetFlags() override {
        return facts_.no_signal ? static_cast<BMDFrameFlags>(bmdFrameHasNoInputSource)
                                : static_cast<BMDFrameFlags>(bmdFrameFlagDefault);
    }
    HRESULT GetBytes(void **buffer) override {
        *buffer = data_;
        return S_OK;
    }
    // The header says RP188Any is the first valid of VITC1, LTC and VITC2:
    // the fake's source carries VITC1 (and analogue-style VITC). Any other
    // format, or no signal: S_FALSE and no timecode.
    HRESULT GetTimecode(BMDTimecodeFormat format, IDeckLinkTimecode **timecode) override {
        if (timecode == nullptr) {
            return E_POINTER;
        }
        *timecode = nullptr;
        bool carried = format == bmdTimecodeRP188Any || format == bmdTimecodeRP188VITC1 ||
                       format == bmdTimecodeVITC;
        if (facts_.no_signal || !carried) {
            return S_FALSE;
        }
        return guarded([&] {
            *timecode = new Timecode(facts_.number, nominal_rate(mode_));
            return S_OK;
        });
    }
    HRESULT GetAncillaryData(IDeckLinkVideoFrameAncillary **ancillary) override {
        *ancillary = nullptr;
        return E_NOTIMPL;
    }
    HRESULT GetStreamTime(BMDTimeValue *time, BMDTimeValue *duration,
                          BMDTimeScale scale) override {
        if (scale <= 0) {
            return E_INVALIDARG;
        }
        *time = rescale(facts_.stream_frame * mode_.duration, mode_.scale, scale);
        *duration = rescale(mode_.duration, mode_.scale, scale);
        return S_OK;
    }
    // The steady clock stands in for the card's clock.
    HRESULT GetHardwareReferenceTimestamp(BMDTimeScale scale, BMDTimeValue *time,
                                          BMDTimeValue *duration) override {
        if (scale <= 0) {
            return E_INVALIDARG;
        }
        int64_t nanos =
            std::chrono::duration_cast<std::chrono::nanoseconds>(facts_.due.time_since_epoch())
                .count();
        *time = rescale(nanos, kNanosPerSecond, scale);
        *duration = rescale(mode_.duration, mode_.scale, scale);
        return S_OK;
    }

  protected:
    ~VideoFrame() override {
        if (allocator_ != nullptr) {
            give_back(allocator_, data_);
            allocator_->Release();
        }
    }

  private:
    ModeSpec mode_;
    BMDPixelFormat format_;
    long row_bytes_;
    FrameFacts facts_;
    IDeckLinkMemoryAllocator *allocator_; // one reference while it holds data_
    std::vector<uint8_t> bytes_;          // the fake's own memory, without one
    uint8_t *data_ = nullptr;
};

// ---- The input ----

enum class Streams { Stopped, Running, Paused };

struct VideoSetup {
    const ModeSpec *mode = nullptr; // null: video disabled
    BMDPixelFormat format = 0;
    BMDVideoInputFlags flags = 0;
    bool detects() const { return (flags & bmdVideoInputEnableFormatDetection) != 0; }
};

struct AudioSetup {
    bool enabled = false;
    BMDAudioSampleType type = 0;
    uint32_t channels = 0;
};

// The signal the environment scripts for one stream.
struct Script {
    int64_t no_signal_first = -1;
    int64_t no_signal_count = 0;
    int64_t change_at = -1;
    const ModeSpec *change_to = nullptr;
};

// The format change happens once per process, whatever the inputs.
std::atomic<bool> g_format_changed{false};

// Splits "A:B" into its two halves; false when there is no colon or a half
// is empty.
bool split_pair(const char *text, std::string *first, std::string *second) {
    std::string all(text);
    size_t colon = all.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == all.size()) {
        return false;
    }
    *first = all.substr(0, colon);
    *second = all.substr(colon + 1);
    return true;
}

bool parse_count(const std::string &text, int64_t *out) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
        text.size() > 15) {
        return false;
    }
    *out = std::stoll(text);
    return true;
}

// Reads the two variables; false (and a line on stderr) when one is set
// but malformed.
bool read_script(Script *script) {
    *script = Script{};
    std::string a;
    std::string b;
    if (const char *value = std::getenv("MAKARA_FAKE_DECKLINK_NO_SIGNAL")) {
        if (!split_pair(value, &a, &b) || !parse_count(a, &script->no_signal_first) ||
            !parse_count(b, &script->no_signal_count)) {
            std::fprintf(stderr,
                         "fake DeckLink: MAKARA_FAKE_DECKLINK_NO_SIGNAL=%s is not FIRST:COUNT\n",
                         value);
            return false;
        }
    }
    if (const char *value = std::getenv("MAKARA_FAKE_DECKLINK_FORMAT_CHANGE")) {
        if (!split_pair(value, &a, &b) || !parse_count(a, &script->change_at) ||
            (script->change_to = mode_by_name(b)) == nullptr) {
            std::fprintf(stderr,
                         "fake DeckLink: MAKARA_FAKE_DECKLINK_FORMAT_CHANGE=%s is not "
                         "FRAME:MODENAME with a mode of the fake\n",
                         value);
            return false;
        }
    }
    return true;
}

// Everything the input's methods and its delivery thread share, under
// `mutex`. The thread owns a reference, so it outlives an input released
// while it runs.
struct InputState {
    std::mutex mutex;
    std::condition_variable wake;
    // Serializes EnableVideoInput, DisableVideoInput,
    // SetVideoInputFrameMemoryAllocator and the input's release, and is
    // held (without `mutex`) while they call Commit or Decommit; taken
    // before `mutex`, never by the delivery thread on its own.
    std::mutex setup;

    VideoSetup video;
    AudioSetup audio;
    IDeckLinkInputCallback *callback = nullptr; // one reference held
    // The client's allocator (one reference held), changed with `setup`
    // and `mutex` both held. Committed exactly while video is enabled.
    IDeckLinkMemoryAllocator *allocator = nullptr;
    bool allocating = false; // the delivery thread is inside AllocateBuffer
    Streams streams = Streams::Stopped;
    Script script;

    Clock::time_point stream_start;
    int64_t frames_sent = 0;   // frames since StartStreams from stopped
    int64_t segment_first = 0; // stream frame the current run of frames began at
    int64_t segment_sent = 0;  // frames of that run
    uint64_t segment = 0;      // bumped when the run restarts (mode or start)

    // Once the source changed, its mode; null while it follows the
    // enabled mode.
    const ModeSpec *source_mode = nullptr;
    bool awaiting_enable = false; // a change was reported, no frames until enabled

    std::thread thread;
    std::thread::id delivery_id;
    uint64_t generation = 0; // bumped to make the running loop end
    bool thread_alive = false;
    bool joining = false;

    bool on_delivery_thread() const { return std::this_thread::get_id() == delivery_id; }

    void start_first_segment() {
        segment_first = 0;
        segment_sent = 0;
        ++segment;
    }

    // Starts a run of frames in the enabled mode at the first frame time
    // of that mode not yet past, so stream time goes on while paused.
    void restart_segment() {
        const ModeSpec &mode = *video.mode;
        int64_t elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              Clock::now() - stream_start)
                              .count();
        long double frames = static_cast<long double>(elapsed) * mode.scale /
                             (static_cast<long double>(mode.duration) * kNanosPerSecond);
        segment_first = static_cast<int64_t>(std::ceil(frames));
        segment_sent = 0;
        ++segment;
    }

    Clock::time_point next_due() const {
        return stream_start + frame_offset(*video.mode, segment_first + segment_sent);
    }

    bool change_is_due() const {
        if (video.mode == nullptr || callback == nullptr || !video.detects() ||
            awaiting_enable) {
            return false;
        }
        if (source_mode != nullptr) {
            return source_mode != video.mode;
        }
        return script.change_to != nullptr && frames_sent >= script.change_at &&
               script.change_to != video.mode && !g_format_changed.load();
    }

    // Frames come when streams run, video is enabled in the source's mode
    // and a client listens.
    bool can_deliver() const {
        return video.mode != nullptr && callback != nullptr && !awaiting_enable &&
               (source_mode == nullptr || source_mode == video.mode);
    }

    bool in_no_signal() const {
        return frames_sent >= script.no_signal_first &&
               frames_sent < script.no_signal_first + script.no_signal_count;
    }
};

// The events a change from `from` to `to` reports.
BMDVideoInputFormatChangedEvents change_events(const ModeSpec &from, const ModeSpec &to) {
    BMDVideoInputFormatChangedEvents events = bmdVideoInputDisplayModeChanged;
    if (from.dominance != to.dominance) {
        events |= bmdVideoInputFieldDominanceChanged;
    }
    if (from.flags != to.flags) {
        events |= bmdVideoInputColorspaceChanged;
    }
    return events;
}

// Calls VideoInputFormatChanged for the scripted (or still unmatched)
// source mode. Entered and left with the lock held; the call itself runs
// unlocked.
void report_format_change(InputState &s, std::unique_lock<std::mutex> &lock) {
    if (s.source_mode == nullptr) {
        if (g_format_changed.exchange(true)) {
            return;
        }
        s.source_mode = s.script.change_to;
    }
    const ModeSpec &to = *s.source_mode;
    BMDVideoInputFormatChangedEvents events = change_events(*s.video.mode, to);
    s.awaiting_enable = true;
    IDeckLinkInputCallback *callback = s.callback;
    callback->AddRef();
    lock.unlock();
    DisplayMode *mode = new DisplayMode(to);
    try {
        callback->VideoInputFormatChanged(events, mode, bmdDetectedVideoInputYCbCr422);
    } catch (...) {
        // A client's exception must not end the delivery thread.
    }
    mode->Release();
    callback->Release();
    lock.lock();
}

// Everything one frame delivery needs once the lock is let go.
struct Delivery {
    FrameFacts facts;
    const ModeSpec *mode = nullptr;
    BMDPixelFormat format = 0;
    AudioSetup audio;
    IDeckLinkInputCallback *callback = nullptr;   // one reference
    IDeckLinkMemoryAllocator *allocator = nullptr; // one reference, or none
};

Delivery take_next_frame(InputState &s, Clock::time_point due) {
    Delivery d;
    d.facts.number = s.frames_sent;
    d.facts.stream_frame = s.segment_first + s.segment_sent;
    d.facts.no_signal = s.in_no_signal();
    d.facts.due = due;
    d.mode = s.video.mode;
    d.format = s.video.format;
    // No packet without a signal: clients must cope with a NULL packet
    // (the SDK passes one whenever it has no audio for the frame), and the
    // harsher case is the one worth testing; a card that sends silence
    // instead is handled by the same client code.
    if (s.audio.enabled && !d.facts.no_signal) {
        d.audio = s.audio;
    }
    d.callback = s.callback;
    d.callback->AddRef();
    if (s.allocator != nullptr) {
        d.allocator = s.allocator;
        d.allocator->AddRef();
        s.allocating = true;
    }
    ++s.frames_sent;
    ++s.segment_sent;
    return d;
}

// Asks the client's allocator for the frame's buffer, unlocked: the buffer
// or null (refused, or S_OK without a buffer).
void *allocate_buffer(const Delivery &d) {
    uint32_t size = static_cast<uint32_t>(row_bytes_of(d.format, d.mode->width) *
                                          d.mode->height);
    void *buffer = nullptr;
    HRESULT result = E_FAIL;
    try {
        result = d.allocator->AllocateBuffer(size, &buffer);
    } catch (...) {
        return nullptr; // whatever it wrote is not a buffer it gave
    }
    return result == S_OK ? buffer : nullptr;
}

// Builds the frame (and packet) and calls the client, unlocked. `buffer`
// is from d.allocator (the frame takes it over, or gives it back if it
// cannot be made), or null for the fake's own memory.
void deliver(const Delivery &d, std::unique_ptr<Raster> &raster, void *buffer) {
    VideoFrame *frame = nullptr;
    try {
        if (!raster || &raster->mode() != d.mode || raster->format() != d.format) {
            raster.reset(new Raster(*d.mode, d.format));
        }
        frame = new VideoFrame(*raster, d.facts, d.allocator, buffer);
    } catch (...) {
        if (buffer != nullptr) {
            give_back(d.allocator, buffer);
        }
        throw;
    }
    AudioPacket *packet = nullptr;
    if (d.audio.enabled) {
        int64_t first = first_sample_of(*d.mode, d.facts.stream_frame);
        long count = static_cast<long>(first_sample_of(*d.mode, d.facts.stream_frame + 1) - first);
        packet = new AudioPacket(first, count, d.audio.channels, d.audio.type);
    }
    try {
        d.callback->VideoInputFrameArrived(frame, packet);
    } catch (...) {
        // A client's exception must not end the delivery thread.
    }
    frame->Release();
    if (packet != nullptr) {
        packet->Release();
    }
}

// The delivery thread: runs while the streams run and no caller has asked
// this generation of the loop to end.
void deliver_frames(std::shared_ptr<InputState> state, uint64_t generation) {
    InputState &s = *state;
    std::unique_lock<std::mutex> lock(s.mutex);
    std::unique_ptr<Raster> raster; // the thread's own: painted unlocked
    auto keeps_running = [&] { return s.generation == generation && s.streams == Streams::Running; };
    try {
        while (keeps_running()) {
            if (!s.can_deliver() && !s.change_is_due()) {
                s.wake.wait(lock);
                continue;
            }
            uint64_t segment = s.segment;
            Clock::time_point due = s.next_due();
            bool interrupted = s.wake.wait_until(
                lock, due, [&] { return !keeps_running() || s.segment != segment; });
            if (interrupted) {
                continue;
            }
            if (s.change_is_due()) {
                report_format_change(s, lock);
                continue;
            }
            if (!s.can_deliver()) {
                continue;
            }
            Delivery d = take_next_frame(s, due);
            lock.unlock();
            void *buffer = nullptr;
            if (d.allocator != nullptr) {
                buffer = allocate_buffer(d);
                lock.lock();
                s.allocating = false;
                s.wake.notify_all();
                lock.unlock();
            }
            if (d.allocator != nullptr && buffer == nullptr) {
                // No buffer: the frame is dropped, as a card drops it, and
                // its time passes; the next one is asked for as usual.
                ++g_dropped_frames;
            } else {
                try {
                    deliver(d, raster, buffer);
                } catch (...) {
                    // Out of memory: the frame is lost, the stream goes on.
                }
            }
            d.callback->Release();
            if (d.allocator != nullptr) {
                d.allocator->Release();
            }
            lock.lock();
        }
    } catch (...) {
        // Nothing may escape a thread; the loop ends as if stopped.
        if (!lock.owns_lock()) {
            lock.lock();
        }
    }
    if (s.generation == generation) {
        s.thread_alive = false;
    }
    s.wake.notify_all();
}

class Input : public Counted<IDeckLinkInput> {
  public:
    Input() : state_(std::make_shared<InputState>()) {}

    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        return answer_if(iid, IID_IDeckLinkInput, ppv);
    }

    HRESULT DoesSupportVideoMode(BMDDisplayMode code, BMDPixelFormat format,
                                 BMDVideoInputFlags flags, BMDDisplayModeSupport *result,
                                 IDeckLinkDisplayMode **result_mode) override {
        if (result == nullptr) {
            return E_POINTER;
        }
        const ModeSpec *mode = mode_by_code(code);
        bool supported = mode != nullptr && accepts(format, flags);
        *result = supported ? bmdDisplayModeSupported : bmdDisplayModeNotSupported;
        if (result_mode == nullptr) {
            return S_OK;
        }
        *result_mode = nullptr;
        return guarded([&] {
            if (supported) {
                *result_mode = new DisplayMode(*mode);
            }
            return S_OK;
        });
    }
    HRESULT GetDisplayModeIterator(IDeckLinkDisplayModeIterator **iterator) override {
        *iterator = nullptr;
        return guarded([&] {
            *iterator = new DisplayModeIterator;
            return S_OK;
        });
    }
    // Accepted and never called: the fake draws no preview.
    HRESULT SetScreenPreviewCallback(IDeckLinkScreenPreviewCallback *) override { return S_OK; }

    // Also allowed while the streams run, as after a format change: the
    // next frame comes in the new mode.
    // From disabled, with an allocator set: its Commit first (unlocked); a
    // failure there is the answer and video stays disabled.
    HRESULT EnableVideoInput(BMDDisplayMode code, BMDPixelFormat format,
                             BMDVideoInputFlags flags) override {
        const ModeSpec *mode = mode_by_code(code);
        if (mode == nullptr || !accepts(format, flags)) {
            return E_INVALIDARG;
        }
        InputState &s = *state_;
        std::lock_guard<std::mutex> setup(s.setup);
        IDeckLinkMemoryAllocator *commit = nullptr;
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            if (s.video.mode == nullptr) {
                commit = s.allocator; // stays: changing it takes `setup`
            }
        }
        if (commit != nullptr) {
            HRESULT result = E_FAIL;
            try {
                result = commit->Commit();
            } catch (...) {
                // A client's exception is a failed Commit (E_FAIL).
            }
            if (FAILED(result)) {
                return result;
            }
        }
        std::lock_guard<std::mutex> lock(s.mutex);
        s.video.mode = mode;
        s.video.format = format;
        s.video.flags = flags;
        s.awaiting_enable = false;
        if (s.streams != Streams::Stopped) {
            s.restart_segment();
        }
        s.wake.notify_all();
        return S_OK;
    }
    // With an allocator committed: Decommit, once no AllocateBuffer is
    // running (a frame already taken may still ask for its buffer).
    HRESULT DisableVideoInput() override {
        InputState &s = *state_;
        std::lock_guard<std::mutex> setup(s.setup);
        IDeckLinkMemoryAllocator *decommit = nullptr;
        {
            std::unique_lock<std::mutex> lock(s.mutex);
            if (s.video.mode != nullptr) {
                decommit = s.allocator;
            }
            s.video = VideoSetup{};
            s.wake.notify_all();
            if (decommit != nullptr && !s.on_delivery_thread()) {
                s.wake.wait(lock, [&] { return !s.allocating; });
            }
        }
        if (decommit != nullptr) {
            call_decommit(decommit);
        }
        return S_OK;
    }
    HRESULT GetAvailableVideoFrameCount(uint32_t *count) override {
        *count = 0; // frames are handed over as they are made
        return S_OK;
    }
    // Only while video is disabled (E_ACCESSDENIED otherwise, the
    // allocator unchanged). The old allocator is released; frames still
    // out keep their own reference until they give their buffers back.
    HRESULT SetVideoInputFrameMemoryAllocator(IDeckLinkMemoryAllocator *allocator) override {
        InputState &s = *state_;
        IDeckLinkMemoryAllocator *old = nullptr;
        {
            std::lock_guard<std::mutex> setup(s.setup);
            std::lock_guard<std::mutex> lock(s.mutex);
            if (s.video.mode != nullptr) {
                return E_ACCESSDENIED;
            }
            if (allocator != nullptr) {
                allocator->AddRef();
            }
            old = s.allocator;
            s.allocator = allocator;
        }
        // Released unlocked: its destructor may call back into the input.
        if (old != nullptr) {
            old->Release();
        }
        return S_OK;
    }

    HRESULT EnableAudioInput(BMDAudioSampleRate rate, BMDAudioSampleType type,
                             uint32_t channels) override {
        bool known_type =
            type == bmdAudioSampleType16bitInteger || type == bmdAudioSampleType32bitInteger;
        bool known_count = channels == 2 || channels == 8 || channels == 16;
        if (rate != bmdAudioSampleRate48kHz || !known_type || !known_count) {
            return E_INVALIDARG;
        }
        InputState &s = *state_;
        std::lock_guard<std::mutex> lock(s.mutex);
        s.audio.enabled = true;
        s.audio.type = type;
        s.audio.channels = channels;
        return S_OK;
    }
    HRESULT DisableAudioInput() override {
        InputState &s = *state_;
        std::lock_guard<std::mutex> lock(s.mutex);
        s.audio = AudioSetup{};
        return S_OK;
    }
    HRESULT GetAvailableAudioSampleFrameCount(uint32_t *count) override {
        *count = 0;
        return S_OK;
    }

    HRESULT StartStreams() override {
        return guarded([&] { return start_streams(); });
    }
    HRESULT StopStreams() override {
        return guarded([&] { return halt(Streams::Stopped); });
    }
    HRESULT PauseStreams() override {
        return guarded([&] { return halt(Streams::Paused); });
    }
    // Nothing is buffered: frames are handed over as they are made.
    HRESULT FlushStreams() override { return S_OK; }

    HRESULT SetCallback(IDeckLinkInputCallback *callback) override {
        if (callback != nullptr) {
            callback->AddRef();
        }
        IDeckLinkInputCallback *old = nullptr;
        {
            InputState &s = *state_;
            std::lock_guard<std::mutex> lock(s.mutex);
            old = s.callback;
            s.callback = callback;
            s.wake.notify_all();
        }
        // Released unlocked: its destructor may call back into the input.
        if (old != nullptr) {
            old->Release();
        }
        return S_OK;
    }

    // The steady clock stands in for the card's clock; time in frame and
    // ticks per frame are those of the enabled mode (0 without one), frames
    // counted from the stream's start while it runs.
    HRESULT GetHardwareReferenceClock(BMDTimeScale scale, BMDTimeValue *time,
                                      BMDTimeValue *time_in_frame,
                                      BMDTimeValue *ticks_per_frame) override {
        if (scale <= 0) {
            return E_INVALIDARG;
        }
        int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            Clock::now().time_since_epoch())
                            .count();
        *time = rescale(nanos, kNanosPerSecond, scale);
        *time_in_frame = 0;
        *ticks_per_frame = 0;
        InputState &s = *state_;
        std::lock_guard<std::mutex> lock(s.mutex);
        if (s.video.mode != nullptr) {
            const ModeSpec &mode = *s.video.mode;
            int64_t frame_nanos = rescale(mode.duration, mode.scale, kNanosPerSecond);
            int64_t since = nanos;
            if (s.streams != Streams::Stopped) {
                since -= std::chrono::duration_cast<std::chrono::nanoseconds>(
                             s.stream_start.time_since_epoch())
                             .count();
            }
            *time_in_frame = rescale(since % frame_nanos, kNanosPerSecond, scale);
            *ticks_per_frame = rescale(mode.duration, mode.scale, scale);
        }
        return S_OK;
    }

  protected:
    ~Input() override {
        InputState &s = *state_;
        IDeckLinkInputCallback *callback = nullptr;
        {
            std::unique_lock<std::mutex> lock(s.mutex);
            s.streams = Streams::Stopped;
            if (s.on_delivery_thread()) {
                // Released from inside a callback: the loop ends when it
                // returns, and owns the state until then.
                ++s.generation;
                if (s.thread.joinable()) {
                    s.thread.detach();
                }
            } else {
                try {
                    end_thread(lock);
                } catch (...) {
                    // The join failed: nothing more can be done here.
                }
                if (!lock.owns_lock()) {
                    lock.lock();
                }
            }
            callback = s.callback;
            s.callback = nullptr;
        }
        if (callback != nullptr) {
            callback->Release();
        }
        // No AllocateBuffer runs any more: the thread is joined, or this is
        // its callback.
        IDeckLinkMemoryAllocator *allocator = nullptr;
        bool committed = false;
        {
            std::lock_guard<std::mutex> setup(s.setup);
            std::lock_guard<std::mutex> lock(s.mutex);
            allocator = s.allocator;
            committed = allocator != nullptr && s.video.mode != nullptr;
            s.allocator = nullptr;
            s.video = VideoSetup{};
        }
        if (committed) {
            call_decommit(allocator);
        }
        if (allocator != nullptr) {
            allocator->Release();
        }
    }

  private:
    static void call_decommit(IDeckLinkMemoryAllocator *allocator) {
        try {
            allocator->Decommit();
        } catch (...) {
            // The client's exception must not unwind into its own call.
        }
    }

    HRESULT start_streams() {
        InputState &s = *state_;
        std::unique_lock<std::mutex> lock(s.mutex);
        if (s.video.mode == nullptr || s.callback == nullptr) {
            return E_ACCESSDENIED;
        }
        if (s.streams == Streams::Running) {
            return S_OK;
        }
        if (s.streams == Streams::Stopped) {
            Script script;
            if (!read_script(&script)) {
                return E_INVALIDARG;
            }
            s.script = script;
            s.stream_start = Clock::now();
            s.frames_sent = 0;
            s.start_first_segment();
        } else {
            s.restart_segment();
        }
        s.streams = Streams::Running;
        s.wake.notify_all();
        if (s.on_delivery_thread() || s.thread_alive) {
            return S_OK; // the running loop goes on
        }
        // A loop paused from inside a callback has ended but is not
        // joined yet: join it (no callback is left in it) before the next.
        join_thread(lock);
        if (s.streams != Streams::Running || s.thread_alive) {
            return S_OK; // another caller got here first while we waited
        }
        try {
            // The thread waits for the lock held here, so it sees itself
            // alive and its id set.
            s.thread = std::thread(deliver_frames, state_, s.generation);
        } catch (...) {
            s.streams = Streams::Stopped;
            throw;
        }
        s.thread_alive = true;
        s.delivery_id = s.thread.get_id();
        return S_OK;
    }

    static bool accepts(BMDPixelFormat format, BMDVideoInputFlags flags) {
        bool known_format = format == bmdFormat8BitYUV || format == bmdFormat10BitYUV;
        return known_format && (flags & ~bmdVideoInputEnableFormatDetection) == 0;
    }

    // Pause or stop. On the delivery thread only the state changes (the
    // loop ends when the callback returns, or goes on if the callback
    // starts the streams again); elsewhere the loop is ended and joined.
    HRESULT halt(Streams to) {
        InputState &s = *state_;
        std::unique_lock<std::mutex> lock(s.mutex);
        if (s.streams == Streams::Stopped && to == Streams::Paused) {
            return S_OK;
        }
        s.streams = to;
        s.wake.notify_all();
        if (s.on_delivery_thread()) {
            return S_OK;
        }
        end_thread(lock);
        // A callback that was running may have started the streams again:
        // this call is the later one.
        s.streams = to;
        return S_OK;
    }

    // Ends the loop and joins the thread, unlocked while joining.
    void end_thread(std::unique_lock<std::mutex> &lock) {
        InputState &s = *state_;
        ++s.generation;
        s.thread_alive = false;
        s.wake.notify_all();
        join_thread(lock);
    }

    void join_thread(std::unique_lock<std::mutex> &lock) {
        InputState &s = *state_;
        s.wake.wait(lock, [&] { return !s.joining; });
        if (!s.thread.joinable()) {
            return;
        }
        std::thread thread = std::move(s.thread);
        s.joining = true;
        lock.unlock();
        thread.join();
        lock.lock();
        s.joining = false;
        s.delivery_id = std::thread::id();
        s.wake.notify_all();
    }

    std::shared_ptr<InputState> state_;
};

class Attributes : public Counted<IDeckLinkAttributes> {
  public:
    Attributes(int64_t connections, bool detection)
        : connections_(connections), detection_(detection) {}
    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        return answer_if(iid, IID_IDeckLinkAttributes, ppv);
    }
    HRESULT GetFlag(BMDDeckLinkAttributeID id, bool *value) override {
        if (id != BMDDeckLinkSupportsInputFormatDetection) {
            return E_INVALIDARG;
        }
        *value = detection_;
        return S_OK;
    }
    HRESULT GetInt(BMDDeckLinkAttributeID id, int64_t *value) override {
        switch (id) {
        case BMDDeckLinkVideoInputConnections:
            *value = connections_;
            return S_OK;
        case BMDDeckLinkMaximumAudioChannels:
            *value = connections_ != 0 ? 16 : 0;
            return S_OK;
        default:
            return E_INVALIDARG;
        }
    }
    HRESULT GetFloat(BMDDeckLinkAttributeID, double *) override { return E_INVALIDARG; }
    HRESULT GetString(BMDDeckLinkAttributeID, const char **) override { return E_INVALIDARG; }

  private:
    int64_t connections_;
    bool detection_;
};

class Device : public Counted<IDeckLink> {
  public:
    Device(const char *model, const char *display, bool input, int64_t connections,
           bool detection)
        : model_(model), display_(display), input_(input ? new Input : nullptr),
          connections_(connections), detection_(detection) {}
    // The device has one input: every QueryInterface answers the same one.
    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        *ppv = nullptr;
        if (same_iid(iid, IID_IDeckLinkAttributes)) {
            *ppv = static_cast<IDeckLinkAttributes *>(new Attributes(connections_, detection_));
            return S_OK;
        }
        if (input_ != nullptr && same_iid(iid, IID_IDeckLinkInput)) {
            input_->AddRef();
            *ppv = static_cast<IDeckLinkInput *>(input_);
            return S_OK;
        }
        if (same_iid(iid, IID_IUnknown)) {
            AddRef();
            *ppv = static_cast<IDeckLink *>(this);
            return S_OK;
        }
        return E_NOINTERFACE;
    }
    HRESULT GetModelName(const char **name) override { return give(model_, name); }
    HRESULT GetDisplayName(const char **name) override { return give(display_, name); }

  protected:
    ~Device() override {
        if (input_ != nullptr) {
            input_->Release();
        }
    }

  private:
    const char *model_;
    const char *display_;
    Input *input_;
    int64_t connections_;
    bool detection_;
};

class Iterator : public Counted<IDeckLinkIterator> {
  public:
    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        return answer_if(iid, IID_IDeckLinkIterator, ppv);
    }
    HRESULT Next(IDeckLink **device) override {
        *device = nullptr;
#ifndef FAKE_NO_DEVICES
        switch (next_++) {
        case 0:
            *device = new Device("DeckLink Duo 2", "DeckLink Duo (1)", true,
                                 bmdVideoConnectionSDI, true);
            return S_OK;
        case 1:
            *device = new Device("DeckLink Mini Monitor", "DeckLink Mini Monitor", false, 0,
                                 false);
            return S_OK;
        }
#endif
        return S_FALSE;
    }

  private:
    int next_ = 0;
};

} // namespace

extern "C" IDeckLinkIterator *CreateDeckLinkIteratorInstance_0003(void) {
#ifdef FAKE_NULL_ITERATOR
    return nullptr;
#else
    try {
        return new Iterator;
    } catch (...) {
        return nullptr;
    }
#endif
}

// Not part of the SDK: how many fake objects are alive, for leak checks.
extern "C" long makara_fake_decklink_live_objects(void) { return g_live_objects.load(); }

// Not part of the SDK: how many frames were dropped, in this process, for
// want of a buffer from a client's allocator.
extern "C" long makara_fake_decklink_dropped_frames(void) { return g_dropped_frames.load(); }
