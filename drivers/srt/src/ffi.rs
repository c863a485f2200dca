//! Every call into libsrt (1.5.1, Debian's gnutls build), behind owning
//! types and a safe API.
//!
//! This is the crate's only module with `unsafe` code (the crate root
//! denies it everywhere else, and `tests/tidy` allow-lists this file). The
//! rule here: every safe function is sound for any arguments.
//!
//! - libsrt names sockets and epoll sets by integer ids, not pointers: a
//!   stale or wrong id makes a call fail with `SRT_EINVSOCK` /
//!   `SRT_EINVPOLLID`, never touch freed memory. So the owning types
//!   ([`Socket`], [`Epoll`]) only decide *when* an id is closed (on drop).
//! - Where libsrt reads or writes through a pointer we pass, the pointer is
//!   to a live Rust value of exactly the size libsrt uses for that call:
//!   options go through [`IntOption`] / [`TextOption`], which list only
//!   options whose C type is `int32_t` / a byte string in 1.5.1; addresses
//!   through [`RawAddr`], a `sockaddr_storage`.
//! - The two callbacks libsrt calls (the log handler, the listener's
//!   accept hook) are given no Rust pointer: their `opaque` is null or a
//!   socket id carried as an integer, so nothing they receive can dangle.
//!   They never unwind into C.

#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr};
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::Duration;

use crate::liblog;

/// An SRT socket id (`SRTSOCKET`, an `int32_t`).
type SrtSocketId = i32;

/// `SRT_INVALID_SOCK` and `SRT_ERROR`: what failing calls return.
const SRT_INVALID_SOCK: SrtSocketId = -1;
const SRT_ERROR: c_int = -1;

/// `SRT_LIVE_MAX_PLSIZE`: the largest payload of a live-mode packet
/// (1500 MTU - 28 UDP/IP - 16 SRT header).
pub(crate) const LIVE_MAX_PAYLOAD: usize = 1456;

/// `CSrtConfig::MAX_SID_LENGTH`: the longest stream id.
pub(crate) const MAX_STREAM_ID: usize = 512;

// Error codes (`SRT_ERRNO`) this crate tells apart.
pub(crate) const SRT_ENOSERVER: c_int = 1001;
pub(crate) const SRT_ECONNREJ: c_int = 1002;
pub(crate) const SRT_ECONNLOST: c_int = 2001;
pub(crate) const SRT_ENOCONN: c_int = 2002;
pub(crate) const SRT_EINVSOCK: c_int = 5004;
pub(crate) const SRT_EDUPLISTEN: c_int = 5011;
pub(crate) const SRT_ELARGEMSG: c_int = 5012;
pub(crate) const SRT_EPOLLEMPTY: c_int = 5014;
pub(crate) const SRT_EBINDCONFLICT: c_int = 5015;
pub(crate) const SRT_EASYNCSND: c_int = 6001;
pub(crate) const SRT_EASYNCRCV: c_int = 6002;
pub(crate) const SRT_ETIMEOUT: c_int = 6003;
pub(crate) const SRT_ECONGEST: c_int = 6004;

// `SRT_EPOLL_OPT` flags.
const SRT_EPOLL_IN: c_int = 0x1;
const SRT_EPOLL_OUT: c_int = 0x4;
const SRT_EPOLL_ERR: c_int = 0x8;

// `SRT_SOCKSTATUS` values.
const SRTS_CONNECTED: c_int = 5;

// syslog levels, as libsrt uses them (`logging_api.h`).
const LOG_ERR: c_int = 3;

// `SRT_LOGF_*`: leave time, thread name, severity and the newline out of
// the message; `tracing` adds its own.
const SRT_LOGF_DISABLE_ALL: c_int = 1 | 2 | 4 | 8;

/// `SRT_REJX_NOTFOUND`: the reject code our listener gives a caller whose
/// stream id it does not serve ("resource not found").
pub(crate) const REJECT_STREAM_ID: c_int = 1404;

