//! Decoding real streams made by the ffmpeg CLI.
