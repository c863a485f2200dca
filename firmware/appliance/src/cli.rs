//! The command line. Acceptance tests rely on it: extend it, don't change it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use makara_access::users::Role;
use makara_config::VideoType;

#[derive(Debug, Parser)]
#[command(
    name = "makarad",
    version,
    about = "Makara video encoder appliance supervisor"
)]
pub struct Cli {
    /// Log filter, e.g. `info`, `debug`, `makara_api=debug`.
    #[arg(long, global = true, default_value = "info")]
    pub log_level: String,
    /// Write the log to FILE instead of stderr, rotated by size: FILE.1
    /// keeps the one before. Lines that cannot be written are dropped and
    /// counted, wherever the log goes.
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Size at which --log-file is rotated, in KiB, 16-65536: the file and
    /// FILE.1 together stay under twice this.
    #[arg(long, global = true, default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(16..=65536))]
    pub log_file_kib: u64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the appliance: supervisor and HTTPS API.
    Serve(ServeArgs),
    /// Manage the OAuth consumer keys of the API.
    #[command(name = "api-key")]
    ApiKey(ApiKeyArgs),
    /// Switch the API on or off.
    Api(ApiArgs),
    /// Manage the users who may log in to the HMP JSON API.
    User(UserArgs),
    /// Measure the media path.
    Bench(BenchArgs),
    /// The `makara>` prompt of the serial console.
    Console(crate::console::ConsoleArgs),
    /// Look at and set a V4L2 device's controls (service tool).
    V4l2(crate::v4l2::V4l2Args),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the configuration, keys and certificate live.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Address and port of the HTTPS API.
    #[arg(long, default_value = "0.0.0.0:443")]
    pub listen: SocketAddr,
    /// On an empty configuration, add and start the demo preset.
    #[arg(long)]
    pub demo: bool,
    /// PEM certificate chain to serve instead of the generated one.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Seconds between checks of the certificate while serving (1-86400):
    /// makarad's own is renewed within 30 days of its end, and a pair
    /// changed on disk is served from the next connection on.
    #[arg(long, default_value_t = 86_400,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub tls_check_secs: u64,
    /// Serve the ONVIF device and media services (Profile S basics, SOAP
    /// over plain HTTP, WS-UsernameToken of the users) on this port,
    /// 1-65535, at the address of --listen. Off unless given.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub onvif_port: Option<u16>,
    /// Answer WS-Discovery probes (UDP 3702, multicast 239.255.255.250 on
    /// every IPv4 address of the box) and say Hello and Bye, so VMSs find
    /// the ONVIF device. Off unless given; needs --onvif-port.
    #[arg(long, requires = "onvif_port")]
    pub onvif_discovery: bool,
    /// Seconds an HMP login session lives without a request (60-86400).
    #[arg(long, default_value_t = makara_api::hmp::DEFAULT_IDLE.as_secs(),
          value_parser = clap::value_parser!(u64)
              .range(makara_api::hmp::IDLE_RANGE_SECS.0..=makara_api::hmp::IDLE_RANGE_SECS.1))]
    pub login_idle_secs: u64,
    /// RTSP outputs ask clients for a login of the box's users (Basic
    /// with a user's password; Digest for users with a device login).
    /// Without it anyone who reaches an RTSP output's port may watch.
    #[arg(long)]
    pub rtsp_login: bool,
    /// Where the serial console (`makarad console`) reaches the running
    /// supervisor: a Unix socket only this user may open
    /// [default: DATA_DIR/control.sock].
    #[arg(long)]
    pub control_socket: Option<PathBuf>,
    /// The front panel's line: a serial device (set to 115200 baud, 8N1,
    /// raw), unix:PATH (a Unix socket to connect to), or none; instead of
    /// the board profile's `front_panel`. Opened again with backoff when
    /// absent or closed; serving never waits for it.
    #[arg(long, value_name = "PATH|unix:PATH|none",
          value_parser = crate::front_panel::PanelSetting::parse)]
    pub panel: Option<crate::front_panel::PanelSetting>,
    /// The image's network configuration, which the front panel changes.
    #[arg(long, default_value = crate::network::DEFAULT_CONF)]
    pub network_conf: PathBuf,
    /// What applies `network.conf` after the front panel changed it
    /// (split at whitespace).
    #[arg(long, default_value = crate::network::DEFAULT_APPLY,
          value_parser = crate::console::programs::CommandLine::parse)]
    pub network_apply: crate::console::programs::CommandLine,
    /// The board profile to run with, by name (docs/boards.md). Without
    /// it the board is recognised by DMI or device tree, else the
    /// architecture's generic profile is taken; the log says which and
    /// why. It sets the streams that run at once, the largest picture,
    /// the watchdog and the LEDs.
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,
    /// The hardware watchdog device to feed while the supervisor answers,
    /// or `none`, instead of the board profile's.
    #[arg(long, value_name = "PATH|none", value_parser = crate::watchdog::WatchdogSetting::parse)]
    pub watchdog: Option<crate::watchdog::WatchdogSetting>,
    /// Where the board's LEDs are (NAME/brightness, max_brightness,
    /// trigger under it).
    #[arg(long, value_name = "DIR", default_value = makara_board::leds::SYS_CLASS_LEDS)]
    pub leds_root: PathBuf,
    /// Take `debug hang SECONDS` on the control socket, which sleeps the
    /// supervisor to test the watchdog. For tests only: never in
    /// production.
    #[arg(long)]
    pub debug_commands: bool,
}

