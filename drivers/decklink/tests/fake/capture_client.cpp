// A small capture client of the SDK, for testing the fake driver
// (tests/fake_capture.rs builds and runs it). It dlopens the library,
// finds the first device that captures, captures for a while and prints
// what it saw as key=value lines.
//
//   capture_client LIBRARY [mode=NTSC] [format=2vuy|v210] [bits=16|32]
//                  [channels=2] [ms=500] [detect=0|1] [reenable=0|1]
//                  [stop_after=N] [pool=N] [hold=K] [hold_ms=M]
//   capture_client LIBRARY errors
//
// detect=1 enables format detection and follows a change as the SDK
// documents it (pause, enable the new mode, flush, start) unless
// reenable=0; stop_after=N stops the streams from inside the callback at
// the N-th frame. pool=N installs the client's own allocator before
// enabling video: at most N buffers out at once (AllocateBuffer answers
// E_OUTOFMEMORY beyond), malloc'd and reused, with counters. hold=K keeps
// (AddRefs) every frame and releases it from the callback K frames later;
// hold_ms=M keeps every frame and the main thread releases it M ms after
// it came. Frames still kept at the end are released by the main thread
// after the input itself. "errors" checks the refusals and small answers
// of the input instead. Exit status 2 on a failed call it cannot go on
// without.

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
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
    long pool = 0;    // 0: the driver's own memory
    long hold = 0;    // frames kept, released from a later callback
    long hold_ms = 0; // or kept this long, released by the main thread
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
        } else if (key == "pool") {
            o.pool = std::stol(value);
        } else if (key == "hold") {
            o.hold = std::stol(value);
        } else if (key == "hold_ms") {
            o.hold_ms = std::stol(value);
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

bool same_iid(REFIID a, REFIID b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The client's frame memory: at most `capacity` buffers out at once,
// malloc'd on demand and reused for the same size. It lives on main's
// stack: Release never deletes, and refs() must be back to 1 at the end.
// Everything it sees is counted, under its mutex (the driver calls it from
// its own threads and from whichever thread releases a frame).
class Pool : public IDeckLinkMemoryAllocator {
  public:
    explicit Pool(long capacity, HRESULT commit_result = S_OK)
        : capacity_(static_cast<size_t>(capacity)), commit_result_(commit_result) {}
    ~Pool() {
        for (auto &out : out_) {
            std::free(out.first);
        }
        drop_free();
    }

    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        if (same_iid(iid, IID_IDeckLinkMemoryAllocator) || same_iid(iid, IID_IUnknown)) {
            AddRef();
            *ppv = static_cast<IDeckLinkMemoryAllocator *>(this);
            return S_OK;
        }
        *ppv = nullptr;
        return E_NOINTERFACE;
    }
    ULONG AddRef() override { return ++refs_; }
    ULONG Release() override { return --refs_; }
    ULONG refs() const { return refs_; }

    HRESULT AllocateBuffer(uint32_t size, void **buffer) override {
        std::lock_guard<std::mutex> lock(mutex_);
        *buffer = nullptr;
        sizes_.insert(size);
        if (!committed_) {
            ++uncommitted_allocations_;
        }
        if (out_.size() >= capacity_) {
            ++refusals_;
            return E_OUTOFMEMORY;
        }
        void *memory = nullptr;
        for (auto it = free_.begin(); it != free_.end(); ++it) {
            if (it->second == size) {
                memory = it->first;
                free_.erase(it);
                break;
            }
        }
        if (memory == nullptr) {
            memory = std::malloc(size);
            if (memory == nullptr) {
                ++refusals_;
                return E_OUTOFMEMORY;
            }
        }
        out_[memory] = size;
        ++allocations_;
        max_out_ = std::max(max_out_, static_cast<long>(out_.size()));
        *buffer = memory;
        return S_OK;
    }
    HRESULT ReleaseBuffer(void *buffer) override {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = out_.find(buffer);
        if (it == out_.end()) {
            ++unknown_releases_;
            return E_INVALIDARG;
        }
        if (held_.count(buffer) != 0) {
            ++released_while_held_;
        }
        ++releases_;
        if (!committed_) {
            ++releases_after_decommit_;
        }
        free_.emplace_back(it->first, it->second);
        out_.erase(it);
        return S_OK;
    }
    HRESULT Commit() override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++commits_;
        if (committed_) {
            ++commits_while_committed_;
        }
        committed_ = commit_result_ == S_OK;
        return commit_result_;
    }
    HRESULT Decommit() override {
        std::lock_guard<std::mutex> lock(mutex_);
        ++decommits_;
        if (!committed_) {
            ++decommits_while_decommitted_;
        }
        committed_ = false;
        drop_free();
        return S_OK;
    }

    // The size of `buffer` when it is out (given and not given back), else 0.
    size_t size_of(const void *buffer) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = out_.find(const_cast<void *>(buffer));
        return it == out_.end() ? 0 : it->second;
    }
    // The client keeps (or no longer keeps) the frame in `buffer`: the
    // driver must not give it back meanwhile.
    void hold(void *buffer) {
        std::lock_guard<std::mutex> lock(mutex_);
        held_.insert(buffer);
    }
    void unhold(void *buffer) {
        std::lock_guard<std::mutex> lock(mutex_);
        held_.erase(buffer);
    }
    long commits() {
        std::lock_guard<std::mutex> lock(mutex_);
        return commits_;
    }
    long decommits() {
        std::lock_guard<std::mutex> lock(mutex_);
        return decommits_;
    }
    long allocations() {
        std::lock_guard<std::mutex> lock(mutex_);
        return allocations_;
    }
    long refusals() {
        std::lock_guard<std::mutex> lock(mutex_);
        return refusals_;
    }

    void print() {
        std::lock_guard<std::mutex> lock(mutex_);
        std::printf("allocations=%ld\nrefusals=%ld\nreleases=%ld\noutstanding=%zu\n",
                    allocations_, refusals_, releases_, out_.size());
        std::printf("max_outstanding=%ld\nsizes=", max_out_);
        for (auto it = sizes_.begin(); it != sizes_.end(); ++it) {
            std::printf("%s%u", it == sizes_.begin() ? "" : ",", *it);
        }
        std::printf("\ncommits=%ld\ndecommits=%ld\ncommits_while_committed=%ld\n", commits_,
                    decommits_, commits_while_committed_);
        std::printf("decommits_while_decommitted=%ld\nuncommitted_allocations=%ld\n",
                    decommits_while_decommitted_, uncommitted_allocations_);
        std::printf("releases_after_decommit=%ld\nreleased_while_held=%ld\n",
                    releases_after_decommit_, released_while_held_);
        std::printf("unknown_releases=%ld\npool_refs=%lu\n", unknown_releases_, refs());
    }

  private:
    void drop_free() {
        for (auto &f : free_) {
            std::free(f.first);
        }
        free_.clear();
    }

    std::mutex mutex_;
    size_t capacity_;
    HRESULT commit_result_;
    std::atomic<ULONG> refs_{1};
    bool committed_ = false;
    std::map<void *, uint32_t> out_;
    std::vector<std::pair<void *, uint32_t>> free_;
    std::set<void *> held_;
    std::set<uint32_t> sizes_;
    long allocations_ = 0;
    long refusals_ = 0;
    long releases_ = 0;
    long max_out_ = 0;
    long commits_ = 0;
    long decommits_ = 0;
    long commits_while_committed_ = 0;
    long decommits_while_decommitted_ = 0;
    long uncommitted_allocations_ = 0;
    long releases_after_decommit_ = 0;
    long released_while_held_ = 0;
    long unknown_releases_ = 0;
};

