// The shim: the DeckLink SDK's C++ interfaces behind the C API of
// makara_decklink.h. The dispatch (dlopen of libDeckLinkAPI.so and the
// lookup of its versioned entry point) is done here rather than by the
// SDK's DeckLinkAPIDispatch.cpp, so that the library's path is the
// caller's to choose and failures come back as values.

#include "makara_decklink.h"

#include <dlfcn.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "DeckLinkAPI.h"

typedef IDeckLinkIterator *(*CreateIteratorFunc)(void);

struct mkdl_api {
    CreateIteratorFunc create_iterator;
};


static bool same_iid(REFIID a, REFIID b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Reference counting and QueryInterface for the shim's own COM objects,
// which answer IUnknown and the one interface they implement. (Outside the
// anonymous namespace: mkdl_buffers, a C API type, derives from it.)
template <typename Interface> class ShimObject : public Interface {
  public:
    explicit ShimObject(REFIID iid) : iid_(iid) {}

    HRESULT QueryInterface(REFIID iid, LPVOID *out) override {
        if (same_iid(iid, IID_IUnknown) || same_iid(iid, iid_)) {
            *out = static_cast<Interface *>(this);
            AddRef();
            return S_OK;
        }
        *out = nullptr;
        return E_NOINTERFACE;
    }
    ULONG AddRef() override { return ++refs_; }
    ULONG Release() override {
        ULONG left = --refs_;
        if (left == 0) {
            delete this;
        }
        return left;
    }

  protected:
    virtual ~ShimObject() {}

  private:
    REFIID iid_;
    std::atomic<ULONG> refs_{1};
};

// The caller's frame buffers, offered to the driver as its allocator.
// Each buffer is free, the driver's (from AllocateBuffer to ReleaseBuffer)
// or the caller's (from claim to free_buffer); the mutex keeps the three
// apart, so a buffer is never given to two owners.
struct mkdl_buffers : public ShimObject<IDeckLinkMemoryAllocator> {
  public:
    mkdl_buffers(size_t count, size_t size, uint8_t *memory, size_t stride)
        : ShimObject(IID_IDeckLinkMemoryAllocator), count_(count), size_(size), stride_(stride),
          memory_(memory), free_(count, true) {}

    // A free buffer for the driver; none when all are taken or it asks
    // for more than a buffer holds (a frame of another format): the
    // driver then drops the frame.
    HRESULT AllocateBuffer(uint32_t size, void **buffer) override {
        if (buffer == nullptr) {
            return E_POINTER;
        }
        *buffer = nullptr;
        if (size > size_) {
            return E_OUTOFMEMORY;
        }
        int64_t index = claim();
        if (index < 0) {
            return E_OUTOFMEMORY;
        }
        *buffer = at(static_cast<size_t>(index));
        return S_OK;
    }

    HRESULT ReleaseBuffer(void *buffer) override {
        uint8_t *p = static_cast<uint8_t *>(buffer);
        if (p < memory_ || p >= memory_ + count_ * stride_ ||
            (p - memory_) % static_cast<ptrdiff_t>(stride_) != 0) {
            return E_INVALIDARG;
        }
        free_buffer(static_cast<size_t>(p - memory_) / stride_);
        return S_OK;
    }

    HRESULT Commit() override { return S_OK; }
    HRESULT Decommit() override { return S_OK; }

    uint8_t *at(size_t index) const { return index < count_ ? memory_ + index * stride_ : nullptr; }

    int64_t claim() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (size_t i = 0; i < count_; ++i) {
            if (free_[i]) {
                free_[i] = false;
                return static_cast<int64_t>(i);
            }
        }
        return -1;
    }

    void free_buffer(size_t index) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (index < count_) {
            free_[index] = true;
        }
    }

  private:
    ~mkdl_buffers() override { std::free(memory_); }

    size_t count_;
    size_t size_;
    size_t stride_;
    uint8_t *memory_;
    std::mutex mutex_;
    std::vector<bool> free_;
};

