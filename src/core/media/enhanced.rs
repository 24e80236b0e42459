//! The Enhanced RTMP (v1 and v2) audio and video tag headers: ModEx prefixes, the packet
//! type, the FourCC, and the Multitrack wrapper with its tracks.
//!
//! Every function takes hostile bytes: a header that cannot be read whole is `None`, and a
//! track whose announced size runs past the message ends the track list (the tracks before
//! it stay readable). Nothing here allocates.

/// VideoFrameType values (the 3 bits after IsExHeader).
pub mod frame {
    pub const KEY: u8 = 1;
    pub const INTER: u8 = 2;
    /// A video info/command frame: one VideoCommand byte and no picture.
    pub const COMMAND: u8 = 5;
}

/// VideoPacketType values.
pub mod video_packet {
    pub const SEQUENCE_START: u8 = 0;
    pub const CODED_FRAMES: u8 = 1;
    pub const SEQUENCE_END: u8 = 2;
    /// CodedFrames whose composition time offset is implied to be 0.
    pub const CODED_FRAMES_X: u8 = 3;
    /// AMF-encoded metadata (`colorInfo`, HDR) about the frames that follow.
    pub const METADATA: u8 = 4;
    pub const MPEG2TS_SEQUENCE_START: u8 = 5;
    pub const MULTITRACK: u8 = 6;
    pub const MODEX: u8 = 7;
}

/// AudioPacketType values.
pub mod audio_packet {
    pub const SEQUENCE_START: u8 = 0;
    pub const CODED_FRAMES: u8 = 1;
    pub const SEQUENCE_END: u8 = 2;
    pub const MULTICHANNEL_CONFIG: u8 = 4;
    pub const MULTITRACK: u8 = 5;
    pub const MODEX: u8 = 7;
}

/// SoundFormat 9 switches the audio tag header to its Enhanced form.
pub const AUDIO_EX_HEADER: u8 = 9;

/// AvMultitrackType values.
pub mod multitrack {
    pub const ONE_TRACK: u8 = 0;
    pub const MANY_TRACKS: u8 = 1;
    pub const MANY_TRACKS_MANY_CODECS: u8 = 2;
}

/// An Enhanced audio or video tag header, read up to its first track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExHeader<'a> {
    /// VideoFrameType for video; 0 for audio, which has none.
    pub frame_type: u8,
    /// The packet type after any ModEx prefixes and the Multitrack wrapper, which applies
    /// to every track of the message.
    pub packet_type: u8,
    /// AvMultitrackType when the message is wrapped in Multitrack.
    pub multitrack: Option<u8>,
    /// The FourCC shared by every track; `None` with ManyTracksManyCodecs.
    shared_fourcc: Option<[u8; 4]>,
    /// The bytes after the header: the track list (or, without Multitrack, the one body).
    rest: &'a [u8],
}

/// One track of a message: its id (0 without Multitrack), codec and body. The body is what
/// follows the header for that track: a configuration record for SequenceStart, the SI24
/// composition time then NAL units for AVC/HEVC/VVC CodedFrames, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Track<'a> {
    pub id: u8,
    pub fourcc: [u8; 4],
    pub body: &'a [u8],
}

/// Reads an Enhanced video tag header; `None` for a legacy tag, a command frame (it has no
/// FourCC and no body), an unknown multitrack type, or a header cut short.
pub fn video(p: &[u8]) -> Option<ExHeader<'_>> {
    let b0 = *p.first()?;
    if b0 & 0x80 == 0 {
        return None;
    }
    let frame_type = (b0 >> 4) & 0x07;
    let (packet_type, at) = skip_modex(p, 1, b0 & 0x0f, video_packet::MODEX)?;
    if frame_type == frame::COMMAND && packet_type != video_packet::METADATA {
        return None;
    }
    header(
        p,
        at,
        frame_type,
        packet_type,
        video_packet::MULTITRACK,
        video_packet::MODEX,
    )
}