#[derive(Debug, Args)]
pub struct ApiKeyArgs {
    #[command(subcommand)]
    pub action: ApiKeyAction,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyAction {
    /// Create a consumer key and secret, and enable the API.
    Create(DataDir),
    /// List the consumer keys (not their secrets).
    List(DataDir),
    /// Revoke a consumer key.
    Revoke {
        /// The consumer key to revoke.
        key: String,
        #[command(flatten)]
        dir: DataDir,
    },
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    #[command(subcommand)]
    pub action: ApiAction,
}

#[derive(Debug, Subcommand)]
pub enum ApiAction {
    /// Accept API requests.
    Enable(DataDir),
    /// Refuse every API request with 403.
    Disable(DataDir),
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user, with the password read from stdin.
    Add(UserAddArgs),
    /// List the users: name, role and when added (never passwords).
    List(DataDir),
    /// Set a user's password, read from stdin.
    Passwd(UserPasswdArgs),
    /// Change a user's role.
    Role(UserRoleArgs),
    /// Remove a user.
    Remove(UserNameArgs),
    /// Turn a user's device login (ONVIF, RTSP digest) on or off.
    #[command(name = "device-login")]
    DeviceLogin(UserDeviceLoginArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// 1-64 characters from A-Z a-z 0-9 . _ - @, starting with a letter or
    /// digit; unique ignoring case.
    #[arg(long)]
    pub username: String,
    /// Viewers only read; operators also start and stop streams and
    /// record; administrators may do everything.
    #[arg(long, value_parser = role())]
    pub role: Role,
    /// Also let the user log in to the device protocols that need the
    /// password itself (ONVIF PasswordDigest, RTSP Digest): the password
    /// is then kept sealed in the data directory, under DATA_DIR/device.key.
    #[arg(long)]
    pub device_login: bool,
    #[command(flatten)]
    pub password: PasswordStdin,
    #[command(flatten)]
    pub dir: DataDir,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("switch").required(true).args(["enable", "disable"])))]
pub struct UserDeviceLoginArgs {
    /// The user, by exact name.
    #[arg(long)]
    pub username: String,
    /// Turn it on: the user's current password, read from stdin with
    /// --password-stdin, is checked and kept sealed.
    #[arg(long, requires = "password_stdin")]
    pub enable: bool,
    /// Turn it off: the sealed password is forgotten.
    #[arg(long, conflicts_with = "password_stdin")]
    pub disable: bool,
    /// Read the user's current password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub dir: DataDir,
}

#[derive(Debug, Args)]
pub struct UserPasswdArgs {
    /// The user, by exact name.
    #[arg(long)]
    pub username: String,
    #[command(flatten)]
    pub password: PasswordStdin,
    #[command(flatten)]
    pub dir: DataDir,
}

#[derive(Debug, Args)]
pub struct UserRoleArgs {
    /// The user, by exact name.
    #[arg(long)]
    pub username: String,
    /// The new role.
    #[arg(long, value_parser = role())]
    pub role: Role,
    #[command(flatten)]
    pub dir: DataDir,
}

#[derive(Debug, Args)]
pub struct UserNameArgs {
    /// The user, by exact name.
    #[arg(long)]
    pub username: String,
    #[command(flatten)]
    pub dir: DataDir,
}

