// The shim: the DeckLink SDK's C++ interfaces behind the C API of
// makara_decklink.h. The dispatch (dlopen of libDeckLinkAPI.so and the
// lookup of its versioned entry point) is done here rather than by the
// SDK's DeckLinkAPIDispatch.cpp, so that the library's path is the
// caller's to choose and failures come back as values.

#include "makara_decklink.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "DeckLinkAPI.h"

namespace {

// The entry point of SDK 10.9.12's DeckLinkAPIDispatch.cpp.
const char kIteratorEntryPoint[] = "CreateDeckLinkIteratorInstance_0003";

typedef IDeckLinkIterator *(*CreateIteratorFunc)(void);

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
    Ref<IDeckLinkAttributes> attributes;
    if (decklink->QueryInterface(IID_IDeckLinkAttributes,
                                 reinterpret_cast<void **>(attributes.out())) == S_OK) {
        d.info.input_connections = static_cast<uint32_t>(
            int_attribute(attributes.get(), BMDDeckLinkVideoInputConnections,
                          "IDeckLinkAttributes::GetInt(BMDDeckLinkVideoInputConnections)"));
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

} // namespace

struct mkdl_api {
    CreateIteratorFunc create_iterator;
};

struct mkdl_devices {
    std::vector<Device> devices;
};

extern "C" int32_t mkdl_open(const char *library, mkdl_api **api, char *message,
                             size_t message_len) {
    try {
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
    } catch (const std::exception &e) {
        set_message(message, message_len, e.what());
        return MKDL_EXCEPTION;
    } catch (...) {
        set_message(message, message_len, "unknown C++ exception");
        return MKDL_EXCEPTION;
    }
}

extern "C" void mkdl_close(mkdl_api *api) { delete api; }

extern "C" int32_t mkdl_enumerate(const mkdl_api *api, mkdl_devices **devices, char *message,
                                  size_t message_len) {
    try {
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