/// Reads an Enhanced audio tag header (SoundFormat 9); `None` for a legacy tag, an unknown
/// multitrack type, or a header cut short.
pub fn audio(p: &[u8]) -> Option<ExHeader<'_>> {
    let b0 = *p.first()?;
    if b0 >> 4 != AUDIO_EX_HEADER {
        return None;
    }
    let (packet_type, at) = skip_modex(p, 1, b0 & 0x0f, audio_packet::MODEX)?;
    header(
        p,
        at,
        0,
        packet_type,
        audio_packet::MULTITRACK,
        audio_packet::MODEX,
    )
}

/// Skips ModEx prefixes from `at` (just after the byte that held `packet_type`): each is a
/// size (UI8 + 1, or 256 meaning UI16 + 1 follows), that much modifier data, then a byte
/// whose low nibble is the real packet type. Each pass consumes at least two bytes, so
/// hostile input cannot spin here.
fn skip_modex(p: &[u8], mut at: usize, mut packet_type: u8, modex: u8) -> Option<(u8, usize)> {
    while packet_type == modex {
        let mut size = usize::from(*p.get(at)?) + 1;
        at += 1;
        if size == 256 {
            let hi = *p.get(at)?;
            let lo = *p.get(at + 1)?;
            size = usize::from(u16::from_be_bytes([hi, lo])) + 1;
            at += 2;
        }
        at = at.checked_add(size)?;
        packet_type = *p.get(at)? & 0x0f;
        at += 1;
    }
    Some((packet_type, at))
}

fn header(
    p: &[u8],
    at: usize,
    frame_type: u8,
    packet_type: u8,
    multitrack_type: u8,
    modex: u8,
) -> Option<ExHeader<'_>> {
    if packet_type != multitrack_type {
        let fourcc = fourcc_at(p, at)?;
        return Some(ExHeader {
            frame_type,
            packet_type,
            multitrack: None,
            shared_fourcc: Some(fourcc),
            rest: p.get(at + 4..)?,
        });
    }
    let b = *p.get(at)?;
    let (kind, packet_type) = (b >> 4, b & 0x0f);
    // The spec forbids a Multitrack or ModEx packet type inside the wrapper.
    if packet_type == multitrack_type || packet_type == modex {
        return None;
    }
    let at = at + 1;
    match kind {
        multitrack::ONE_TRACK | multitrack::MANY_TRACKS => Some(ExHeader {
            frame_type,
            packet_type,
            multitrack: Some(kind),
            shared_fourcc: Some(fourcc_at(p, at)?),
            rest: p.get(at + 4..)?,
        }),
        multitrack::MANY_TRACKS_MANY_CODECS => Some(ExHeader {
            frame_type,
            packet_type,
            multitrack: Some(kind),
            shared_fourcc: None,
            rest: p.get(at..)?,
        }),
        _ => None,
    }
}

fn fourcc_at(p: &[u8], at: usize) -> Option<[u8; 4]> {
    p.get(at..at.checked_add(4)?)?.try_into().ok()
}

impl<'a> ExHeader<'a> {
    /// The tracks of the message, in order.
    pub fn tracks(&self) -> Tracks<'a> {
        Tracks {
            multitrack: self.multitrack,
            shared_fourcc: self.shared_fourcc,
            rest: self.rest,
            done: false,
        }
    }

    /// The first track: the codec a stat page names, and what a single-track consumer
    /// (HLS, the codec facts) reads. `None` only for a Multitrack message with no
    /// readable track.
    pub fn first_track(&self) -> Option<Track<'a>> {
        self.tracks().next()
    }

    /// The default track (id 0, as the spec recommends; the only track without
    /// Multitrack): what a single-track consumer (HLS, the stat page) takes. `None` for a
    /// message of other tracks only.
    pub fn default_track(&self) -> Option<Track<'a>> {
        self.tracks().find(|t| t.id == 0)
    }

    /// The first track's FourCC; for ManyTracksManyCodecs this needs the track list.
    pub fn fourcc(&self) -> Option<[u8; 4]> {
        self.shared_fourcc
            .or_else(|| self.first_track().map(|t| t.fourcc))
    }
}