#[derive(Debug, Args)]
pub struct PasswordStdin {
    /// Read the password from the first line of stdin (8-128 bytes, no
    /// control characters). Required: a password given as an argument
    /// would show in `ps` and in the shell's history.
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct DataDir {
    /// The appliance's data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub action: BenchAction,
}

impl BenchArgs {
    /// What clap's rules cannot say: an --av1-encoder with another codec
    /// than av1, which it would otherwise ignore. `Err` holds the reason
    /// and the subcommand's name.
    pub fn check(&self) -> Result<(), (String, &'static str)> {
        let (codec, encoder, name) = match &self.action {
            BenchAction::Encode(a) => (a.codec, a.av1_encoder, "encode"),
            BenchAction::Transcode(a) => (a.codec, a.av1_encoder, "transcode"),
            BenchAction::Capture(_) | BenchAction::Capacity(_) => return Ok(()),
        };
        match encoder {
            Some(_) if codec != VideoType::Av1 => Err((
                format!(
                    "the argument '--av1-encoder' is only valid with '--codec av1' \
                     (the codec is '{}')",
                    makara_api::kraken::video_type_word(codec)
                ),
                name,
            )),
            _ => Ok(()),
        }
    }
}

/// Exits as clap does for a bad argument of `makarad bench NAME`: the
/// reason and that subcommand's usage on stderr, exit code 2.
pub fn refuse_bench_argument(name: &str, why: String) -> ! {
    let mut command = Cli::command();
    command.build();
    let bench = command.find_subcommand_mut("bench");
    match bench.and_then(|b| b.find_subcommand_mut(name)) {
        Some(subcommand) => subcommand.error(ErrorKind::ArgumentConflict, why).exit(),
        None => command.error(ErrorKind::ArgumentConflict, why).exit(),
    }
}

#[derive(Debug, Subcommand)]
pub enum BenchAction {
    /// Run source → frame ring → encode → TS mux as fast as it goes, with
    /// the settings of a live `vbr` stream; print `fps` and
    /// `copies_per_frame`. Video only; nothing goes to the network.
    Encode(EncodeArgs),
    /// Transcode a transport-stream file as fast as it goes through the
    /// stages of a transcoded network input (its demuxer, access-unit
    /// splitter, libavcodec decoder and scaler, the decoder waiting for
    /// room instead of dropping) into those of `bench encode`; print `fps`
    /// and the same counters. Video only; nothing goes to the network.
    Transcode(TranscodeArgs),
    /// Capture from a port for a while and print the frame rate, lost
    /// frames and `copies_per_frame`; also lists the ports and modes.
    Capture(CaptureArgs),
    /// Measure how many live channels each codec sustains at 720p30 and
    /// 1080p30 (the test pattern through encoder and muxer at the default
    /// transcoder settings, as fast as it goes), print it, and save it in
    /// the data directory, where the system API reports it
    /// (`encoderCapacity`). Run it while no stream runs.
    Capacity(CapacityArgs),
}

#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// The appliance's data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Seconds of video encoded per codec and size, 1-60.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub seconds: u64,
    /// Measure only these codecs (repeat the option); all four by default.
    #[arg(long, value_parser = codec)]
    pub codec: Vec<VideoType>,
}

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The capturePort, 0-63 (see the list printed without --port).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=63))]
    pub port: Option<u32>,
    /// The captureMode: -1 (what the source sends) or an index into the
    /// port's modes, 0-1023.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32).range(-1..=1023))]
    pub mode: i32,
    /// How long to capture, 1-600 s.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub seconds: u64,
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Picture width: even, 16-3840.
    #[arg(long, value_parser = even_in::<16, 3840>)]
    pub width: u32,
    /// Picture height: even, 16-2160.
    #[arg(long, value_parser = even_in::<16, 2160>)]
    pub height: u32,
    /// Nominal frame rate (timestamps, rate control), 1-60; not a pace.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=60))]
    pub fps: u32,
    /// Frames through the whole path, 1-1000000.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub frames: u64,
    /// Video codec, as the transcoder's videoType: avc (libx264), hevc
    /// (libx265), av1 (SVT-AV1, or rav1e with --av1-encoder) or mpeg2video
    /// (FFmpeg's MPEG-2).
    #[arg(long, default_value = "avc", value_parser = codec)]
    pub codec: VideoType,
    /// AV1's encoder, with --codec av1 only: svt-av1 (the default, low
    /// delay as a live stream has it) or rav1e (the offline quality mode:
    /// it looks ahead and reorders, much slower; docs/codecs.md).
    #[arg(long, value_enum, value_name = "ENCODER")]
    pub av1_encoder: Option<Av1Encoder>,
    /// Encoder preset (x264's names; docs/codecs.md maps them for the
    /// other codecs).
    #[arg(long, value_enum)]
    pub preset: BenchPreset,
    /// Average video bitrate in kbit/s, 150-15000 (as videoBitrate).
    #[arg(long, value_parser = clap::value_parser!(u32).range(150..=15000))]
    pub bitrate: u32,
    /// Read tightly packed raw frames of this size from FILE instead of
    /// drawing the test pattern (from the start again at its end).
    #[arg(long, value_name = "FILE")]
    pub raw: Option<std::path::PathBuf>,
    /// Layout of the frames in --raw.
    #[arg(long, value_enum, requires = "raw", default_value_t = RawPixfmt::I420)]
    pub pixfmt: RawPixfmt,
    /// Also write the transport stream to FILE.
    #[arg(long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct TranscodeArgs {
    /// The transport stream: its first program's H.264, HEVC or MPEG-2
    /// video is decoded.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Encoded picture width: even, 16-3840 (decoded pictures of another
    /// size are scaled).
    #[arg(long, value_parser = even_in::<16, 3840>)]
    pub width: u32,
    /// Encoded picture height: even, 16-2160.
    #[arg(long, value_parser = even_in::<16, 2160>)]
    pub height: u32,
    /// Frames to transcode, 1-1000000 and at most the file's pictures;
    /// all of them by default.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub frames: Option<u64>,
    /// Video codec of the output, as `bench encode --codec`.
    #[arg(long, default_value = "avc", value_parser = codec)]
    pub codec: VideoType,
    /// AV1's encoder, as `bench encode --av1-encoder`: with rav1e and
    /// --output, the offline quality transcode of a file.
    #[arg(long, value_enum, value_name = "ENCODER")]
    pub av1_encoder: Option<Av1Encoder>,
    /// Encoder preset, as `bench encode --preset`.
    #[arg(long, value_enum)]
    pub preset: BenchPreset,
    /// Average video bitrate in kbit/s, 150-15000 (as videoBitrate).
    #[arg(long, value_parser = clap::value_parser!(u32).range(150..=15000))]
    pub bitrate: u32,
    /// Also write the transport stream to FILE.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchPreset {
    Ultrafast,
    Superfast,
    Veryfast,
    Faster,
    Fast,
    Medium,
}