namespace {

// The entry point of SDK 10.9.12's DeckLinkAPIDispatch.cpp.
const char kIteratorEntryPoint[] = "CreateDeckLinkIteratorInstance_0003";

// Holds one reference to a COM object and releases it when it goes.
template <typename T> class Ref {
  public:
    Ref() : p_(nullptr) {}
    ~Ref() {
        if (p_ != nullptr) {
            p_->Release();
        }
    }
    Ref(const Ref &) = delete;
    Ref &operator=(const Ref &) = delete;
    T **out() { return &p_; }
    T *operator->() const { return p_; }
    T *get() const { return p_; }

  private:
    T *p_;
};

// Copies `text` into the caller's buffer, NUL-terminated and truncated.
void set_message(char *message, size_t message_len, const std::string &text) {
    if (message == nullptr || message_len == 0) {
        return;
    }
    size_t n = text.size() < message_len - 1 ? text.size() : message_len - 1;
    std::memcpy(message, text.data(), n);
    message[n] = '\0';
}

// An SDK call's failure, with its HRESULT.
struct CallFailed {
    std::string text;
};

void check(HRESULT result, const char *call) {
    if (result != S_OK) {
        char text[160];
        std::snprintf(text, sizeof text, "%s returned HRESULT 0x%08x", call,
                      static_cast<unsigned>(result));
        throw CallFailed{text};
    }
}

// Runs a C API call's body, turning what it throws into a status and a
// message: nothing unwinds into the caller.
template <typename Body> int32_t guarded(char *message, size_t message_len, Body body) {
    try {
        return body();
    } catch (const CallFailed &e) {
        set_message(message, message_len, e.text);
        return MKDL_CALL_FAILED;
    } catch (const std::exception &e) {
        set_message(message, message_len, e.what());
        return MKDL_EXCEPTION;
    } catch (...) {
        set_message(message, message_len, "unknown C++ exception");
        return MKDL_EXCEPTION;
    }
}

// Takes a string the SDK allocated for us (Linux: with malloc) and frees it.
std::string take_string(const char *text) {
    std::string copy = text != nullptr ? text : "";
    std::free(const_cast<char *>(text));
    return copy;
}

struct Mode {
    std::string name;
    mkdl_mode_info info = {};
};

struct Device {
    std::string model_name;
    std::string display_name;
    mkdl_device_info info = {};
    std::vector<Mode> modes;
};

// An attribute a device may not have (older cards lack some): its absence
// reads as zero, any other failure is an error.
int64_t int_attribute(IDeckLinkAttributes *attributes, BMDDeckLinkAttributeID id,
                      const char *call) {
    int64_t value = 0;
    HRESULT result = attributes->GetInt(id, &value);
    if (result == E_NOTIMPL || result == E_INVALIDARG) {
        return 0;
    }
    check(result, call);
    return value;
}

bool flag_attribute(IDeckLinkAttributes *attributes, BMDDeckLinkAttributeID id,
                    const char *call) {
    bool value = false;
    HRESULT result = attributes->GetFlag(id, &value);
    if (result == E_NOTIMPL || result == E_INVALIDARG) {
        return false;
    }
    check(result, call);
    return value;
}

void read_modes(IDeckLinkInput *input, std::vector<Mode> &modes) {
    Ref<IDeckLinkDisplayModeIterator> iterator;
    check(input->GetDisplayModeIterator(iterator.out()),
          "IDeckLinkInput::GetDisplayModeIterator");
    for (;;) {
        Ref<IDeckLinkDisplayMode> mode;
        if (iterator->Next(mode.out()) != S_OK || mode.get() == nullptr) {
            break;
        }
        Mode m;
        const char *name = nullptr;
        check(mode->GetName(&name), "IDeckLinkDisplayMode::GetName");
        m.name = take_string(name);
        m.info.name = nullptr;
        m.info.code = mode->GetDisplayMode();
        m.info.width = mode->GetWidth();
        m.info.height = mode->GetHeight();
        BMDTimeValue duration = 0;
        BMDTimeScale scale = 0;
        check(mode->GetFrameRate(&duration, &scale), "IDeckLinkDisplayMode::GetFrameRate");
        m.info.frame_duration = duration;
        m.info.time_scale = scale;
        m.info.field_dominance = mode->GetFieldDominance();
        modes.push_back(std::move(m));
    }
}

Device read_device(IDeckLink *decklink) {
    Device d;
    const char *text = nullptr;
    check(decklink->GetModelName(&text), "IDeckLink::GetModelName");
    d.model_name = take_string(text);
    text = nullptr;
    check(decklink->GetDisplayName(&text), "IDeckLink::GetDisplayName");
    d.display_name = take_string(text);

    d.info.input_connections = 0;
    d.info.detects_input_format = 0;
    d.info.max_audio_channels = 0;
    Ref<IDeckLinkAttributes> attributes;
    if (decklink->QueryInterface(IID_IDeckLinkAttributes,
                                 reinterpret_cast<void **>(attributes.out())) == S_OK) {
        d.info.input_connections = static_cast<uint32_t>(
            int_attribute(attributes.get(), BMDDeckLinkVideoInputConnections,
                          "IDeckLinkAttributes::GetInt(BMDDeckLinkVideoInputConnections)"));
        d.info.max_audio_channels =
            int_attribute(attributes.get(), BMDDeckLinkMaximumAudioChannels,
                          "IDeckLinkAttributes::GetInt(BMDDeckLinkMaximumAudioChannels)");
        d.info.detects_input_format = flag_attribute(
            attributes.get(), BMDDeckLinkSupportsInputFormatDetection,
            "IDeckLinkAttributes::GetFlag(BMDDeckLinkSupportsInputFormatDetection)");
    }

    Ref<IDeckLinkInput> input;
    d.info.has_input = decklink->QueryInterface(IID_IDeckLinkInput,
                                                reinterpret_cast<void **>(input.out())) == S_OK;
    if (d.info.has_input) {
        read_modes(input.get(), d.modes);
    }
    return d;
}



// The time scale the shim asks every time in: 90 kHz, MPEG's own clock,
// divides into whole ticks the frame durations of every broadcast rate
// (the 1001 ones included) and the 48 kHz sample period's multiples the
// driver packs.
const BMDTimeScale kTimeScale = 90000;

// A frame's timecode: RP188 (VITC1, LTC or VITC2, whichever is valid
// first) where the source sends it, else VITC.
bool read_timecode(IDeckLinkVideoInputFrame *frame, uint32_t *bcd) {
    const BMDTimecodeFormat formats[] = {bmdTimecodeRP188Any, bmdTimecodeVITC};
    for (BMDTimecodeFormat format : formats) {
        Ref<IDeckLinkTimecode> timecode;
        if (frame->GetTimecode(format, timecode.out()) == S_OK && timecode.get() != nullptr) {
            *bcd = timecode->GetBCD();
            return true;
        }
    }
    return false;
}

// The input callback the driver calls on its own thread. It passes frames
// on to the caller's callbacks, follows format changes, and lets stop()
// wait until no call is inside.
class Capture : public ShimObject<IDeckLinkInputCallback> {
  public:
    Capture(IDeckLinkInput *input, const mkdl_callbacks &callbacks, uint32_t pixel_format,
            bool detect_format, uint32_t audio_channels)
        : ShimObject(IID_IDeckLinkInputCallback), input_(input), callbacks_(callbacks), pixel_format_(pixel_format),
          detect_format_(detect_format), audio_channels_(audio_channels) {
        input_->AddRef();
    }

