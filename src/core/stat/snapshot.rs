//! What one worker knows at one moment. The shell fills it from its config, hub and
//! connections; every worker's snapshot travels through shared memory (see `wire`) and the
//! worker answering `/stat` merges them.

/// One worker's view. Counters are cumulative since the worker started; `bw_*` are bits/s
/// over the last measurement window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkerSnapshot {
    pub pid: u32,
    /// Milliseconds since the epoch when the snapshot was taken.
    pub taken_ms: u64,
    pub naccepted: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub bw_in: u64,
    pub bw_out: u64,
    pub servers: Vec<ServerSnap>,
}

/// An rtmp `server {}` block, by its position in the configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerSnap {
    pub index: u32,
    pub apps: Vec<AppSnap>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppSnap {
    pub name: String,
    /// `live on` in this application (the C module shows `<live>` only then).
    pub live: bool,
    pub streams: Vec<StreamSnap>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamSnap {
    pub name: String,
    /// Milliseconds since the stream was created (first publish or play).
    pub time_ms: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub bw_in: u64,
    pub bw_out: u64,
    pub bw_audio: u64,
    pub bw_video: u64,
    pub meta: MetaSnap,
    pub clients: Vec<ClientSnap>,
    pub publishing: bool,
    /// Media is flowing (a publisher has sent frames).
    pub active: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaSnap {
    pub video: Option<VideoMeta>,
    pub audio: Option<AudioMeta>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoMeta {
    pub width: u32,
    pub height: u32,
    pub frame_rate: f64,
    /// As nginx-rtmp names it: "H264", and for Enhanced RTMP "HEVC", "AV1", ...
    pub codec: String,
    /// "Baseline", "Main", "High", ... or empty.
    pub profile: String,
    pub compat: u32,
    /// "3.1", ... or empty.
    pub level: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AudioMeta {
    /// "AAC", "MP3", ...
    pub codec: String,
    /// "LC", "HE", ... or empty.
    pub profile: String,
    pub channels: u32,
    pub sample_rate: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientSnap {
    /// nginx's connection number (the `*N` of the error log; `clientid` of /control).
    pub id: u64,
    pub address: String,
    pub time_ms: u64,
    pub flashver: String,
    pub swfurl: String,
    pub pageurl: String,
    pub tcurl: String,
    /// Frames this player lost to skipping (slow player).
    pub dropped: u64,
    /// Audio minus video timestamp of the last frames sent, ms.
    pub avsync: i64,
    /// Timestamp of the last media message sent (player) or received (publisher).
    pub timestamp: u32,
    pub publishing: bool,
    pub active: bool,
    /// A relay of this server rather than a client (a pull publishing what it plays
    /// elsewhere).
    pub relay: bool,
}
