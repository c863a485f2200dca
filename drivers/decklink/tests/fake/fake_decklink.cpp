// A fake libDeckLinkAPI.so for the tests: the SDK 10.9.12 entry point the
// shim looks up, over the interfaces enumeration uses, compiled against
// the same vendored headers as the shim so the vtables match.
//
// Built by tests/enumerate.rs in variants chosen by macros:
// - (none): two devices. "DeckLink Duo 2" has an SDI input, format
//   detection and three modes; "DeckLink Mini Monitor" is output-only.
// - FAKE_NO_DEVICES: an iterator that yields nothing (the library of a
//   machine without a card).
// - FAKE_NULL_ITERATOR: the entry point returns NULL.
//
// Methods enumeration does not call answer E_NOTIMPL: the tests must not
// reach them, and a call would show up as a failed HRESULT.

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "DeckLinkAPI.h"

namespace {

bool same_iid(REFIID a, REFIID b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Reference counting shared by every fake object.
template <typename Base> class Counted : public Base {
  public:
    ULONG AddRef() override { return ++refs_; }
    ULONG Release() override {
        ULONG left = --refs_;
        if (left == 0) {
            delete this;
        }
        return left;
    }

  protected:
    virtual ~Counted() {}

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

const ModeSpec kModes[] = {
    {"NTSC", bmdModeNTSC, 720, 486, 1001, 30000, bmdLowerFieldFirst,
     bmdDisplayModeColorspaceRec601},
    {"1080i50", bmdModeHD1080i50, 1920, 1080, 1000, 25000, bmdUpperFieldFirst,
     bmdDisplayModeColorspaceRec709},
    {"1080p59.94", bmdModeHD1080p5994, 1920, 1080, 1001, 60000, bmdProgressiveFrame,
     bmdDisplayModeColorspaceRec709},
};

// Strings the SDK hands out are the caller's to free().
HRESULT give(const char *text, const char **out) {
    *out = strdup(text);
    return *out != nullptr ? S_OK : E_OUTOFMEMORY;
}

class DisplayMode : public Counted<IDeckLinkDisplayMode> {
  public:
    explicit DisplayMode(const ModeSpec &spec) : spec_(spec) {}
    HRESULT QueryInterface(REFIID, LPVOID *ppv) override {
        *ppv = nullptr;
        return E_NOINTERFACE;
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
    HRESULT QueryInterface(REFIID, LPVOID *ppv) override {
        *ppv = nullptr;
        return E_NOINTERFACE;
    }
    HRESULT Next(IDeckLinkDisplayMode **mode) override {
        if (next_ >= sizeof kModes / sizeof kModes[0]) {
            *mode = nullptr;
            return S_FALSE;
        }
        *mode = new DisplayMode(kModes[next_++]);
        return S_OK;
    }

  private:
    size_t next_ = 0;
};

class Input : public Counted<IDeckLinkInput> {
  public:
    HRESULT QueryInterface(REFIID, LPVOID *ppv) override {
        *ppv = nullptr;
        return E_NOINTERFACE;
    }
    HRESULT DoesSupportVideoMode(BMDDisplayMode, BMDPixelFormat, BMDVideoInputFlags,
                                 BMDDisplayModeSupport *, IDeckLinkDisplayMode **) override {
        return E_NOTIMPL;
    }
    HRESULT GetDisplayModeIterator(IDeckLinkDisplayModeIterator **iterator) override {
        *iterator = new DisplayModeIterator;
        return S_OK;
    }
    HRESULT SetScreenPreviewCallback(IDeckLinkScreenPreviewCallback *) override {
        return E_NOTIMPL;
    }
    HRESULT EnableVideoInput(BMDDisplayMode, BMDPixelFormat, BMDVideoInputFlags) override {
        return E_NOTIMPL;
    }
    HRESULT DisableVideoInput() override { return E_NOTIMPL; }
    HRESULT GetAvailableVideoFrameCount(uint32_t *) override { return E_NOTIMPL; }
    HRESULT SetVideoInputFrameMemoryAllocator(IDeckLinkMemoryAllocator *) override {
        return E_NOTIMPL;
    }
    HRESULT EnableAudioInput(BMDAudioSampleRate, BMDAudioSampleType, uint32_t) override {
        return E_NOTIMPL;
    }
    HRESULT DisableAudioInput() override { return E_NOTIMPL; }
    HRESULT GetAvailableAudioSampleFrameCount(uint32_t *) override { return E_NOTIMPL; }
    HRESULT StartStreams() override { return E_NOTIMPL; }
    HRESULT StopStreams() override { return E_NOTIMPL; }
    HRESULT PauseStreams() override { return E_NOTIMPL; }
    HRESULT FlushStreams() override { return E_NOTIMPL; }
    HRESULT SetCallback(IDeckLinkInputCallback *) override { return E_NOTIMPL; }
    HRESULT GetHardwareReferenceClock(BMDTimeScale, BMDTimeValue *, BMDTimeValue *,
                                      BMDTimeValue *) override {
        return E_NOTIMPL;
    }
};

class Attributes : public Counted<IDeckLinkAttributes> {
  public:
    Attributes(int64_t connections, bool detection)
        : connections_(connections), detection_(detection) {}
    HRESULT QueryInterface(REFIID, LPVOID *ppv) override {
        *ppv = nullptr;
        return E_NOINTERFACE;
    }
    HRESULT GetFlag(BMDDeckLinkAttributeID id, bool *value) override {
        if (id != BMDDeckLinkSupportsInputFormatDetection) {
            return E_INVALIDARG;
        }
        *value = detection_;
        return S_OK;
    }
    HRESULT GetInt(BMDDeckLinkAttributeID id, int64_t *value) override {
        if (id != BMDDeckLinkVideoInputConnections) {
            return E_INVALIDARG;
        }
        *value = connections_;
        return S_OK;
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
        : model_(model), display_(display), input_(input), connections_(connections),
          detection_(detection) {}
    HRESULT QueryInterface(REFIID iid, LPVOID *ppv) override {
        *ppv = nullptr;
        if (same_iid(iid, IID_IDeckLinkAttributes)) {
            *ppv = static_cast<IDeckLinkAttributes *>(new Attributes(connections_, detection_));
            return S_OK;
        }
        if (input_ && same_iid(iid, IID_IDeckLinkInput)) {
            *ppv = static_cast<IDeckLinkInput *>(new Input);
            return S_OK;
        }
        return E_NOINTERFACE;
    }
    HRESULT GetModelName(const char **name) override { return give(model_, name); }
    HRESULT GetDisplayName(const char **name) override { return give(display_, name); }

  private:
    const char *model_;
    const char *display_;
    bool input_;
    int64_t connections_;
    bool detection_;
};

class Iterator : public Counted<IDeckLinkIterator> {
  public:
    HRESULT QueryInterface(REFIID, LPVOID *ppv) override {
        *ppv = nullptr;
        return E_NOINTERFACE;
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
    return new Iterator;
#endif
}