/// `struct CBytePerfMon` (`SRT_TRACEBSTATS`) of libsrt 1.5.1, field for
/// field: libsrt fills the whole struct, so its size and every offset
/// must match the header.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(non_snake_case)]
pub(crate) struct PerfMon {
    pub msTimeStamp: i64,
    pub pktSentTotal: i64,
    pub pktRecvTotal: i64,
    pub pktSndLossTotal: c_int,
    pub pktRcvLossTotal: c_int,
    pub pktRetransTotal: c_int,
    pub pktSentACKTotal: c_int,
    pub pktRecvACKTotal: c_int,
    pub pktSentNAKTotal: c_int,
    pub pktRecvNAKTotal: c_int,
    pub usSndDurationTotal: i64,
    pub pktSndDropTotal: c_int,
    pub pktRcvDropTotal: c_int,
    pub pktRcvUndecryptTotal: c_int,
    pub byteSentTotal: u64,
    pub byteRecvTotal: u64,
    pub byteRcvLossTotal: u64,
    pub byteRetransTotal: u64,
    pub byteSndDropTotal: u64,
    pub byteRcvDropTotal: u64,
    pub byteRcvUndecryptTotal: u64,
    pub pktSent: i64,
    pub pktRecv: i64,
    pub pktSndLoss: c_int,
    pub pktRcvLoss: c_int,
    pub pktRetrans: c_int,
    pub pktRcvRetrans: c_int,
    pub pktSentACK: c_int,
    pub pktRecvACK: c_int,
    pub pktSentNAK: c_int,
    pub pktRecvNAK: c_int,
    pub mbpsSendRate: f64,
    pub mbpsRecvRate: f64,
    pub usSndDuration: i64,
    pub pktReorderDistance: c_int,
    pub pktRcvAvgBelatedTime: f64,
    pub pktRcvBelated: i64,
    pub pktSndDrop: c_int,
    pub pktRcvDrop: c_int,
    pub pktRcvUndecrypt: c_int,
    pub byteSent: u64,
    pub byteRecv: u64,
    pub byteRcvLoss: u64,
    pub byteRetrans: u64,
    pub byteSndDrop: u64,
    pub byteRcvDrop: u64,
    pub byteRcvUndecrypt: u64,
    pub usPktSndPeriod: f64,
    pub pktFlowWindow: c_int,
    pub pktCongestionWindow: c_int,
    pub pktFlightSize: c_int,
    pub msRTT: f64,
    pub mbpsBandwidth: f64,
    pub byteAvailSndBuf: c_int,
    pub byteAvailRcvBuf: c_int,
    pub mbpsMaxBW: f64,
    pub byteMSS: c_int,
    pub pktSndBuf: c_int,
    pub byteSndBuf: c_int,
    pub msSndBuf: c_int,
    pub msSndTsbPdDelay: c_int,
    pub pktRcvBuf: c_int,
    pub byteRcvBuf: c_int,
    pub msRcvBuf: c_int,
    pub msRcvTsbPdDelay: c_int,
    pub pktSndFilterExtraTotal: c_int,
    pub pktRcvFilterExtraTotal: c_int,
    pub pktRcvFilterSupplyTotal: c_int,
    pub pktRcvFilterLossTotal: c_int,
    pub pktSndFilterExtra: c_int,
    pub pktRcvFilterExtra: c_int,
    pub pktRcvFilterSupply: c_int,
    pub pktRcvFilterLoss: c_int,
    pub pktReorderTolerance: c_int,
    pub pktSentUniqueTotal: i64,
    pub pktRecvUniqueTotal: i64,
    pub byteSentUniqueTotal: u64,
    pub byteRecvUniqueTotal: u64,
    pub pktSentUnique: i64,
    pub pktRecvUnique: i64,
    pub byteSentUnique: u64,
    pub byteRecvUnique: u64,
}

/// `SRT_EPOLL_EVENT`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct EpollEvent {
    fd: SrtSocketId,
    events: c_int,
}

/// `srt_listen_callback_fn`.
type ListenHook = unsafe extern "C" fn(
    opaque: *mut c_void,
    ns: SrtSocketId,
    hs_version: c_int,
    peer: *const libc::sockaddr,
    stream_id: *const c_char,
) -> c_int;

/// `SRT_LOG_HANDLER_FN`.
type LogHandler = unsafe extern "C" fn(
    opaque: *mut c_void,
    level: c_int,
    file: *const c_char,
    line: c_int,
    area: *const c_char,
    message: *const c_char,
);