    HRESULT VideoInputFrameArrived(IDeckLinkVideoInputFrame *video,
                                   IDeckLinkAudioInputPacket *audio) override {
        Entry entry(*this);
        if (!entry.admitted()) {
            return S_OK;
        }
        try {
            mkdl_frame frame = {};
            frame.time_scale = kTimeScale;
            if (video != nullptr) {
                describe_video(video, &frame);
            }
            if (audio != nullptr) {
                describe_audio(audio, &frame);
            }
            callbacks_.frame(callbacks_.context, &frame);
        } catch (...) {
            // Nothing may unwind into the driver: the frame is lost.
        }
        return S_OK;
    }

    // The card sees another format: capture goes on in it (pause, enable
    // the new mode, flush, start: the order the SDK documents), then the
    // caller is told. The driver calls this only with format detection on.
    HRESULT VideoInputFormatChanged(BMDVideoInputFormatChangedEvents, IDeckLinkDisplayMode *mode,
                                    BMDDetectedVideoInputFormatFlags) override {
        Entry entry(*this);
        if (!entry.admitted() || mode == nullptr) {
            return S_OK;
        }
        try {
            input_->PauseStreams();
            if (input_->EnableVideoInput(mode->GetDisplayMode(), pixel_format_,
                                         bmdVideoInputEnableFormatDetection) != S_OK) {
                // The new format cannot be captured: no more frames come,
                // which the caller sees as a lost signal.
                return S_OK;
            }
            input_->FlushStreams();
            input_->StartStreams();
            mkdl_format format = {};
            format.mode_code = mode->GetDisplayMode();
            format.width = mode->GetWidth();
            format.height = mode->GetHeight();
            BMDTimeValue duration = 0;
            BMDTimeScale scale = 0;
            mode->GetFrameRate(&duration, &scale);
            format.frame_duration = duration;
            format.time_scale = scale;
            format.field_dominance = mode->GetFieldDominance();
            format.pixel_format = pixel_format_;
            callbacks_.format_changed(callbacks_.context, &format);
        } catch (...) {
        }
        return S_OK;
    }

