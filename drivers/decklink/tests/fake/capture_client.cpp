// A small capture client of the SDK, for testing the fake driver
// (tests/fake_capture.rs builds and runs it). It dlopens the library,
// finds the first device that captures, captures for a while and prints
// what it saw as key=value lines.
//
//   capture_client LIBRARY [mode=NTSC] [format=2vuy|v210] [bits=16|32]
//                  [channels=2] [ms=500] [detect=0|1] [reenable=0|1]
//                  [stop_after=N]
//   capture_client LIBRARY errors
//
// detect=1 enables format detection and follows a change as the SDK
// documents it (pause, enable the new mode, flush, start) unless
// reenable=0; stop_after=N stops the streams from inside the callback at
// the N-th frame. "errors" checks the refusals and small answers of the
// input instead. Exit status 2 on a failed call it cannot go on without.

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "DeckLinkAPI.h"

namespace {

[[noreturn]] void fail(const std::string &what) {
    std::fprintf(stderr, "capture_client: %s\n", what.c_str());
    std::exit(2);
}

void must(HRESULT result, const char *call) {
    if (result != S_OK) {
        char text[32];
        std::snprintf(text, sizeof text, " failed: 0x%08x", static_cast<unsigned>(result));
        fail(std::string(call) + text);
    }
}

struct Options {
    std::string mode = "NTSC";
    BMDPixelFormat format = bmdFormat8BitYUV;
    BMDAudioSampleType bits = bmdAudioSampleType32bitInteger;
    uint32_t channels = 2;
    int ms = 500;
    bool detect = false;
    bool reenable = true;
    long stop_after = 0;
};

Options parse_options(int argc, char **argv) {
    Options o;
    for (int i = 2; i < argc; ++i) {
        std::string arg(argv[i]);
        size_t eq = arg.find('=');
        if (eq == std::string::npos) {
            fail("not key=value: " + arg);
        }
        std::string key = arg.substr(0, eq);
        std::string value = arg.substr(eq + 1);
        if (key == "mode") {
            o.mode = value;
        } else if (key == "format") {
            o.format = value == "v210" ? bmdFormat10BitYUV : bmdFormat8BitYUV;
        } else if (key == "bits") {
            o.bits = value == "16" ? bmdAudioSampleType16bitInteger
                                   : bmdAudioSampleType32bitInteger;
        } else if (key == "channels") {
            o.channels = static_cast<uint32_t>(std::stoul(value));
        } else if (key == "ms") {
            o.ms = std::stoi(value);
        } else if (key == "detect") {
            o.detect = value == "1";
        } else if (key == "reenable") {
            o.reenable = value == "1";
        } else if (key == "stop_after") {
            o.stop_after = std::stol(value);
        } else {
            fail("unknown option " + key);
        }
    }
    return o;
}

// What the client knows of a mode.
struct Mode {
    std::string name;
    BMDDisplayMode code = 0;
    long width = 0;
    long height = 0;
    BMDTimeValue duration = 0;
    BMDTimeScale scale = 0;
};

Mode describe(IDeckLinkDisplayMode *mode) {
    Mode m;
    const char *name = nullptr;
    if (mode->GetName(&name) == S_OK && name != nullptr) {
        m.name = name;
        std::free(const_cast<char *>(name));
    }
    m.code = mode->GetDisplayMode();
    m.width = mode->GetWidth();
    m.height = mode->GetHeight();
    mode->GetFrameRate(&m.duration, &m.scale);
    return m;
}

Mode find_mode(IDeckLinkInput *input, const std::string &name) {
    IDeckLinkDisplayModeIterator *iterator = nullptr;
    must(input->GetDisplayModeIterator(&iterator), "GetDisplayModeIterator");
    Mode found;
    IDeckLinkDisplayMode *mode = nullptr;
    while (iterator->Next(&mode) == S_OK) {
        Mode m = describe(mode);
        mode->Release();
        if (m.name == name) {
            found = m;
        }
    }
    iterator->Release();
    if (found.code == 0) {
        fail("no mode " + name);
    }
    return found;
}

long expected_row_bytes(BMDPixelFormat format, long width) {
    return format == bmdFormat10BitYUV ? (width + 47) / 48 * 128 : width * 2;
}

// Is every row the black of a frame without signal?
bool is_black(const uint8_t *bytes, long row_bytes, long height, BMDPixelFormat format) {
    std::vector<uint8_t> black(static_cast<size_t>(row_bytes));
    for (size_t i = 0; i < black.size(); i += 4) {
        uint32_t word = format == bmdFormat10BitYUV
                            ? (i / 4 % 2 == 0 ? 512u | 64u << 10 | 512u << 20
                                              : 64u | 512u << 10 | 64u << 20)
                            : 0x10801080u; // 0x80 0x10 0x80 0x10 in memory
        std::memcpy(&black[i], &word, 4);
    }
    for (long y = 0; y < height; ++y) {
        if (std::memcmp(bytes + y * row_bytes, black.data(), black.size()) != 0) {
            return false;
        }
    }
    return true;
}

// Counts what arrives. Plain fields: the streams are stopped (the driver's
// thread joined) before main reads them.
class Counter : public IDeckLinkInputCallback {
  public:
    Counter(IDeckLinkInput *input, const Options &options, const Mode &mode)
        : input_(input), options_(options), mode_(mode), crossings_(options.channels),
          previous_(options.channels) {}