// Linked by build.rs (`-lsrt-gnutls`).
extern "C" {
    fn srt_startup() -> c_int;
    fn srt_create_socket() -> SrtSocketId;
    fn srt_bind(u: SrtSocketId, name: *const libc::sockaddr, namelen: c_int) -> c_int;
    fn srt_listen(u: SrtSocketId, backlog: c_int) -> c_int;
    fn srt_accept(u: SrtSocketId, addr: *mut libc::sockaddr, addrlen: *mut c_int) -> SrtSocketId;
    fn srt_listen_callback(lsn: SrtSocketId, hook: ListenHook, opaque: *mut c_void) -> c_int;
    fn srt_connect(u: SrtSocketId, name: *const libc::sockaddr, namelen: c_int) -> c_int;
    fn srt_rendezvous(
        u: SrtSocketId,
        local: *const libc::sockaddr,
        local_len: c_int,
        remote: *const libc::sockaddr,
        remote_len: c_int,
    ) -> c_int;
    fn srt_close(u: SrtSocketId) -> c_int;
    fn srt_getpeername(u: SrtSocketId, name: *mut libc::sockaddr, namelen: *mut c_int) -> c_int;
    fn srt_getsockname(u: SrtSocketId, name: *mut libc::sockaddr, namelen: *mut c_int) -> c_int;
    fn srt_getsockflag(
        u: SrtSocketId,
        opt: c_int,
        optval: *mut c_void,
        optlen: *mut c_int,
    ) -> c_int;
    fn srt_setsockflag(u: SrtSocketId, opt: c_int, optval: *const c_void, optlen: c_int) -> c_int;
    fn srt_sendmsg(
        u: SrtSocketId,
        buf: *const c_char,
        len: c_int,
        ttl: c_int,
        inorder: c_int,
    ) -> c_int;
    fn srt_recvmsg(u: SrtSocketId, buf: *mut c_char, len: c_int) -> c_int;
    fn srt_getlasterror_str() -> *const c_char;
    fn srt_getlasterror(errno_loc: *mut c_int) -> c_int;
    fn srt_bstats(u: SrtSocketId, perf: *mut PerfMon, clear: c_int) -> c_int;
    fn srt_getsockstate(u: SrtSocketId) -> c_int;
    fn srt_getrejectreason(u: SrtSocketId) -> c_int;
    fn srt_setrejectreason(u: SrtSocketId, value: c_int) -> c_int;
    fn srt_epoll_create() -> c_int;
    fn srt_epoll_add_usock(eid: c_int, u: SrtSocketId, events: *const c_int) -> c_int;
    fn srt_epoll_update_usock(eid: c_int, u: SrtSocketId, events: *const c_int) -> c_int;
    fn srt_epoll_uwait(eid: c_int, fds: *mut EpollEvent, fds_size: c_int, timeout_ms: i64)
        -> c_int;
    fn srt_epoll_release(eid: c_int) -> c_int;
    fn srt_setloglevel(level: c_int);
    fn srt_setlogflags(flags: c_int);
    fn srt_setloghandler(opaque: *mut c_void, handler: LogHandler);
}

/// A failed libsrt call: its `SRT_ERRNO` code, the system errno behind it
/// (0 if none) and libsrt's own text for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    pub call: &'static str,
    pub code: c_int,
    pub sys_errno: c_int,
    pub message: String,
}

impl FfiError {
    /// The error libsrt recorded for this thread's last failed call. Must
    /// be taken right after that call: the next failure replaces it.
    fn last(call: &'static str) -> FfiError {
        let mut sys_errno: c_int = 0;
        // SAFETY: `sys_errno` is a live c_int libsrt may write.
        let code = unsafe { srt_getlasterror(&mut sys_errno) };
        // SAFETY: no arguments; returns the thread's last error text.
        let text = unsafe { srt_getlasterror_str() };
        let message = if text.is_null() {
            String::new()
        } else {
            // SAFETY: not null; libsrt returns a NUL-terminated string held
            // in its per-thread error record, which only a later libsrt call
            // on this thread changes. It is copied at once.
            unsafe { CStr::from_ptr(text) }
                .to_string_lossy()
                .into_owned()
        };
        FfiError {
            call,
            code,
            sys_errno,
            message,
        }
    }
}

/// `srt_startup` once per process (never `srt_cleanup`: sockets may live
/// until exit), with libsrt's log routed to `tracing` at error level.
/// Every constructor below calls this first.
pub(crate) fn startup() -> Result<(), FfiError> {
    static STARTED: OnceLock<Result<(), FfiError>> = OnceLock::new();
    STARTED
        .get_or_init(|| {
            // SAFETY: plain values; the handler is a 'static fn that
            // ignores `opaque` (null) and checks its pointers.
            unsafe {
                srt_setloglevel(LOG_ERR);
                srt_setlogflags(SRT_LOGF_DISABLE_ALL);
                srt_setloghandler(std::ptr::null_mut(), log_handler);
            }
            // SAFETY: no arguments; safe to call from any thread.
            if unsafe { srt_startup() } < 0 {
                return Err(FfiError::last("srt_startup"));
            }
            Ok(())
        })
        .clone()
}

