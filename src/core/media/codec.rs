//! Codec identities and the names the `/stat` page prints for them.
//!
//! Legacy names are nginx-rtmp's (`ngx_rtmp_codec_module.c`); an empty name means nginx-rtmp
//! prints no `<codec>` element, so we keep the same gaps (e.g. platform-endian PCM, id 0).

/// A video codec, from a legacy FLV codec id or an Enhanced RTMP FourCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    Jpeg,
    H263,
    Screen,
    Vp6,
    Vp6Alpha,
    Screen2,
    Avc,
    Hevc,
    Av1,
    Vp9,
    Vp8,
    Vvc,
    /// A legacy codec id (< 16) or an unknown FourCC (big-endian u32).
    Other(u32),
}

impl VideoCodec {
    /// Maps the low nibble of a legacy video tag. Id 12 is the de-facto HEVC extension
    /// that Chinese CDNs and forks of nginx-rtmp use; publishers still send it.
    pub fn from_legacy_id(id: u8) -> VideoCodec {
        match id {
            1 => VideoCodec::Jpeg,
            2 => VideoCodec::H263,
            3 => VideoCodec::Screen,
            4 => VideoCodec::Vp6,
            5 => VideoCodec::Vp6Alpha,
            6 => VideoCodec::Screen2,
            7 => VideoCodec::Avc,
            12 => VideoCodec::Hevc,
            other => VideoCodec::Other(u32::from(other)),
        }
    }

    pub fn from_fourcc(fourcc: [u8; 4]) -> VideoCodec {
        match &fourcc {
            b"avc1" => VideoCodec::Avc,
            b"hvc1" => VideoCodec::Hevc,
            b"av01" => VideoCodec::Av1,
            b"vp09" => VideoCodec::Vp9,
            b"vp08" => VideoCodec::Vp8,
            b"vvc1" => VideoCodec::Vvc,
            _ => VideoCodec::Other(u32::from_be_bytes(fourcc)),
        }
    }

    /// The `/stat` name; empty when nginx-rtmp would print none.
    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::Jpeg => "Jpeg",
            VideoCodec::H263 => "Sorenson-H263",
            VideoCodec::Screen => "ScreenVideo",
            VideoCodec::Vp6 => "On2-VP6",
            VideoCodec::Vp6Alpha => "On2-VP6-Alpha",
            VideoCodec::Screen2 => "ScreenVideo2",
            VideoCodec::Avc => "H264",
            VideoCodec::Hevc => "HEVC",
            VideoCodec::Av1 => "AV1",
            VideoCodec::Vp9 => "VP9",
            VideoCodec::Vp8 => "VP8",
            VideoCodec::Vvc => "VVC",
            VideoCodec::Other(_) => "",
        }
    }
}

/// An audio codec, from a legacy FLV sound format or an Enhanced RTMP FourCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    Pcm,
    Adpcm,
    Mp3,
    PcmLe,
    Nellymoser16,
    Nellymoser8,
    Nellymoser,
    G711A,
    G711U,
    Aac,
    Speex,
    Mp3At8k,
    DeviceSpecific,
    Opus,
    Flac,
    Ac3,
    Eac3,
    /// A reserved legacy sound format or an unknown FourCC (big-endian u32).
    Other(u32),
}

impl AudioCodec {
    /// Maps the high nibble of a legacy audio tag. 9 is the Enhanced RTMP ExHeader marker
    /// and 12/13 are reserved, so they stay `Other`.
    pub fn from_legacy_id(id: u8) -> AudioCodec {
        match id {
            0 => AudioCodec::Pcm,
            1 => AudioCodec::Adpcm,
            2 => AudioCodec::Mp3,
            3 => AudioCodec::PcmLe,
            4 => AudioCodec::Nellymoser16,
            5 => AudioCodec::Nellymoser8,
            6 => AudioCodec::Nellymoser,
            7 => AudioCodec::G711A,
            8 => AudioCodec::G711U,
            10 => AudioCodec::Aac,
            11 => AudioCodec::Speex,
            14 => AudioCodec::Mp3At8k,
            15 => AudioCodec::DeviceSpecific,
            other => AudioCodec::Other(u32::from(other)),
        }
    }