    // Offers the caller's buffers to the driver; says whether it took them.
    bool use_buffers(mkdl_buffers *buffers) {
        return buffers != nullptr && input_->SetVideoInputFrameMemoryAllocator(buffers) == S_OK;
    }

    // Enables video and sound and starts the streams; throws CallFailed.
    void start(BMDDisplayMode mode) {
        BMDVideoInputFlags flags =
            detect_format_ ? bmdVideoInputEnableFormatDetection : bmdVideoInputFlagDefault;
        check(input_->EnableVideoInput(mode, pixel_format_, flags),
              "IDeckLinkInput::EnableVideoInput");
        check(input_->EnableAudioInput(bmdAudioSampleRate48kHz, bmdAudioSampleType32bitInteger,
                                       audio_channels_),
              "IDeckLinkInput::EnableAudioInput");
        check(input_->SetCallback(this), "IDeckLinkInput::SetCallback");
        check(input_->StartStreams(), "IDeckLinkInput::StartStreams");
    }

    // Stops everything. When it returns no callback is inside or will
    // enter, whatever the driver itself guarantees.
    void stop() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            closing_ = true;
        }
        input_->StopStreams();
        input_->SetCallback(nullptr);
        {
            std::unique_lock<std::mutex> lock(mutex_);
            idle_.wait(lock, [this] { return inside_ == 0; });
        }
        // A format change that was inside may have started the streams
        // again after the first stop.
        input_->StopStreams();
        input_->DisableAudioInput();
        input_->DisableVideoInput();
        // The driver lets go of the buffers; frames the caller keeps still
        // hold them.
        input_->SetVideoInputFrameMemoryAllocator(nullptr);
    }

  private:
    ~Capture() override { input_->Release(); }

    // Counts a callback in, unless the capture is stopping.
    class Entry {
      public:
        explicit Entry(Capture &capture) : capture_(capture) {
            std::lock_guard<std::mutex> lock(capture_.mutex_);
            admitted_ = !capture_.closing_;
            if (admitted_) {
                ++capture_.inside_;
            }
        }
        ~Entry() {
            if (!admitted_) {
                return;
            }
            std::lock_guard<std::mutex> lock(capture_.mutex_);
            if (--capture_.inside_ == 0) {
                capture_.idle_.notify_all();
            }
        }
        Entry(const Entry &) = delete;
        Entry &operator=(const Entry &) = delete;
        bool admitted() const { return admitted_; }

      private:
        Capture &capture_;
        bool admitted_;
    };

    void describe_video(IDeckLinkVideoInputFrame *video, mkdl_frame *frame) {
        void *bytes = nullptr;
        if (video->GetBytes(&bytes) != S_OK || bytes == nullptr) {
            return;
        }
        frame->has_video = 1;
        frame->video_frame = video;
        frame->bytes = static_cast<const uint8_t *>(bytes);
        frame->row_bytes = video->GetRowBytes();
        frame->width = video->GetWidth();
        frame->height = video->GetHeight();
        frame->pixel_format = video->GetPixelFormat();
        frame->no_signal = (video->GetFlags() & bmdFrameHasNoInputSource) != 0;
        BMDTimeValue time = 0;
        BMDTimeValue duration = 0;
        if (video->GetStreamTime(&time, &duration, kTimeScale) == S_OK) {
            frame->stream_time = time;
            frame->stream_duration = duration;
        }
        frame->has_timecode = read_timecode(video, &frame->timecode_bcd);
    }

    void describe_audio(IDeckLinkAudioInputPacket *audio, mkdl_frame *frame) {
        void *bytes = nullptr;
        long count = audio->GetSampleFrameCount();
        if (count <= 0 || audio->GetBytes(&bytes) != S_OK || bytes == nullptr) {
            return;
        }
        BMDTimeValue time = 0;
        if (audio->GetPacketTime(&time, kTimeScale) != S_OK) {
            return;
        }
        frame->audio = static_cast<const int32_t *>(bytes);
        frame->audio_frames = count;
        frame->audio_channels = static_cast<int32_t>(audio_channels_);
        frame->audio_time = time;
    }

    IDeckLinkInput *input_;
    mkdl_callbacks callbacks_;
    uint32_t pixel_format_;
    bool detect_format_;
    uint32_t audio_channels_;
    std::mutex mutex_;
    std::condition_variable idle_;
    bool closing_ = false;
    int inside_ = 0;
};