/// The track list of one message (see [`ExHeader::tracks`]).
#[derive(Debug, Clone)]
pub struct Tracks<'a> {
    multitrack: Option<u8>,
    shared_fourcc: Option<[u8; 4]>,
    rest: &'a [u8],
    done: bool,
}

impl<'a> Iterator for Tracks<'a> {
    type Item = Track<'a>;

    fn next(&mut self) -> Option<Track<'a>> {
        if self.done {
            return None;
        }
        let track = self.read();
        if track.is_none() || matches!(self.multitrack, None | Some(multitrack::ONE_TRACK)) {
            self.done = true;
        }
        track
    }
}

impl<'a> Tracks<'a> {
    fn read(&mut self) -> Option<Track<'a>> {
        let Some(kind) = self.multitrack else {
            return Some(Track {
                id: 0,
                fourcc: self.shared_fourcc?,
                body: self.rest,
            });
        };
        let mut at = 0;
        let fourcc = match self.shared_fourcc {
            Some(f) => f,
            None => {
                at = 4;
                fourcc_at(self.rest, 0)?
            }
        };
        let id = *self.rest.get(at)?;
        at += 1;
        if kind == multitrack::ONE_TRACK {
            return Some(Track {
                id,
                fourcc,
                body: self.rest.get(at..)?,
            });
        }
        let size = self.rest.get(at..at + 3)?;
        let size = usize::from(size[0]) << 16 | usize::from(size[1]) << 8 | usize::from(size[2]);
        at += 3;
        let body = self.rest.get(at..at.checked_add(size)?)?;
        self.rest = self.rest.get(at + size..)?;
        if self.rest.is_empty() {
            self.done = true;
        }
        Some(Track { id, fourcc, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEVC_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_seq");
    const HEVC_KEY: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_hevc_key");
    const COLOR_INFO: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_colorinfo");
    const OPUS_SEQ: &[u8] = include_bytes!("../fuzz/seeds/flv/ex_opus_seq");

    #[test]
    fn ffmpeg_single_track_tags() {
        // FFmpeg 8.1's FLV muxer: `0x90 hvc1` + hvcC.
        let h = video(HEVC_SEQ).unwrap();
        assert_eq!((h.frame_type, h.packet_type, h.multitrack), (1, 0, None));
        let t = h.first_track().unwrap();
        assert_eq!((t.id, &t.fourcc, t.body), (0, b"hvc1", &HEVC_SEQ[5..]));
        assert_eq!(h.tracks().count(), 1);
        // CodedFrames: SI24 composition time first.
        let h = video(HEVC_KEY).unwrap();
        assert_eq!((h.frame_type, h.packet_type), (1, 1));
        assert_eq!(h.default_track().unwrap().body, &HEVC_KEY[5..]);
        // The colorInfo metadata frame carries frame type 5 but is no command.
        let h = video(COLOR_INFO).unwrap();
        assert_eq!((h.frame_type, h.packet_type), (5, 4));
        assert_eq!(h.fourcc(), Some(*b"hvc1"));
        let h = audio(OPUS_SEQ).unwrap();
        assert_eq!((h.packet_type, h.fourcc()), (0, Some(*b"Opus")));
        assert!(h.first_track().unwrap().body.starts_with(b"OpusHead"));
    }

    #[test]
    fn command_frames_and_legacy_tags_are_not_enhanced() {
        assert_eq!(
            video(b"\xd1\x00"),
            None,
            "command frame: one byte, no FourCC"
        );
        assert_eq!(video(b"\x17\x00\x00\x00\x00"), None);
        assert_eq!(audio(b"\xaf\x00\x12\x10"), None);
        assert_eq!(video(b""), None);
        assert_eq!(audio(b""), None);
    }

    #[test]
    fn multitrack_layouts() {
        // OneTrack: shared FourCC, track id, then the body to the end.
        let p = b"\x96\x00hvc1\x02body";
        let h = video(p).unwrap();
        assert_eq!((h.packet_type, h.multitrack), (0, Some(0)));
        let tracks: Vec<_> = h.tracks().collect();
        assert_eq!(
            tracks,
            vec![Track {
                id: 2,
                fourcc: *b"hvc1",
                body: b"body"
            }]
        );
        // ManyTracks: shared FourCC, then (id, UI24 size, body) per track.
        let p = b"\x96\x13av01\x01\x00\x00\x02ab\x00\x00\x00\x01c";
        let h = video(p).unwrap();
        assert_eq!((h.frame_type, h.packet_type), (1, 3));
        let ids: Vec<_> = h.tracks().map(|t| (t.id, t.body)).collect();
        assert_eq!(ids, vec![(1, &b"ab"[..]), (0, &b"c"[..])]);
        assert_eq!(h.default_track().unwrap().id, 0);
        assert_eq!(h.first_track().unwrap().id, 1);
        assert_eq!(
            video(b"\x96\x00hvc1\x02body").unwrap().default_track(),
            None
        );
        // ManyTracksManyCodecs: (FourCC, id, size, body) per track.
        let p = b"\x95\x21Opus\x00\x00\x00\x01xmp4a\x01\x00\x00\x02yz";
        let h = audio(p).unwrap();
        assert_eq!(h.fourcc(), Some(*b"Opus"));
        let got: Vec<_> = h.tracks().map(|t| (t.fourcc, t.id, t.body)).collect();
        assert_eq!(
            got,
            vec![(*b"Opus", 0, &b"x"[..]), (*b"mp4a", 1, &b"yz"[..])]
        );
        // A size past the end stops the list after the tracks that were whole.
        let p = b"\x96\x11hvc1\x00\x00\x00\x01a\x01\x00\x00\x09b";
        assert_eq!(video(p).unwrap().tracks().count(), 1);
        // Unknown multitrack types and nested wrappers are refused.
        assert_eq!(video(b"\x96\x31hvc1\x00"), None);
        assert_eq!(video(b"\x96\x06hvc1\x00"), None);
        assert_eq!(audio(b"\x95\x07Opus\x00"), None);
    }

    #[test]
    fn modex_prefixes() {
        // One byte of modifier data (TimestampOffsetNano would be 3), then CodedFrames.
        let p = b"\x97\x00\xaa\x01avc1\x00\x00\x00";
        let h = video(p).unwrap();
        assert_eq!((h.packet_type, h.fourcc()), (1, Some(*b"avc1")));
        // The 16-bit size escape: 0xff then UI16 + 1 = 2 bytes.
        let p = b"\x97\xff\x00\x01\xaa\xbb\x00vvc1";
        assert_eq!(video(p).unwrap().fourcc(), Some(*b"vvc1"));
        // ModEx then Multitrack.
        let p = b"\x97\x02\x01\x02\x03\x06\x00hvc1\x00rest";
        let h = video(p).unwrap();
        assert_eq!(h.first_track().unwrap().body, b"rest");
        // ModEx on a command frame still ends in a command.
        assert_eq!(video(b"\xd7\x00\xaa\x01\x00"), None);
        // Cut inside the ModEx data.
        assert_eq!(video(b"\x97\x05\x00"), None);
        assert_eq!(audio(b"\x97\xff\xff"), None);
    }

    #[test]
    fn every_prefix_of_real_tags_is_safe() {
        for tag in [HEVC_SEQ, HEVC_KEY, COLOR_INFO, OPUS_SEQ] {
            for n in 0..=tag.len() {
                let p = &tag[..n];
                for h in [video(p), audio(p)].into_iter().flatten() {
                    for t in h.tracks() {
                        assert!(t.body.len() <= n);
                    }
                    let _ = (h.default_track(), h.fourcc());
                }
                if n < 5 {
                    assert_eq!(video(p), None, "cut at {n}");
                }
            }
        }
    }
}