    pub fn from_fourcc(fourcc: [u8; 4]) -> AudioCodec {
        match &fourcc {
            b"Opus" => AudioCodec::Opus,
            b"fLaC" => AudioCodec::Flac,
            b"mp4a" => AudioCodec::Aac,
            b".mp3" => AudioCodec::Mp3,
            b"ac-3" => AudioCodec::Ac3,
            b"ec-3" => AudioCodec::Eac3,
            _ => AudioCodec::Other(u32::from_be_bytes(fourcc)),
        }
    }

    /// The `/stat` name; empty when nginx-rtmp would print none. nginx-rtmp's table has
    /// "" at id 0 and "Uncompressed" at a nonexistent id 16, so id 0 prints nothing there.
    pub fn name(self) -> &'static str {
        match self {
            AudioCodec::Pcm => "",
            AudioCodec::Adpcm => "ADPCM",
            AudioCodec::Mp3 => "MP3",
            AudioCodec::PcmLe => "LinearLE",
            AudioCodec::Nellymoser16 => "Nellymoser16",
            AudioCodec::Nellymoser8 => "Nellymoser8",
            AudioCodec::Nellymoser => "Nellymoser",
            AudioCodec::G711A => "G711A",
            AudioCodec::G711U => "G711U",
            AudioCodec::Aac => "AAC",
            AudioCodec::Speex => "Speex",
            AudioCodec::Mp3At8k => "MP3-8K",
            AudioCodec::DeviceSpecific => "DeviceSpecific",
            AudioCodec::Opus => "Opus",
            AudioCodec::Flac => "FLAC",
            AudioCodec::Ac3 => "AC3",
            AudioCodec::Eac3 => "EAC3",
            AudioCodec::Other(_) => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_video_names() {
        let cases: &[(u8, &str)] = &[
            (0, ""),
            (1, "Jpeg"),
            (2, "Sorenson-H263"),
            (3, "ScreenVideo"),
            (4, "On2-VP6"),
            (5, "On2-VP6-Alpha"),
            (6, "ScreenVideo2"),
            (7, "H264"),
            (12, "HEVC"),
            (15, ""),
        ];
        for &(id, name) in cases {
            assert_eq!(VideoCodec::from_legacy_id(id).name(), name, "id {id}");
        }
    }

    #[test]
    fn legacy_audio_names() {
        let cases: &[(u8, &str)] = &[
            (0, ""),
            (1, "ADPCM"),
            (2, "MP3"),
            (3, "LinearLE"),
            (4, "Nellymoser16"),
            (5, "Nellymoser8"),
            (6, "Nellymoser"),
            (7, "G711A"),
            (8, "G711U"),
            (9, ""),
            (10, "AAC"),
            (11, "Speex"),
            (12, ""),
            (13, ""),
            (14, "MP3-8K"),
            (15, "DeviceSpecific"),
        ];
        for &(id, name) in cases {
            assert_eq!(AudioCodec::from_legacy_id(id).name(), name, "id {id}");
        }
    }

    #[test]
    fn fourccs() {
        assert_eq!(VideoCodec::from_fourcc(*b"hvc1"), VideoCodec::Hevc);
        assert_eq!(VideoCodec::from_fourcc(*b"av01").name(), "AV1");
        assert_eq!(VideoCodec::from_fourcc(*b"vp09").name(), "VP9");
        assert_eq!(VideoCodec::from_fourcc(*b"vp08").name(), "VP8");
        assert_eq!(VideoCodec::from_fourcc(*b"vvc1").name(), "VVC");
        assert_eq!(VideoCodec::from_fourcc(*b"avc1").name(), "H264");
        assert_eq!(
            VideoCodec::from_fourcc(*b"abcd"),
            VideoCodec::Other(0x6162_6364)
        );
        assert_eq!(AudioCodec::from_fourcc(*b"Opus").name(), "Opus");
        assert_eq!(AudioCodec::from_fourcc(*b"fLaC").name(), "FLAC");
        assert_eq!(AudioCodec::from_fourcc(*b"mp4a").name(), "AAC");
        assert_eq!(AudioCodec::from_fourcc(*b".mp3").name(), "MP3");
        assert_eq!(AudioCodec::from_fourcc(*b"ac-3").name(), "AC3");
        assert_eq!(AudioCodec::from_fourcc(*b"ec-3").name(), "EAC3");
        assert_eq!(AudioCodec::from_fourcc(*b"OPUS").name(), "");
    }
}