    HRESULT QueryInterface(REFIID, LPVOID *ppv) override {
        *ppv = nullptr;
        return E_NOINTERFACE;
    }
    ULONG AddRef() override { return ++refs_; }
    ULONG Release() override { return --refs_; } // lives on main's stack
    ULONG refs() const { return refs_; }

    HRESULT VideoInputFormatChanged(BMDVideoInputFormatChangedEvents events,
                                    IDeckLinkDisplayMode *mode,
                                    BMDDetectedVideoInputFormatFlags) override {
        ++format_changes;
        change_events = events;
        Mode next = describe(mode);
        changed_to = next.name;
        if (!options_.reenable) {
            return S_OK;
        }
        mode_ = next;
        changed_ = true;
        input_->PauseStreams();
        must(input_->EnableVideoInput(mode->GetDisplayMode(), options_.format,
                                      bmdVideoInputEnableFormatDetection),
             "EnableVideoInput (new mode)");
        input_->FlushStreams();
        must(input_->StartStreams(), "StartStreams (new mode)");
        return S_OK;
    }

    HRESULT VideoInputFrameArrived(IDeckLinkVideoInputFrame *frame,
                                   IDeckLinkAudioInputPacket *audio) override {
        if (stopped_) {
            ++frames_after_stop;
        }
        long number = frames++;
        bool no_signal = (frame->GetFlags() & bmdFrameHasNoInputSource) != 0;
        BMDTimeValue time = 0;
        BMDTimeValue duration = 0;
        must(frame->GetStreamTime(&time, &duration, mode_.scale), "GetStreamTime");
        if (duration != mode_.duration) {
            ++stream_time_mismatches;
        }
        look_at_picture(frame, no_signal);
        look_at_timecode(frame, number, no_signal);
        if (audio != nullptr) {
            if (no_signal) {
                ++audio_on_no_signal;
            }
            look_at_sound(audio, time);
        } else if (!no_signal) {
            ++audio_missing;
        }
        if (options_.stop_after != 0 && frames == options_.stop_after) {
            stopped_ = true;
            input_->StopStreams();
        }
        return S_OK;
    }

    void print() const {
        std::printf("frames=%ld\nno_signal=%ld\nno_signal_not_black=%ld\n", frames, no_signal,
                    no_signal_not_black);
        std::printf("audio_on_no_signal=%ld\naudio_missing=%ld\naudio_packets=%ld\n",
                    audio_on_no_signal, audio_missing, audio_packets);
        std::printf("audio_samples=%lld\nexpected_audio_samples=%lld\n", audio_samples,
                    expected_audio_samples);
        std::printf("audio_time_mismatches=%ld\naudio_counts=", audio_time_mismatches);
        for (auto it = audio_counts.begin(); it != audio_counts.end(); ++it) {
            std::printf("%s%ld", it == audio_counts.begin() ? "" : ",", *it);
        }
        std::printf("\ntimecodes=%ld\ntimecode_mismatches=%ld\nother_timecode_formats=%ld\n",
                    timecodes, timecode_mismatches, other_timecode_formats);
        std::printf("stream_time_mismatches=%ld\nstatic_frames=%ld\n", stream_time_mismatches,
                    static_frames);
        std::printf("width=%ld\nheight=%ld\nrow_bytes=%ld\nrow_bytes_mismatches=%ld\n", width,
                    height, row_bytes, row_bytes_mismatches);
        std::printf("format_changes=%ld\nchange_events=%u\nchanged_to=%s\n", format_changes,
                    change_events, changed_to.c_str());
        std::printf("frames_after_change=%ld\nwrong_size_after_change=%ld\n",
                    frames_after_change, wrong_size_after_change);
        std::printf("frames_after_stop=%ld\n", frames_after_stop);
        for (size_t c = 0; c < crossings_.size(); ++c) {
            double hz = audio_samples > 0 ? crossings_[c] * 48000.0 / audio_samples : 0;
            std::printf("ch%zu_hz=%.1f\n", c, hz);
        }
        std::printf("peak_dbfs=%.2f\n", peak_ > 0 ? 20 * std::log10(peak_) : -999.0);
    }