/// Which library encodes AV1 in a bench run. Live streams (the API's
/// transcoders) always have SVT-AV1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Av1Encoder {
    /// SVT-AV1 in its low-delay structure, as live streams have it.
    SvtAv1,
    /// rav1e: offline, for files; looks ahead and reorders.
    Rav1e,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RawPixfmt {
    I420,
    Yuyv,
    Uyvy,
}

fn even_in<const MIN: u32, const MAX: u32>(text: &str) -> Result<u32, String> {
    let value: u32 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))?;
    if !(MIN..=MAX).contains(&value) || !value.is_multiple_of(2) {
        return Err(format!(
            "{value} is not allowed (expected an even number, {MIN}-{MAX})"
        ));
    }
    Ok(value)
}

/// `administrator`, `operator` or `viewer`, listed in `--help` and in the
/// error for any other word.
fn role() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new(Role::WORDS).try_map(|word| word.parse::<Role>())
}

/// The videoType words, and the codecs' common names.
fn codec(text: &str) -> Result<VideoType, String> {
    let common_name = match text {
        "h264" => Some(VideoType::Avc),
        "h265" => Some(VideoType::Hevc),
        "mpeg2" => Some(VideoType::Mpeg2Video),
        _ => None,
    };
    makara_api::kraken::video_type(text)
        .or(common_name)
        .ok_or_else(|| format!("unknown codec '{text}'; use avc, hevc, av1 or mpeg2video"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `makarad bench` with `args`, parsed and checked.
    fn check(args: &[&str]) -> Result<(), String> {
        let line = ["makarad", "bench"].iter().chain(args);
        let Command::Bench(bench) = Cli::try_parse_from(line).unwrap().command else {
            panic!("not a bench command")
        };
        bench.check().map_err(|(why, _)| why)
    }

    fn encode(extra: &[&str]) -> Result<(), String> {
        let mut line = vec![
            "encode",
            "--width",
            "64",
            "--height",
            "64",
            "--fps",
            "30",
            "--frames",
            "1",
            "--preset",
            "ultrafast",
            "--bitrate",
            "500",
        ];
        line.extend(extra);
        check(&line)
    }

    #[test]
    fn av1_encoder_is_taken_with_codec_av1_only() {
        assert_eq!(
            encode(&["--codec", "av1", "--av1-encoder", "rav1e"]),
            Ok(())
        );
        assert_eq!(
            encode(&["--codec", "av1", "--av1-encoder", "svt-av1"]),
            Ok(())
        );
        assert_eq!(encode(&["--codec", "av1"]), Ok(()));
        let why = encode(&["--av1-encoder", "rav1e"]).unwrap_err();
        assert!(
            why.contains("only valid with '--codec av1'") && why.contains("'avc'"),
            "{why}"
        );
        let transcode = [
            "transcode",
            "--input",
            "x.ts",
            "--width",
            "64",
            "--height",
            "64",
            "--preset",
            "ultrafast",
            "--bitrate",
            "500",
            "--codec",
            "hevc",
            "--av1-encoder",
            "svt-av1",
        ];
        assert!(check(&transcode).unwrap_err().contains("'hevc'"));
    }
}
