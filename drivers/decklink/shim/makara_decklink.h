/*
 * The C API of makara-decklink's shim over the DeckLink SDK (C++, COM-style
 * interfaces). `src/ffi.rs` declares the same items in Rust; keep the two
 * in step.
 *
 * Every function catches C++ exceptions and reports them as a status, and
 * none keeps a pointer it was given after it returns.
 */
#ifndef MAKARA_DECKLINK_H
#define MAKARA_DECKLINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a call returns. On failure, `message` (when not NULL) holds a
 * NUL-terminated description, truncated to `message_len` bytes. */
enum mkdl_status {
    MKDL_OK = 0,
    /* dlopen failed; the message is dlerror()'s. */
    MKDL_LOAD_FAILED = 1,
    /* The library has no CreateDeckLinkIteratorInstance_0003; the message
     * is dlerror()'s. */
    MKDL_NO_ENTRY_POINT = 2,
    /* CreateDeckLinkIteratorInstance_0003 returned NULL. */
    MKDL_NO_ITERATOR = 3,
    /* An SDK call failed; the message names the call and its HRESULT. */
    MKDL_CALL_FAILED = 4,
    /* Memory ran out (std::bad_alloc) or another C++ exception escaped. */
    MKDL_EXCEPTION = 5,
};

/* The DeckLink API library, opened. */
typedef struct mkdl_api mkdl_api;

/* A snapshot of the devices: everything copied out of the SDK's objects,
 * which are all released before mkdl_enumerate returns. */
typedef struct mkdl_devices mkdl_devices;

typedef struct mkdl_device_info {
    /* Never NULL; valid until mkdl_devices_free. */
    const char *model_name;
    const char *display_name;
    /* 1 when the device answers IID_IDeckLinkInput (it can capture). */
    int32_t has_input;
    /* BMDDeckLinkVideoInputConnections: BMDVideoConnection bits. */
    uint32_t input_connections;
    /* BMDDeckLinkSupportsInputFormatDetection. */
    int32_t detects_input_format;
    /* BMDDeckLinkMaximumAudioChannels (0 when the driver does not say). */
    int64_t max_audio_channels;
    /* The input display modes, in the SDK's order (0 without input). */
    size_t mode_count;
} mkdl_device_info;

typedef struct mkdl_mode_info {
    /* Never NULL; valid until mkdl_devices_free. */
    const char *name;
    /* BMDDisplayMode, a four-character code such as 'Hp59'. */
    uint32_t code;
    int64_t width;
    int64_t height;
    /* One frame lasts frame_duration / time_scale seconds. */
    int64_t frame_duration;
    int64_t time_scale;
    /* BMDFieldDominance: 'prog', 'psf ', 'lowr', 'uppr', or 0. */
    uint32_t field_dominance;
} mkdl_mode_info;

/* Opens `library` (a path, or a name dlopen searches for) and finds its
 * iterator entry point. The library stays loaded for the rest of the
 * process, as with the SDK's own dispatch: the real one starts threads of
 * its own. On MKDL_OK, *api is set and must be given to mkdl_close. */
int32_t mkdl_open(const char *library, mkdl_api **api, char *message, size_t message_len);

/* Frees what mkdl_open allocated. NULL is allowed. */
void mkdl_close(mkdl_api *api);

/* Lists every device the library reports. On MKDL_OK, *devices is set and
 * must be given to mkdl_devices_free. */
int32_t mkdl_enumerate(const mkdl_api *api, mkdl_devices **devices, char *message,
                       size_t message_len);

size_t mkdl_device_count(const mkdl_devices *devices);

/* NULL when `index` is out of range. */
const mkdl_device_info *mkdl_device(const mkdl_devices *devices, size_t index);

/* NULL when either index is out of range. */
const mkdl_mode_info *mkdl_mode(const mkdl_devices *devices, size_t device, size_t mode);

/* NULL is allowed. */
void mkdl_devices_free(mkdl_devices *devices);

/* ---- Capture ---------------------------------------------------------- */

/* Frame buffers the card can capture into: `count` buffers of `size`
 * bytes, the slots of the caller's frame pool. It is the capture's
 * IDeckLinkMemoryAllocator: the driver takes a free buffer for each frame
 * and gives it back (ReleaseBuffer) when the frame it delivered in it is
 * released; the caller may also take a free one (for a frame it writes
 * itself) and give it back. Reference counted: it lives while the caller,
 * the driver or a kept frame holds it. */
typedef struct mkdl_buffers mkdl_buffers;