    long frames = 0;
    long no_signal = 0;
    long no_signal_not_black = 0;
    long audio_on_no_signal = 0;
    long audio_missing = 0;
    long audio_packets = 0;
    long long audio_samples = 0;
    long long expected_audio_samples = 0;
    long audio_time_mismatches = 0;
    std::set<long> audio_counts;
    long timecodes = 0;
    long timecode_mismatches = 0;
    long other_timecode_formats = 0;
    long stream_time_mismatches = 0;
    long static_frames = 0;
    long width = 0;
    long height = 0;
    long row_bytes = 0;
    long row_bytes_mismatches = 0;
    long format_changes = 0;
    unsigned change_events = 0;
    std::string changed_to;
    long frames_after_change = 0;
    long wrong_size_after_change = 0;
    long frames_after_stop = 0;

  private:
    void look_at_picture(IDeckLinkVideoInputFrame *frame, bool no_signal_frame) {
        width = frame->GetWidth();
        height = frame->GetHeight();
        row_bytes = frame->GetRowBytes();
        if (row_bytes != expected_row_bytes(frame->GetPixelFormat(), width) ||
            frame->GetPixelFormat() != options_.format) {
            ++row_bytes_mismatches;
        }
        if (changed_) {
            ++frames_after_change;
            if (width != mode_.width || height != mode_.height) {
                ++wrong_size_after_change;
            }
        }
        void *bytes = nullptr;
        must(frame->GetBytes(&bytes), "GetBytes");
        const uint8_t *data = static_cast<const uint8_t *>(bytes);
        if (no_signal_frame) {
            ++no_signal;
            if (!is_black(data, row_bytes, height, options_.format)) {
                ++no_signal_not_black;
            }
            return;
        }
        std::vector<uint8_t> first_row(data, data + row_bytes);
        if (first_row == last_first_row_) {
            ++static_frames;
        }
        last_first_row_.swap(first_row);
    }

    void look_at_timecode(IDeckLinkVideoInputFrame *frame, long number, bool no_signal_frame) {
        IDeckLinkTimecode *other = nullptr;
        if (frame->GetTimecode(bmdTimecodeSerial, &other) != S_FALSE || other != nullptr) {
            ++other_timecode_formats;
        }
        IDeckLinkTimecode *timecode = nullptr;
        HRESULT result = frame->GetTimecode(bmdTimecodeRP188Any, &timecode);
        if (no_signal_frame) {
            if (result != S_FALSE || timecode != nullptr) {
                ++timecode_mismatches;
            }
            return;
        }
        if (result != S_OK || timecode == nullptr) {
            ++timecode_mismatches;
            return;
        }
        ++timecodes;
        long rate = static_cast<long>((mode_.scale + mode_.duration / 2) / mode_.duration);
        uint8_t h = 0, m = 0, s = 0, f = 0;
        timecode->GetComponents(&h, &m, &s, &f);
        char want[64];
        std::snprintf(want, sizeof want, "%02ld:%02ld:%02ld:%02ld", number / rate / 3600 % 24,
                      number / rate / 60 % 60, number / rate % 60, number % rate);
        char got[64];
        std::snprintf(got, sizeof got, "%02u:%02u:%02u:%02u", unsigned{h}, unsigned{m},
                      unsigned{s}, unsigned{f});
        const char *text = nullptr;
        bool string_ok = timecode->GetString(&text) == S_OK && text != nullptr &&
                         std::strcmp(text, want) == 0;
        std::free(const_cast<char *>(text));
        char bcd[64];
        std::snprintf(bcd, sizeof bcd, "%02x:%02x:%02x:%02x", timecode->GetBCD() >> 24,
                      timecode->GetBCD() >> 16 & 0xff, timecode->GetBCD() >> 8 & 0xff,
                      timecode->GetBCD() & 0xff);
        if (std::strcmp(got, want) != 0 || std::strcmp(bcd, want) != 0 || !string_ok) {
            ++timecode_mismatches;
        }
        timecode->Release();
    }