/// Copies a C string libsrt handed to a callback; empty if null.
///
/// # Safety
/// `text` is null or a NUL-terminated string live for this call.
unsafe fn callback_text(text: *const c_char) -> String {
    if text.is_null() {
        return String::new();
    }
    // SAFETY: the caller promises a NUL-terminated string.
    unsafe { CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

/// Where libsrt's log lines go (`srt_setloghandler`). Called on libsrt's
/// threads; `file`, `area` and `message` are NUL-terminated strings live
/// for the call, or null (logging.h formats the message just before).
unsafe extern "C" fn log_handler(
    _opaque: *mut c_void,
    level: c_int,
    _file: *const c_char,
    _line: c_int,
    area: *const c_char,
    message: *const c_char,
) {
    // SAFETY: libsrt passes null or NUL-terminated strings live for the call.
    let (area, message) = unsafe { (callback_text(area), callback_text(message)) };
    // A panic must not unwind into C; a lost log line is the lesser harm.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| {
        liblog::forward(level, &area, &message);
    }));
}

/// A socket option whose C type in libsrt 1.5.1 is `int32_t` (or a `bool`
/// or enum that libsrt also accepts as an `int`), readable and writable
/// through a 4-byte value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntOption {
    /// `SRTO_SNDSYN` (bool): false makes `srt_sendmsg` return at once.
    SendBlocking = 1,
    /// `SRTO_RCVSYN` (bool): false makes connect, accept and receive
    /// return at once.
    ReceiveBlocking = 2,
    /// `SRTO_LATENCY`: sets both receive and peer latency, ms.
    Latency = 23,
    /// `SRTO_PBKEYLEN`: 0, 16, 24 or 32 bytes.
    KeyLength = 27,
    /// `SRTO_IPTTL`: IP_TTL (IPV6_UNICAST_HOPS) of the UDP socket, 1-255.
    IpTtl = 29,
    /// `SRTO_IPTOS`: IP_TOS (IPV6_TCLASS) of the UDP socket, 0-255.
    IpTos = 30,
    /// `SRTO_CONNTIMEO`: connect timeout, ms (x10 in rendezvous).
    ConnectTimeout = 36,
    /// `SRTO_KMSTATE` (read only): the encryption state.
    KeyMaterialState = 28,
    /// `SRTO_PAYLOADSIZE`: the largest message, bytes.
    PayloadSize = 49,
    /// `SRTO_TRANSTYPE` (enum `SRT_TRANSTYPE`): 0 is live.
    TransportType = 50,
    /// `SRTO_IPV6ONLY`: IPV6_V6ONLY of the UDP socket (-1, 0, 1).
    Ipv6Only = 54,
}

/// A socket option whose value is a byte string (`const char*` + length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextOption {
    /// `SRTO_PASSPHRASE`: 10 to 79 bytes, or empty for none.
    Passphrase = 26,
    /// `SRTO_STREAMID`: at most 512 bytes.
    StreamId = 46,
}

/// `SRTO_STREAMID` as a number, for reading it back.
const SRTO_STREAMID: c_int = TextOption::StreamId as c_int;

/// A `sockaddr_storage` with the length of the address in it.
struct RawAddr {
    storage: libc::sockaddr_storage,
    len: c_int,
}

impl RawAddr {
    fn empty() -> RawAddr {
        RawAddr {
            // SAFETY: sockaddr_storage is plain bytes; all zeroes is valid.
            storage: unsafe { mem::zeroed() },
            len: mem::size_of::<libc::sockaddr_storage>() as c_int,
        }
    }