// The `index`-th device of a fresh iteration, with one reference; throws
// CallFailed when there is none.
IDeckLink *nth_device(const mkdl_api *api, size_t index) {
    Ref<IDeckLinkIterator> iterator;
    *iterator.out() = api->create_iterator();
    if (iterator.get() == nullptr) {
        throw CallFailed{std::string(kIteratorEntryPoint) + " returned no iterator"};
    }
    for (size_t i = 0;; ++i) {
        IDeckLink *decklink = nullptr;
        if (iterator->Next(&decklink) != S_OK || decklink == nullptr) {
            throw CallFailed{"no DeckLink device at index " + std::to_string(index)};
        }
        if (i == index) {
            return decklink;
        }
        decklink->Release();
    }
}

} // namespace

struct mkdl_devices {
    std::vector<Device> devices;
};

extern "C" int32_t mkdl_open(const char *library, mkdl_api **api, char *message,
                             size_t message_len) {
    return guarded(message, message_len, [&]() -> int32_t {
        void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char *error = dlerror();
            set_message(message, message_len, error != nullptr ? error : "dlopen failed");
            return MKDL_LOAD_FAILED;
        }
        dlerror();
        void *symbol = dlsym(handle, kIteratorEntryPoint);
        if (symbol == nullptr) {
            const char *error = dlerror();
            set_message(message, message_len, error != nullptr ? error : kIteratorEntryPoint);
            return MKDL_NO_ENTRY_POINT;
        }
        mkdl_api *opened = new mkdl_api;
        opened->create_iterator = reinterpret_cast<CreateIteratorFunc>(symbol);
        *api = opened;
        return MKDL_OK;
    });
}

extern "C" void mkdl_close(mkdl_api *api) { delete api; }

extern "C" int32_t mkdl_enumerate(const mkdl_api *api, mkdl_devices **devices, char *message,
                                  size_t message_len) {
    return guarded(message, message_len, [&]() -> int32_t {
        Ref<IDeckLinkIterator> iterator;
        *iterator.out() = api->create_iterator();
        if (iterator.get() == nullptr) {
            set_message(message, message_len,
                        std::string(kIteratorEntryPoint) + " returned no iterator");
            return MKDL_NO_ITERATOR;
        }
        std::unique_ptr<mkdl_devices> list(new mkdl_devices);
        for (;;) {
            Ref<IDeckLink> decklink;
            if (iterator->Next(decklink.out()) != S_OK || decklink.get() == nullptr) {
                break;
            }
            list->devices.push_back(read_device(decklink.get()));
        }
        // The strings have their final addresses only now that nothing
        // more is pushed.
        for (Device &d : list->devices) {
            d.info.model_name = d.model_name.c_str();
            d.info.display_name = d.display_name.c_str();
            d.info.mode_count = d.modes.size();
            for (Mode &m : d.modes) {
                m.info.name = m.name.c_str();
            }
        }
        *devices = list.release();
        return MKDL_OK;
    });
}