    void look_at_sound(IDeckLinkAudioInputPacket *audio, BMDTimeValue time) {
        ++audio_packets;
        long count = audio->GetSampleFrameCount();
        audio_samples += count;
        audio_counts.insert(count);
        long long first = time * 48000 / mode_.scale;
        long long end = (time + mode_.duration) * 48000 / mode_.scale;
        expected_audio_samples += end - first;
        BMDTimeValue packet_time = -1;
        if (audio->GetPacketTime(&packet_time, 48000) != S_OK || packet_time != first) {
            ++audio_time_mismatches;
        }
        void *bytes = nullptr;
        must(audio->GetBytes(&bytes), "IDeckLinkAudioInputPacket::GetBytes");
        for (long n = 0; n < count; ++n) {
            for (uint32_t c = 0; c < options_.channels; ++c) {
                listen(c, sample(bytes, static_cast<size_t>(n) * options_.channels + c));
            }
        }
    }

    double sample(const void *bytes, size_t at) const {
        if (options_.bits == bmdAudioSampleType16bitInteger) {
            int16_t s;
            std::memcpy(&s, static_cast<const uint8_t *>(bytes) + at * 2, 2);
            return s / 32768.0;
        }
        int32_t s;
        std::memcpy(&s, static_cast<const uint8_t *>(bytes) + at * 4, 4);
        return s / 2147483648.0;
    }

    // Counts rising zero crossings per channel (their rate is the tone's
    // frequency) and the peak of channel 0.
    void listen(uint32_t channel, double value) {
        if (previous_[channel] < 0 && value >= 0) {
            ++crossings_[channel];
        }
        previous_[channel] = value;
        if (channel == 0) {
            peak_ = std::max(peak_, std::fabs(value));
        }
    }

    IDeckLinkInput *input_;
    Options options_;
    Mode mode_;
    bool changed_ = false;
    std::atomic<bool> stopped_{false};
    std::atomic<ULONG> refs_{1};
    std::vector<uint8_t> last_first_row_;
    std::vector<long> crossings_;
    std::vector<double> previous_;
    double peak_ = 0;
};

// The library's objects this client holds.
struct Driver {
    void *library = nullptr;
    IDeckLinkIterator *iterator = nullptr;
    IDeckLink *device = nullptr;
    IDeckLinkInput *input = nullptr;
    long (*live_objects)() = nullptr;