    fn from_socket_addr(addr: SocketAddr) -> RawAddr {
        let mut raw = RawAddr::empty();
        match addr {
            SocketAddr::V4(v4) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: v4.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(v4.ip().octets()),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is larger than and aligned for
                // every sockaddr type; we write one whole sockaddr_in.
                unsafe {
                    std::ptr::write(
                        (&mut raw.storage as *mut libc::sockaddr_storage).cast(),
                        sin,
                    )
                };
                raw.len = mem::size_of::<libc::sockaddr_in>() as c_int;
            }
            SocketAddr::V6(v6) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: v6.port().to_be(),
                    sin6_flowinfo: v6.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: v6.ip().octets(),
                    },
                    sin6_scope_id: v6.scope_id(),
                };
                // SAFETY: as above, for one whole sockaddr_in6.
                unsafe {
                    std::ptr::write(
                        (&mut raw.storage as *mut libc::sockaddr_storage).cast(),
                        sin6,
                    )
                };
                raw.len = mem::size_of::<libc::sockaddr_in6>() as c_int;
            }
        }
        raw
    }

    fn as_ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }

    fn as_mut_ptr(&mut self) -> *mut libc::sockaddr {
        (&mut self.storage as *mut libc::sockaddr_storage).cast()
    }

    /// The address libsrt wrote, if it is IPv4 or IPv6 and long enough.
    fn to_socket_addr(&self) -> Option<SocketAddr> {
        let len = usize::try_from(self.len).ok()?;
        match c_int::from(self.storage.ss_family) {
            libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
                // SAFETY: the storage is aligned for and larger than a
                // sockaddr_in, and every bit pattern is a valid one.
                let sin: libc::sockaddr_in = unsafe {
                    std::ptr::read((&self.storage as *const libc::sockaddr_storage).cast())
                };
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
                // SAFETY: as above, for a sockaddr_in6.
                let sin6: libc::sockaddr_in6 = unsafe {
                    std::ptr::read((&self.storage as *const libc::sockaddr_storage).cast())
                };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

/// The listener stream-id filter's hook: accepts a caller whose stream id
/// [`crate::filter`] lets through for the listener, rejects the others
/// with [`REJECT_STREAM_ID`]. `opaque` is the listener's id as an integer
/// (never dereferenced); `stream_id` is a NUL-terminated string live for
/// the call (libsrt passes a local buffer, empty when the caller sent none).
unsafe extern "C" fn accept_hook(
    opaque: *mut c_void,
    ns: SrtSocketId,
    _hs_version: c_int,
    _peer: *const libc::sockaddr,
    stream_id: *const c_char,
) -> c_int {
    let listener = opaque as usize as SrtSocketId;
    let stream_id: &[u8] = if stream_id.is_null() {
        &[]
    } else {
        // SAFETY: not null; libsrt passes a NUL-terminated string (its
        // zeroed local buffer) live for the call, and the slice does not
        // outlive the call.
        unsafe { CStr::from_ptr(stream_id) }.to_bytes()
    };
    let accepted =
        panic::catch_unwind(|| crate::filter::admits(listener, stream_id)).unwrap_or(false);
    if accepted {
        return 0;
    }
    // SAFETY: plain integers; libsrt looks the socket id up itself.
    unsafe { srt_setrejectreason(ns, REJECT_STREAM_ID) };
    -1
}

/// What `epoll` saw on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Readiness {
    pub readable: bool,
    pub writable: bool,
    pub error: bool,
}

/// Which events an [`Epoll`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    /// Connected (writable) or failed: for a connecting socket.
    Connect,
    /// A message or a connection to accept, or failed.
    Read,
}

impl Interest {
    fn flags(self) -> c_int {
        match self {
            Interest::Connect => SRT_EPOLL_OUT | SRT_EPOLL_ERR,
            Interest::Read => SRT_EPOLL_IN | SRT_EPOLL_ERR,
        }
    }
}

/// An SRT socket, closed on drop. Ids are plain integers to libsrt, so
/// this type is `Send` and `Sync`; libsrt locks inside every call.
#[derive(Debug)]
pub(crate) struct Socket {
    id: SrtSocketId,
}

impl Socket {
    /// A new socket (`srt_create_socket`).
    pub(crate) fn new() -> Result<Socket, FfiError> {
        startup()?;
        // SAFETY: no arguments.
        let id = unsafe { srt_create_socket() };
        if id == SRT_INVALID_SOCK {
            return Err(FfiError::last("srt_create_socket"));
        }
        Ok(Socket { id })
    }

    fn check(&self, call: &'static str, rc: c_int) -> Result<(), FfiError> {
        if rc == SRT_ERROR {
            Err(FfiError::last(call))
        } else {
            Ok(())
        }
    }

    pub(crate) fn set_int(&self, option: IntOption, value: i32) -> Result<(), FfiError> {
        // SAFETY: the option's C type is a 4-byte int (see IntOption);
        // libsrt reads `optlen` = 4 bytes from a live i32.
        let rc = unsafe {
            srt_setsockflag(
                self.id,
                option as c_int,
                (&value as *const i32).cast(),
                mem::size_of::<i32>() as c_int,
            )
        };
        self.check("srt_setsockflag", rc)
    }

    pub(crate) fn get_int(&self, option: IntOption) -> Result<i32, FfiError> {
        let mut value: i32 = 0;
        let mut len = mem::size_of::<i32>() as c_int;
        // SAFETY: the option's C type is a 4-byte int (see IntOption), so
        // libsrt writes 4 bytes into the live i32.
        let rc = unsafe {
            srt_getsockflag(
                self.id,
                option as c_int,
                (&mut value as *mut i32).cast(),
                &mut len,
            )
        };
        self.check("srt_getsockflag", rc)?;
        Ok(value)
    }