extern "C" size_t mkdl_device_count(const mkdl_devices *devices) {
    return devices->devices.size();
}

extern "C" const mkdl_device_info *mkdl_device(const mkdl_devices *devices, size_t index) {
    if (index >= devices->devices.size()) {
        return nullptr;
    }
    return &devices->devices[index].info;
}

extern "C" const mkdl_mode_info *mkdl_mode(const mkdl_devices *devices, size_t device,
                                           size_t mode) {
    if (device >= devices->devices.size() || mode >= devices->devices[device].modes.size()) {
        return nullptr;
    }
    return &devices->devices[device].modes[mode].info;
}

extern "C" void mkdl_devices_free(mkdl_devices *devices) { delete devices; }

struct mkdl_input {
    Capture *capture;
};

extern "C" int32_t mkdl_input_open(const mkdl_api *api, size_t device, uint32_t mode_code,
                                   uint32_t pixel_format, int32_t detect_format,
                                   uint32_t audio_channels, mkdl_buffers *buffers,
                                   const mkdl_callbacks *callbacks, mkdl_input **input,
                                   int32_t *uses_buffers, char *message, size_t message_len) {
    return guarded(message, message_len, [&]() -> int32_t {
        Ref<IDeckLink> decklink;
        *decklink.out() = nth_device(api, device);
        Ref<IDeckLinkInput> device_input;
        check(decklink->QueryInterface(IID_IDeckLinkInput,
                                       reinterpret_cast<void **>(device_input.out())),
              "IDeckLink::QueryInterface(IID_IDeckLinkInput)");
        Capture *capture = new Capture(device_input.get(), *callbacks, pixel_format,
                                       detect_format != 0, audio_channels);
        try {
            *uses_buffers = capture->use_buffers(buffers);
            capture->start(mode_code);
        } catch (...) {
            capture->stop();
            capture->Release();
            throw;
        }
        *input = new mkdl_input{capture};
        return MKDL_OK;
    });
}

extern "C" void mkdl_input_close(mkdl_input *input) {
    if (input == nullptr) {
        return;
    }
    try {
        input->capture->stop();
    } catch (...) {
        // The driver threw while stopping: the callbacks are shut out all
        // the same (stop() set closing first).
    }
    input->capture->Release();
    delete input;
}

extern "C" mkdl_buffers *mkdl_buffers_new(size_t count, size_t size) {
    const size_t align = 64;
    if (count == 0 || size == 0 || size > SIZE_MAX - align) {
        return nullptr;
    }
    size_t stride = (size + align - 1) / align * align;
    if (stride > SIZE_MAX / count) {
        return nullptr;
    }
    void *memory = nullptr;
    if (posix_memalign(&memory, align, stride * count) != 0) {
        return nullptr;
    }
    std::memset(memory, 0, stride * count);
    try {
        return new mkdl_buffers(count, size, static_cast<uint8_t *>(memory), stride);
    } catch (...) {
        std::free(memory);
        return nullptr;
    }
}

extern "C" void mkdl_buffers_retain(mkdl_buffers *buffers) { buffers->AddRef(); }

extern "C" void mkdl_buffers_release(mkdl_buffers *buffers) { buffers->Release(); }

extern "C" uint8_t *mkdl_buffers_at(const mkdl_buffers *buffers, size_t index) {
    return buffers->at(index);
}

extern "C" int64_t mkdl_buffers_claim(mkdl_buffers *buffers) {
    try {
        return buffers->claim();
    } catch (...) {
        return -1;
    }
}

extern "C" void mkdl_buffers_free(mkdl_buffers *buffers, size_t index) {
    try {
        buffers->free_buffer(index);
    } catch (...) {
    }
}

extern "C" void *mkdl_frame_keep(void *video_frame) {
    static_cast<IDeckLinkVideoInputFrame *>(video_frame)->AddRef();
    return video_frame;
}

extern "C" void mkdl_frame_release(void *kept) {
    static_cast<IDeckLinkVideoInputFrame *>(kept)->Release();
}