    void release() {
        input->Release();
        device->Release();
        iterator->Release();
    }
};

Driver open_driver(const char *path) {
    Driver d;
    d.library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (d.library == nullptr) {
        fail(std::string("dlopen: ") + dlerror());
    }
    auto create = reinterpret_cast<IDeckLinkIterator *(*)()>(
        dlsym(d.library, "CreateDeckLinkIteratorInstance_0003"));
    d.live_objects =
        reinterpret_cast<long (*)()>(dlsym(d.library, "makara_fake_decklink_live_objects"));
    if (create == nullptr || d.live_objects == nullptr) {
        fail("missing symbols");
    }
    d.iterator = create();
    if (d.iterator == nullptr) {
        fail("no iterator");
    }
    while (d.iterator->Next(&d.device) == S_OK) {
        if (d.device->QueryInterface(IID_IDeckLinkInput, reinterpret_cast<void **>(&d.input)) ==
            S_OK) {
            return d;
        }
        d.device->Release();
    }
    fail("no device captures");
}

int capture(Driver &d, const Options &options) {
    Mode mode = find_mode(d.input, options.mode);
    Counter counter(d.input, options, mode);
    BMDVideoInputFlags flags =
        options.detect ? bmdVideoInputEnableFormatDetection : bmdVideoInputFlagDefault;
    must(d.input->EnableVideoInput(mode.code, options.format, flags), "EnableVideoInput");
    must(d.input->EnableAudioInput(bmdAudioSampleRate48kHz, options.bits, options.channels),
         "EnableAudioInput");
    must(d.input->SetCallback(&counter), "SetCallback");
    // Measured around both calls: no frame can come outside this time.
    auto start = std::chrono::steady_clock::now();
    must(d.input->StartStreams(), "StartStreams");
    std::this_thread::sleep_for(std::chrono::milliseconds(options.ms));
    must(d.input->StopStreams(), "StopStreams");
    auto elapsed = std::chrono::steady_clock::now() - start;
    must(d.input->SetCallback(nullptr), "SetCallback(NULL)");
    d.input->DisableAudioInput();
    d.input->DisableVideoInput();
    counter.print();
    std::printf("elapsed_ms=%lld\n",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
    d.release();
    std::printf("callback_refs=%lu\nlive_objects=%ld\n", counter.refs(), d.live_objects());
    return 0;
}

// A callback that is never called: the refusals come first.
class Silent : public IDeckLinkInputCallback {
  public:
    HRESULT QueryInterface(REFIID, LPVOID *ppv) override {
        *ppv = nullptr;
        return E_NOINTERFACE;
    }
    ULONG AddRef() override { return ++refs_; }
    ULONG Release() override { return --refs_; }
    ULONG refs() const { return refs_; }
    HRESULT VideoInputFormatChanged(BMDVideoInputFormatChangedEvents, IDeckLinkDisplayMode *,
                                    BMDDetectedVideoInputFormatFlags) override {
        return S_OK;
    }
    HRESULT VideoInputFrameArrived(IDeckLinkVideoInputFrame *,
                                   IDeckLinkAudioInputPacket *) override {
        return S_OK;
    }

  private:
    std::atomic<ULONG> refs_{1};
};

void check(const char *name, bool ok) { std::printf("%s=%d\n", name, ok ? 1 : 0); }

int errors(Driver &d) {
    IDeckLinkInput *input = d.input;
    check("start_without_video_fails", FAILED(input->StartStreams()));
    check("bad_pixel_format_rejected",
          input->EnableVideoInput(bmdModeNTSC, bmdFormat8BitBGRA, 0) == E_INVALIDARG);
    check("unknown_mode_rejected",
          input->EnableVideoInput(bmdModeHD1080p25, bmdFormat8BitYUV, 0) == E_INVALIDARG);
    check("bad_flags_rejected", input->EnableVideoInput(bmdModeNTSC, bmdFormat8BitYUV,
                                                        bmdVideoInputDualStream3D) ==
                                    E_INVALIDARG);
    check("bad_channels_rejected",
          input->EnableAudioInput(bmdAudioSampleRate48kHz, bmdAudioSampleType32bitInteger, 6) ==
              E_INVALIDARG);
    check("bad_sample_type_rejected",
          input->EnableAudioInput(bmdAudioSampleRate48kHz, 24, 2) == E_INVALIDARG);
    check("detection_accepted", input->EnableVideoInput(bmdModeNTSC, bmdFormat10BitYUV,
                                                        bmdVideoInputEnableFormatDetection) ==
                                    S_OK);
    check("start_without_callback_fails", FAILED(input->StartStreams()));

    BMDDisplayModeSupport support = bmdDisplayModeNotSupported;
    IDeckLinkDisplayMode *mode = nullptr;
    bool pal = input->DoesSupportVideoMode(bmdModePAL, bmdFormat10BitYUV, 0, &support, &mode) ==
                   S_OK &&
               support == bmdDisplayModeSupported && mode != nullptr &&
               mode->GetDisplayMode() == bmdModePAL;
    check("supports_pal_v210", pal);
    if (mode != nullptr) {
        mode->Release();
        mode = nullptr;
    }
    bool unknown = input->DoesSupportVideoMode(bmdModeHD1080p25, bmdFormat8BitYUV, 0, &support,
                                               &mode) == S_OK &&
                   support == bmdDisplayModeNotSupported && mode == nullptr;
    check("does_not_support_unknown_mode", unknown);
    check("allocator_not_implemented",
          input->SetVideoInputFrameMemoryAllocator(nullptr) == E_NOTIMPL);
    check("preview_accepted", input->SetScreenPreviewCallback(nullptr) == S_OK);

    IDeckLinkInput *again = nullptr;
    d.device->QueryInterface(IID_IDeckLinkInput, reinterpret_cast<void **>(&again));
    check("one_input_per_device", again == input);
    if (again != nullptr) {
        again->Release();
    }
    BMDTimeValue now = 0, in_frame = 0, per_frame = 0;
    check("reference_clock",
          input->GetHardwareReferenceClock(90000, &now, &in_frame, &per_frame) == S_OK &&
              per_frame == 3003 && in_frame >= 0 && in_frame < 3003 && now > 0);

    Silent silent;
    input->SetCallback(&silent);
    setenv("MAKARA_FAKE_DECKLINK_NO_SIGNAL", "three:4", 1);
    check("malformed_script_rejected", input->StartStreams() == E_INVALIDARG);
    unsetenv("MAKARA_FAKE_DECKLINK_NO_SIGNAL");
    check("callback_held", silent.refs() == 2);
    input->SetCallback(nullptr);
    check("callback_released", silent.refs() == 1);
    input->DisableVideoInput();
    d.release();
    std::printf("live_objects=%ld\n", d.live_objects());
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        fail("usage: capture_client LIBRARY [errors | key=value...]");
    }
    try {
        Driver driver = open_driver(argv[1]);
        if (argc == 3 && std::string(argv[2]) == "errors") {
            return errors(driver);
        }
        return capture(driver, parse_options(argc, argv));
    } catch (const std::exception &e) {
        fail(e.what());
    }
}