    pub(crate) fn set_text(&self, option: TextOption, value: &[u8]) -> Result<(), FfiError> {
        let len = c_int::try_from(value.len()).map_err(|_| FfiError {
            call: "srt_setsockflag",
            code: 0,
            sys_errno: 0,
            message: format!("a value of {} bytes is too long", value.len()),
        })?;
        // SAFETY: string options are read as `optlen` bytes from `optval`,
        // which is the live slice of exactly that length.
        let rc = unsafe { srt_setsockflag(self.id, option as c_int, value.as_ptr().cast(), len) };
        self.check("srt_setsockflag", rc)
    }

    /// `SRTO_STREAMID`: on an accepted socket, what the caller sent.
    pub(crate) fn stream_id(&self) -> Result<Vec<u8>, FfiError> {
        let mut buf = [0u8; MAX_STREAM_ID + 1];
        let mut len = buf.len() as c_int;
        // SAFETY: libsrt checks `len` holds the id and its NUL (else it
        // fails) and strcpy's it into the live buffer; it sets `len` to
        // the id's length.
        let rc =
            unsafe { srt_getsockflag(self.id, SRTO_STREAMID, buf.as_mut_ptr().cast(), &mut len) };
        self.check("srt_getsockflag", rc)?;
        let len = usize::try_from(len).unwrap_or(0).min(MAX_STREAM_ID);
        Ok(buf[..len].to_vec())
    }

    pub(crate) fn bind(&self, local: SocketAddr) -> Result<(), FfiError> {
        let raw = RawAddr::from_socket_addr(local);
        // SAFETY: `raw` holds a whole sockaddr of `raw.len` bytes.
        let rc = unsafe { srt_bind(self.id, raw.as_ptr(), raw.len) };
        self.check("srt_bind", rc)
    }

    pub(crate) fn listen(&self, backlog: u16) -> Result<(), FfiError> {
        // SAFETY: plain integers.
        let rc = unsafe { srt_listen(self.id, c_int::from(backlog)) };
        self.check("srt_listen", rc)
    }

    /// Lets libsrt ask [`crate::filter::admits`] about each caller's stream
    /// id before accepting it (`srt_listen_callback`).
    pub(crate) fn filter_callers(&self) -> Result<(), FfiError> {
        // The listener's id rides in `opaque` as an integer: the hook never
        // dereferences it, so it cannot outlive anything.
        let opaque = self.id as usize as *mut c_void;
        // SAFETY: the hook is a 'static fn with the C signature libsrt
        // expects; `opaque` is not a pointer to anything.
        let rc = unsafe { srt_listen_callback(self.id, accept_hook, opaque) };
        self.check("srt_listen_callback", rc)
    }

    /// The id the filter registry keys this listener by.
    pub(crate) fn filter_key(&self) -> i32 {
        self.id
    }

    /// A connection waiting on this listener, or None if there is none
    /// (the listener does not block: `SRTO_RCVSYN` false).
    pub(crate) fn accept(&self) -> Result<Option<(Socket, Option<SocketAddr>)>, FfiError> {
        let mut raw = RawAddr::empty();
        // SAFETY: libsrt writes at most `raw.len` bytes (the storage's
        // size) of address and sets `raw.len` to what it wrote.
        let id = unsafe { srt_accept(self.id, raw.as_mut_ptr(), &mut raw.len) };
        if id == SRT_INVALID_SOCK {
            let err = FfiError::last("srt_accept");
            if err.code == SRT_EASYNCRCV {
                return Ok(None);
            }
            return Err(err);
        }
        Ok(Some((Socket { id }, raw.to_socket_addr())))
    }

    pub(crate) fn connect(&self, remote: SocketAddr) -> Result<(), FfiError> {
        let raw = RawAddr::from_socket_addr(remote);
        // SAFETY: `raw` holds a whole sockaddr of `raw.len` bytes.
        let rc = unsafe { srt_connect(self.id, raw.as_ptr(), raw.len) };
        self.check("srt_connect", rc)
    }

    pub(crate) fn rendezvous(&self, local: SocketAddr, remote: SocketAddr) -> Result<(), FfiError> {
        let local = RawAddr::from_socket_addr(local);
        let remote = RawAddr::from_socket_addr(remote);
        // SAFETY: both hold whole sockaddrs of their lengths.
        let rc = unsafe {
            srt_rendezvous(
                self.id,
                local.as_ptr(),
                local.len,
                remote.as_ptr(),
                remote.len,
            )
        };
        self.check("srt_rendezvous", rc)
    }

