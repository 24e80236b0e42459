//! HLS (nginx-rtmp-module's `hls` family): MPEG-TS or fragmented MP4 muxing, fragment
//! cutting and playlists. The shell does the file I/O through [`HlsFiles`].
//!
//! One [`HlsStream`] per published stream: frames go in as they arrive, fragments and
//! playlists come out through the trait. H.264 with AAC or MP3 goes into MPEG-TS; HEVC,
//! AV1, VP9 and Opus (and everything with `hls_fragment_type fmp4`) into fMP4 (CMAF)
//! fragments with an initialization segment. Other codecs are skipped.

mod adts;
mod annexb;
mod audio;
mod cleanup;
pub mod fmp4;
mod naming;
mod playlist;
mod stream;
mod tag;
mod timeline;
mod ts;

#[cfg(test)]
mod random_tests;
#[cfg(test)]
mod tests;

pub use stream::HlsStream;

/// hls_fragment_naming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Naming {
    /// Media sequence numbers: 0, 1, 2...
    #[default]
    Sequential,
    /// The fragment's start in stream time, in 90 kHz ticks as nginx-rtmp writes it.
    Timestamp,
    /// The wall clock in ms when the fragment opened.
    System,
}

/// hls_fragment_slicing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Slicing {
    /// Cut at the first key frame once a fragment is hls_fragment long.
    #[default]
    Plain,
    /// Cut at the first key frame in each new multiple of hls_fragment of stream time, so
    /// servers fed the same stream cut at the same places.
    Aligned,
}

/// hls_type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlaylistType {
    /// A sliding window of hls_playlist_length.
    #[default]
    Live,
    /// Fragments are never dropped from the playlist (`#EXT-X-PLAYLIST-TYPE:EVENT`).
    Event,
}

/// hls_fragment_type: the container of the fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FragmentType {
    /// MPEG-TS when the stream's codecs fit it (H.264, AAC, MP3), else fMP4.
    #[default]
    Auto,
    /// MPEG-TS only, as nginx-rtmp: other codecs get no HLS.
    MpegTs,
    /// fMP4 whatever the codecs.
    Fmp4,
}

/// One `hls_variant SUFFIX PARAM...`: PARAMs go into the master playlist's
/// `#EXT-X-STREAM-INF` line (e.g. `BANDWIDTH=320000`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Variant {
    pub suffix: String,
    pub params: Vec<String>,
}

/// The `hls_*` settings of an application. Defaults are nginx-rtmp's.
///
/// Out-of-range values are made workable rather than refused: `fragment_ms` 0 counts as
/// 1 ms, `max_fragment_ms` 0 as 10 x `fragment_ms` (nginx-rtmp's default) and anything
/// below `fragment_ms` as `fragment_ms`; the audio buffer never exceeds one PES (64 KiB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlsConf {
    pub fragment_ms: u64,
    pub max_fragment_ms: u64,
    pub playlist_length_ms: u64,
    pub sync_ms: u64,
    pub muxdelay_ms: u64,
    pub continuous: bool,
    pub nested: bool,
    pub naming: Naming,
    pub naming_granularity: u64,
    pub slicing: Slicing,
    pub playlist_type: PlaylistType,
    pub max_audio_delay_ms: u64,
    pub audio_buffer_size: usize,
    pub cleanup: bool,
    pub base_url: String,
    pub variants: Vec<Variant>,
    pub fragment_type: FragmentType,
}

impl Default for HlsConf {
    fn default() -> Self {
        HlsConf {
            fragment_ms: 5000,
            max_fragment_ms: 50_000,
            playlist_length_ms: 30_000,
            sync_ms: 2,
            muxdelay_ms: 700,
            continuous: true,
            nested: false,
            naming: Naming::Sequential,
            naming_granularity: 0,
            slicing: Slicing::Plain,
            playlist_type: PlaylistType::Live,
            max_audio_delay_ms: 300,
            audio_buffer_size: 1 << 20,
            cleanup: true,
            base_url: String::new(),
            variants: Vec::new(),
            fragment_type: FragmentType::Auto,
        }
    }
}

/// The shell's side. Names are relative to hls_path, built by the core: "NAME.m3u8",
/// "NAME-N.ts", "NAME-N.m4s" and "NAME-init-N.mp4" (or with hls_nested: "NAME/index.m3u8",
/// "NAME/N.ts"...); stream names never contain '/' or "..".
pub trait HlsFiles {
    /// hls_nested: "NAME"; ok if it exists.
    fn create_dir(&mut self, name: &str) -> std::io::Result<()>;
    /// Create or truncate.
    fn open_fragment(&mut self, name: &str) -> std::io::Result<()>;
    /// Append to the open fragment.
    fn write_fragment(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    fn close_fragment(&mut self) -> std::io::Result<()>;
    /// The shell makes it atomic (tmp + rename).
    fn write_playlist(&mut self, name: &str, text: &str) -> std::io::Result<()>;
    /// An fMP4 initialization segment, whole; atomic like a playlist.
    fn write_init(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()>;
    /// hls_continuous: read an old playlist.
    fn read_file(&mut self, name: &str) -> Option<String>;
    /// Cleanup; errors ignored.
    fn remove(&mut self, name: &str);
}