// Frames the client keeps after their callback: each with a copy of its
// first row, to check on release that its buffer was left alone.
class Keeper {
  public:
    explicit Keeper(Pool *pool) : pool_(pool) {}

    void keep(IDeckLinkVideoInputFrame *frame) {
        Kept k;
        k.frame = frame;
        void *bytes = nullptr;
        frame->GetBytes(&bytes);
        k.bytes = bytes;
        const uint8_t *data = static_cast<const uint8_t *>(bytes);
        k.first_row.assign(data, data + frame->GetRowBytes());
        k.since = std::chrono::steady_clock::now();
        frame->AddRef();
        if (pool_ != nullptr) {
            pool_->hold(bytes);
        }
        std::lock_guard<std::mutex> lock(mutex_);
        kept_.push_back(std::move(k));
    }

    // Releases the oldest frames until `most` are left.
    void release_beyond(size_t most) {
        while (true) {
            Kept k;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (kept_.size() <= most) {
                    return;
                }
                k = std::move(kept_.front());
                kept_.pop_front();
            }
            release(k);
        }
    }

    // Releases the frames kept for `ms` or longer.
    void release_older_than(long ms) {
        auto limit = std::chrono::steady_clock::now() - std::chrono::milliseconds(ms);
        while (true) {
            Kept k;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (kept_.empty() || kept_.front().since > limit) {
                    return;
                }
                k = std::move(kept_.front());
                kept_.pop_front();
            }
            release(k);
        }
    }

    size_t count() {
        std::lock_guard<std::mutex> lock(mutex_);
        return kept_.size();
    }

    std::atomic<long> changed{0}; // kept frames whose picture changed

  private:
    struct Kept {
        IDeckLinkVideoInputFrame *frame = nullptr;
        void *bytes = nullptr;
        std::vector<uint8_t> first_row;
        std::chrono::steady_clock::time_point since;
    };

    void release(Kept &k) {
        const uint8_t *data = static_cast<const uint8_t *>(k.bytes);
        if (!std::equal(k.first_row.begin(), k.first_row.end(), data)) {
            ++changed;
        }
        if (pool_ != nullptr) {
            pool_->unhold(k.bytes);
        }
        k.frame->Release();
    }

    Pool *pool_;
    std::mutex mutex_;
    std::deque<Kept> kept_;
};