    /// Sends one message (live mode: at most the payload size). Returns
    /// the bytes sent.
    pub(crate) fn send_message(&self, message: &[u8]) -> Result<usize, FfiError> {
        let len = c_int::try_from(message.len()).map_err(|_| FfiError {
            call: "srt_sendmsg",
            code: SRT_ELARGEMSG,
            sys_errno: 0,
            message: format!("a message of {} bytes is too long", message.len()),
        })?;
        // SAFETY: libsrt reads `len` bytes from the live slice; ttl -1 is
        // "no limit", inorder 0 is ignored in live mode.
        let rc = unsafe { srt_sendmsg(self.id, message.as_ptr().cast(), len, -1, 0) };
        if rc == SRT_ERROR {
            return Err(FfiError::last("srt_sendmsg"));
        }
        Ok(usize::try_from(rc).unwrap_or(0))
    }

    /// Receives one message into `buf`. Live mode copies at most
    /// `buf.len()` bytes of it (a longer message is cut), so callers pass
    /// a buffer of [`LIVE_MAX_PAYLOAD`]. Returns the message's length.
    pub(crate) fn recv_message(&self, buf: &mut [u8]) -> Result<usize, FfiError> {
        let len = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
        // SAFETY: libsrt writes at most `len` bytes into the live slice,
        // which has at least that many.
        let rc = unsafe { srt_recvmsg(self.id, buf.as_mut_ptr().cast(), len) };
        if rc == SRT_ERROR {
            return Err(FfiError::last("srt_recvmsg"));
        }
        Ok(usize::try_from(rc).unwrap_or(0))
    }

    /// The link's counters (`srt_bstats`, never cleared).
    pub(crate) fn stats(&self) -> Result<PerfMon, FfiError> {
        let mut perf = PerfMon::default();
        // SAFETY: PerfMon is `struct CBytePerfMon` field for field; libsrt
        // writes one whole struct into the live value.
        let rc = unsafe { srt_bstats(self.id, &mut perf, 0) };
        self.check("srt_bstats", rc)?;
        Ok(perf)
    }

    pub(crate) fn is_connected(&self) -> bool {
        // SAFETY: a plain integer; unknown ids give SRTS_NONEXIST.
        unsafe { srt_getsockstate(self.id) == SRTS_CONNECTED }
    }

    /// Why the connection was refused or failed (`SRT_REJECT_REASON`, or
    /// 1000 and up for a peer application's code).
    pub(crate) fn reject_reason(&self) -> i32 {
        // SAFETY: a plain integer; unknown ids give SRT_REJ_UNKNOWN.
        unsafe { srt_getrejectreason(self.id) }
    }

    pub(crate) fn local_addr(&self) -> Result<SocketAddr, FfiError> {
        let mut raw = RawAddr::empty();
        // SAFETY: libsrt writes at most `raw.len` bytes and updates it.
        let rc = unsafe { srt_getsockname(self.id, raw.as_mut_ptr(), &mut raw.len) };
        self.check("srt_getsockname", rc)?;
        raw.to_socket_addr().ok_or_else(|| FfiError {
            call: "srt_getsockname",
            code: 0,
            sys_errno: 0,
            message: "not an IP address".into(),
        })
    }

    pub(crate) fn peer_addr(&self) -> Result<SocketAddr, FfiError> {
        let mut raw = RawAddr::empty();
        // SAFETY: libsrt writes at most `raw.len` bytes and updates it.
        let rc = unsafe { srt_getpeername(self.id, raw.as_mut_ptr(), &mut raw.len) };
        self.check("srt_getpeername", rc)?;
        raw.to_socket_addr().ok_or_else(|| FfiError {
            call: "srt_getpeername",
            code: 0,
            sys_errno: 0,
            message: "not an IP address".into(),
        })
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: a plain integer; closing an id libsrt already dropped
        // fails harmlessly with SRT_EINVSOCK.
        unsafe { srt_close(self.id) };
    }
}

/// An epoll set watching one socket, released on drop.
#[derive(Debug)]
pub(crate) struct Epoll {
    id: c_int,
    socket: SrtSocketId,
}