/* Zeroed, 64-byte aligned buffers, all free; one reference, the caller's.
 * NULL when memory runs out or `count` or `size` is 0. */
mkdl_buffers *mkdl_buffers_new(size_t count, size_t size);
void mkdl_buffers_retain(mkdl_buffers *buffers);
void mkdl_buffers_release(mkdl_buffers *buffers);
/* Buffer `index`'s first byte; NULL when `index` is out of range. */
uint8_t *mkdl_buffers_at(const mkdl_buffers *buffers, size_t index);
/* Marks a free buffer taken by the caller and returns its index, or -1
 * when none is free. */
int64_t mkdl_buffers_claim(mkdl_buffers *buffers);
/* Marks buffer `index`, taken by the caller, free again. */
void mkdl_buffers_free(mkdl_buffers *buffers, size_t index);

/* Keeps a frame the callback got (its `video_frame`) beyond the callback:
 * its buffer stays the caller's until mkdl_frame_release. */
void *mkdl_frame_keep(void *video_frame);
void mkdl_frame_release(void *kept);

/* A running capture from one device's input. */
typedef struct mkdl_input mkdl_input;

/* One call of the driver's VideoInputFrameArrived, as the shim passes it
 * on. Every pointer is valid only during the callback. */
typedef struct mkdl_frame {
    /* 0 when the driver delivered sound without a picture. */
    int32_t has_video;
    /* The driver's frame object (IDeckLinkVideoInputFrame), for
     * mkdl_frame_keep; borrowed for the callback. */
    void *video_frame;
    /* The picture: `height` rows of `row_bytes`, in `pixel_format`
     * ('2vuy' 8-bit UYVY or 'v210' 10-bit 4:2:2). */
    const uint8_t *bytes;
    int64_t row_bytes;
    int64_t width;
    int64_t height;
    uint32_t pixel_format;
    /* bmdFrameHasNoInputSource: the card sees no signal; the picture is
     * the card's filler, not a source's. */
    int32_t no_signal;
    /* GetStreamTime: the frame's time since the streams started, and how
     * long it lasts, in units of `time_scale`. */
    int64_t stream_time;
    int64_t stream_duration;
    /* The time scale of stream_time, stream_duration and audio_time. */
    int64_t time_scale;
    /* RP188 (any) else VITC timecode, as BMDTimecodeBCD, when present. */
    int32_t has_timecode;
    uint32_t timecode_bcd;
    /* The sound of the frame: `audio_frames` sample frames of
     * `audio_channels` interleaved 32-bit samples at 48 kHz, starting at
     * `audio_time`; NULL and 0 when the call carried none. */
    const int32_t *audio;
    int64_t audio_frames;
    int32_t audio_channels;
    int64_t audio_time;
} mkdl_frame;

/* A format the card detected (VideoInputFormatChanged). The shim has
 * already re-enabled the input in it when the callback runs. */
typedef struct mkdl_format {
    uint32_t mode_code;
    int64_t width;
    int64_t height;
    int64_t frame_duration;
    int64_t time_scale;
    uint32_t field_dominance;
    uint32_t pixel_format;
} mkdl_format;

/* Called on the driver's thread, one call at a time. They must not
 * unwind, and must not call mkdl_input_close. */
typedef struct mkdl_callbacks {
    void *context;
    void (*frame)(void *context, const mkdl_frame *frame);
    void (*format_changed)(void *context, const mkdl_format *format);
} mkdl_callbacks;

/* Starts capturing from device `device` (an index of mkdl_enumerate's
 * list) in display mode `mode_code`, with `pixel_format` ('2vuy' or
 * 'v210'). With `detect_format`, the card's format detection is on: the
 * shim follows the signal to every format it reports. Sound: 32-bit,
 * 48 kHz, `audio_channels` (2, 8 or 16). With `buffers` (else NULL), the
 * card is asked to capture into them; a driver that refuses captures into
 * its own memory, and *uses_buffers says which. On MKDL_OK *input is set,
 * the callbacks may run from then on, and *input must be given to
 * mkdl_input_close. */
int32_t mkdl_input_open(const mkdl_api *api, size_t device, uint32_t mode_code,
                        uint32_t pixel_format, int32_t detect_format, uint32_t audio_channels,
                        mkdl_buffers *buffers, const mkdl_callbacks *callbacks,
                        mkdl_input **input, int32_t *uses_buffers, char *message,
                        size_t message_len);

/* Stops the streams and releases the input. When it returns, no callback
 * runs or will run, so their context may be freed. NULL is allowed. */
void mkdl_input_close(mkdl_input *input);

#ifdef __cplusplus
}
#endif

#endif