// Counts what arrives. Plain fields: the streams are stopped (the driver's
// thread joined) before main reads them.
class Counter : public IDeckLinkInputCallback {
  public:
    Counter(IDeckLinkInput *input, const Options &options, const Mode &mode, Pool *pool,
            Keeper *keeper)
        : input_(input), options_(options), mode_(mode), pool_(pool), keeper_(keeper),
          crossings_(options.channels), previous_(options.channels) {}

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
        have_last_time_ = false; // stream time restarts in the new mode
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
        bool no_signal = (frame->GetFlags() & bmdFrameHasNoInputSource) != 0;
        BMDTimeValue time = 0;
        BMDTimeValue duration = 0;
        must(frame->GetStreamTime(&time, &duration, mode_.scale), "GetStreamTime");
        if (duration != mode_.duration) {
            ++stream_time_mismatches;
        }
        // Frames the driver dropped leave a gap in stream time (and in the
        // timecode's count).
        if (have_last_time_ && duration > 0) {
            BMDTimeValue step = time - last_time_;
            if (step <= 0 || step % duration != 0) {
                ++stream_time_mismatches;
            } else {
                skipped += step / duration - 1;
            }
        }
        last_time_ = time;
        have_last_time_ = true;
        long number = frames++ + skipped;
        if (pool_ != nullptr && pool_->refusals() > 0) {
            ++frames_after_refusal;
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
        if (keeper_ != nullptr && (options_.hold > 0 || options_.hold_ms > 0)) {
            keeper_->keep(frame);
            if (options_.hold > 0) {
                keeper_->release_beyond(static_cast<size_t>(options_.hold));
            }
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
        std::printf("frames_after_stop=%ld\nskipped=%ld\n", frames_after_stop, skipped);
        std::printf("frames_in_own_buffers=%ld\nframes_in_other_buffers=%ld\n",
                    frames_in_own_buffers, frames_in_other_buffers);
        std::printf("buffer_size_mismatches=%ld\nframes_after_refusal=%ld\n",
                    buffer_size_mismatches, frames_after_refusal);
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
    long skipped = 0; // frames missing between those that came
    long frames_in_own_buffers = 0;
    long frames_in_other_buffers = 0;
    long buffer_size_mismatches = 0;
    long frames_after_refusal = 0;

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
        if (pool_ != nullptr) {
            size_t size = pool_->size_of(bytes);
            if (size == 0) {
                ++frames_in_other_buffers;
            } else {
                ++frames_in_own_buffers;
                if (size != static_cast<size_t>(row_bytes * height)) {
                    ++buffer_size_mismatches;
                }
            }
        }
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
    Pool *pool_;
    Keeper *keeper_;
    bool changed_ = false;
    bool have_last_time_ = false;
    BMDTimeValue last_time_ = 0;
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
    long (*dropped_frames)() = nullptr;

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
    d.dropped_frames =
        reinterpret_cast<long (*)()>(dlsym(d.library, "makara_fake_decklink_dropped_frames"));
    if (create == nullptr || d.live_objects == nullptr || d.dropped_frames == nullptr) {
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
    std::unique_ptr<Pool> pool;
    if (options.pool > 0) {
        pool.reset(new Pool(options.pool));
        must(d.input->SetVideoInputFrameMemoryAllocator(pool.get()),
             "SetVideoInputFrameMemoryAllocator");
    }
    Keeper keeper(pool.get());
    Counter counter(d.input, options, mode, pool.get(), &keeper);
    BMDVideoInputFlags flags =
        options.detect ? bmdVideoInputEnableFormatDetection : bmdVideoInputFlagDefault;
    must(d.input->EnableVideoInput(mode.code, options.format, flags), "EnableVideoInput");
    must(d.input->EnableAudioInput(bmdAudioSampleRate48kHz, options.bits, options.channels),
         "EnableAudioInput");
    must(d.input->SetCallback(&counter), "SetCallback");
    // Measured around both calls: no frame can come outside this time.
    auto start = std::chrono::steady_clock::now();
    must(d.input->StartStreams(), "StartStreams");
    auto end = start + std::chrono::milliseconds(options.ms);
    while (std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(5),
                                                          end - std::chrono::steady_clock::now()));
        if (options.hold_ms > 0) {
            keeper.release_older_than(options.hold_ms);
        }
    }
    must(d.input->StopStreams(), "StopStreams");
    auto elapsed = std::chrono::steady_clock::now() - start;
    must(d.input->SetCallback(nullptr), "SetCallback(NULL)");
    d.input->DisableAudioInput();
    d.input->DisableVideoInput();
    if (pool) {
        must(d.input->SetVideoInputFrameMemoryAllocator(nullptr),
             "SetVideoInputFrameMemoryAllocator(NULL)");
    }
    counter.print();
    std::printf("elapsed_ms=%lld\n",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
    d.release();
    // Frames still kept outlive the input: they give their buffers back now.
    std::printf("kept_after_input=%zu\nlive_objects_while_kept=%ld\n", keeper.count(),
                d.live_objects());
    keeper.release_beyond(0);
    std::printf("kept_frames_changed=%ld\ndropped_frames=%ld\n", keeper.changed.load(),
                d.dropped_frames());
    if (pool) {
        pool->print();
    }
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
    // Video is enabled (detection_accepted).
    Pool refused(4);
    check("allocator_refused_while_enabled",
          input->SetVideoInputFrameMemoryAllocator(&refused) == E_ACCESSDENIED &&
              input->SetVideoInputFrameMemoryAllocator(nullptr) == E_ACCESSDENIED &&
              refused.refs() == 1 && refused.commits() == 0);
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

    Pool pool(4);
    check("allocator_set_while_disabled",
          input->SetVideoInputFrameMemoryAllocator(&pool) == S_OK && pool.refs() == 2 &&
              pool.commits() == 0);
    check("allocator_unset_by_null",
          input->SetVideoInputFrameMemoryAllocator(nullptr) == S_OK && pool.refs() == 1);
    input->SetVideoInputFrameMemoryAllocator(&pool);
    bool once = input->EnableVideoInput(bmdModeNTSC, bmdFormat8BitYUV, 0) == S_OK &&
                pool.commits() == 1 && pool.decommits() == 0;
    // Another mode over an enabled one (as after a format change): no
    // second Commit.
    once = once && input->EnableVideoInput(bmdModePAL, bmdFormat8BitYUV, 0) == S_OK &&
           pool.commits() == 1;
    once = once && input->DisableVideoInput() == S_OK && pool.decommits() == 1;
    once = once && input->DisableVideoInput() == S_OK && pool.decommits() == 1;
    once = once && input->EnableVideoInput(bmdModePAL, bmdFormat10BitYUV, 0) == S_OK &&
           pool.commits() == 2 && pool.decommits() == 1;
    once = once && input->DisableVideoInput() == S_OK && pool.decommits() == 2;
    check("commit_and_decommit_once_per_enable", once);
    check("no_allocation_without_streams", pool.allocations() == 0 && pool.refusals() == 0);

    Pool failing(4, E_OUTOFMEMORY);
    bool failed = input->SetVideoInputFrameMemoryAllocator(&failing) == S_OK &&
                  pool.refs() == 1 &&
                  input->EnableVideoInput(bmdModePAL, bmdFormat8BitYUV, 0) == E_OUTOFMEMORY &&
                  failing.commits() == 1 &&
                  // Video stayed disabled: the allocator can be changed.
                  input->SetVideoInputFrameMemoryAllocator(nullptr) == S_OK &&
                  failing.decommits() == 0 && failing.refs() == 1;
    check("failed_commit_fails_enable", failed);

    Pool last(4);
    input->SetVideoInputFrameMemoryAllocator(&last);
    input->EnableVideoInput(bmdModePAL, bmdFormat8BitYUV, 0);
    d.release();
    check("release_decommits",
          last.commits() == 1 && last.decommits() == 1 && last.refs() == 1);
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