impl Epoll {
    /// A set watching `socket` for `interest`.
    pub(crate) fn watch(socket: &Socket, interest: Interest) -> Result<Epoll, FfiError> {
        startup()?;
        // SAFETY: no arguments.
        let id = unsafe { srt_epoll_create() };
        if id < 0 {
            return Err(FfiError::last("srt_epoll_create"));
        }
        let epoll = Epoll {
            id,
            socket: socket.id,
        };
        let flags = interest.flags();
        // SAFETY: libsrt reads one c_int of flags from the live value.
        let rc = unsafe { srt_epoll_add_usock(id, socket.id, &flags) };
        if rc == SRT_ERROR {
            return Err(FfiError::last("srt_epoll_add_usock"));
        }
        Ok(epoll)
    }

    /// Watches the socket for other events from now on.
    pub(crate) fn change(&self, interest: Interest) -> Result<(), FfiError> {
        let flags = interest.flags();
        // SAFETY: libsrt reads one c_int of flags from the live value.
        let rc = unsafe { srt_epoll_update_usock(self.id, self.socket, &flags) };
        if rc == SRT_ERROR {
            return Err(FfiError::last("srt_epoll_update_usock"));
        }
        Ok(())
    }

    /// Waits at most `timeout` (to the millisecond, rounded up) for an
    /// event; None if none came.
    pub(crate) fn wait(&self, timeout: Duration) -> Result<Option<Readiness>, FfiError> {
        let ms = i64::try_from(timeout.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX);
        let mut events = [EpollEvent::default(); 1];
        // SAFETY: libsrt fills at most `fds_size` = 1 event into the live
        // array of one.
        let n = unsafe { srt_epoll_uwait(self.id, events.as_mut_ptr(), 1, ms) };
        if n < 0 {
            return Err(FfiError::last("srt_epoll_uwait"));
        }
        if n == 0 {
            return Ok(None);
        }
        let flags = events[0].events;
        Ok(Some(Readiness {
            readable: flags & SRT_EPOLL_IN != 0,
            writable: flags & SRT_EPOLL_OUT != 0,
            error: flags & SRT_EPOLL_ERR != 0,
        }))
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: a plain integer; a released id fails harmlessly.
        unsafe { srt_epoll_release(self.id) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_survive_the_round_trip_through_sockaddr() {
        for addr in [
            "127.0.0.1:9000".parse::<SocketAddr>().unwrap(),
            "0.0.0.0:0".parse().unwrap(),
            "[::1]:1234".parse().unwrap(),
            "[fe80::1%3]:5".parse().unwrap(),
        ] {
            let raw = RawAddr::from_socket_addr(addr);
            assert_eq!(raw.to_socket_addr(), Some(addr));
        }
    }

    /// The hand-written `CBytePerfMon` against the installed srt.h: a C
    /// program built on the spot prints the size and some offsets (the
    /// fields this crate reads, spread over the struct).
    #[test]
    fn the_stats_struct_matches_srt_h() {
        use std::process::Command;
        let dir = makara_test_support::TestDir::new("srt-layout");
        let src = dir.write(
            "layout.c",
            "#include <stdio.h>\n#include <stddef.h>\n#include <srt/srt.h>\n\
             #define O(f) offsetof(SRT_TRACEBSTATS, f)\n\
             int main(void) { printf(\"%zu %zu %zu %zu %zu %zu %zu %zu %zu\", \
             sizeof(SRT_TRACEBSTATS), O(pktSndLossTotal), O(pktSndDropTotal), \
             O(byteSentTotal), O(mbpsSendRate), O(msRTT), O(msSndTsbPdDelay), \
             O(msRcvTsbPdDelay), O(pktRecvUniqueTotal)); return 0; }\n",
        );
        let exe = dir.join("layout");
        let built = Command::new("cc")
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .status()
            .expect("run cc");
        assert!(built.success(), "cc could not build the layout probe");
        let out = Command::new(&exe).output().expect("run the layout probe");
        let c = String::from_utf8(out.stdout).unwrap();
        let rust = [
            mem::size_of::<PerfMon>(),
            mem::offset_of!(PerfMon, pktSndLossTotal),
            mem::offset_of!(PerfMon, pktSndDropTotal),
            mem::offset_of!(PerfMon, byteSentTotal),
            mem::offset_of!(PerfMon, mbpsSendRate),
            mem::offset_of!(PerfMon, msRTT),
            mem::offset_of!(PerfMon, msSndTsbPdDelay),
            mem::offset_of!(PerfMon, msRcvTsbPdDelay),
            mem::offset_of!(PerfMon, pktRecvUniqueTotal),
        ]
        .map(|n| n.to_string())
        .join(" ");
        assert_eq!(rust, c);
    }
}
