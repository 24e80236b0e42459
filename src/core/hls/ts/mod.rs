//! The MPEG-TS muxer: PAT/PMT at the start of every fragment, one PES per video access unit
//! or per batch of audio frames, PCR on the PCR PID's every PES.
//!
//! Continuity counters live here, not in a fragment, so a player that reads fragments back
//! to back (as every HLS player does) sees each PID count on without a gap.

pub mod packet;
pub mod pes;
pub mod psi;

use packet::Adaptation;
use psi::Elementary;

pub const PID_PAT: u16 = 0;
pub const PID_VIDEO: u16 = 0x100;
pub const PID_AUDIO: u16 = 0x101;
pub const STREAM_TYPE_H264: u8 = 0x1b;
pub const STREAM_TYPE_AAC_ADTS: u8 = 0x0f;
/// ISO 11172 audio: ffmpeg and hls.js use it for MP3 at every sample rate.
pub const STREAM_TYPE_MPEG_AUDIO: u8 = 0x03;

const WRAP: i64 = 1 << 33;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    Aac,
    Mp3,
}

/// The elementary streams a fragment's PMT announces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tracks {
    pub video: bool,
    pub audio: Option<AudioFormat>,
}

#[derive(Debug)]
pub struct Muxer {
    /// hls_muxdelay in 90 kHz ticks: PTS/DTS are written this far ahead of the PCR, which
    /// gives the player's decoder buffer time to fill (audio waits up to
    /// hls_max_audio_delay in our buffer before it is muxed, so the delay must cover it).
    delay: i64,
    cc_pat: u8,
    cc_pmt: u8,
    cc_video: u8,
    cc_audio: u8,
    pmt_version: u8,
    tracks: Tracks,
    announced: Option<Tracks>,
    pcr_discontinuity: bool,
    scratch: Vec<u8>,
}

impl Muxer {
    pub fn new(muxdelay_ms: u64) -> Self {
        Muxer {
            delay: i64::try_from(muxdelay_ms.min(3_600_000) * 90).unwrap_or(0),
            cc_pat: 0,
            cc_pmt: 0,
            cc_video: 0,
            cc_audio: 0,
            pmt_version: 0,
            tracks: Tracks::default(),
            announced: None,
            pcr_discontinuity: false,
            scratch: Vec::new(),
        }
    }

    /// The next PCR restarts the clock (the publisher's timestamps jumped).
    pub fn mark_discontinuity(&mut self) {
        self.pcr_discontinuity = true;
    }

    /// Writes PAT and PMT for a new fragment carrying `tracks`.
    pub fn start_fragment(&mut self, out: &mut Vec<u8>, tracks: Tracks) {
        if self.announced.is_some_and(|t| t != tracks) {
            self.pmt_version = (self.pmt_version + 1) & 0x1f;
        }
        self.announced = Some(tracks);
        self.tracks = tracks;
        let mut streams = Vec::with_capacity(2);
        if tracks.video {
            streams.push(Elementary {
                stream_type: STREAM_TYPE_H264,
                pid: PID_VIDEO,
            });
        }
        if let Some(format) = tracks.audio {
            streams.push(Elementary {
                stream_type: match format {
                    AudioFormat::Aac => STREAM_TYPE_AAC_ADTS,
                    AudioFormat::Mp3 => STREAM_TYPE_MPEG_AUDIO,
                },
                pid: PID_AUDIO,
            });
        }
        packet::write_section(out, PID_PAT, &mut self.cc_pat, &psi::pat());
        let pmt = psi::pmt(self.pcr_pid(), &streams, self.pmt_version);
        packet::write_section(out, psi::PID_PMT, &mut self.cc_pmt, &pmt);
    }

    fn pcr_pid(&self) -> u16 {
        if self.tracks.video || self.tracks.audio.is_none() {
            PID_VIDEO
        } else {
            PID_AUDIO
        }
    }

    fn adaptation(&mut self, pid: u16, clock: i64, random_access: bool) -> Adaptation {
        if pid != self.pcr_pid() {
            return Adaptation::default();
        }
        let discontinuity = std::mem::take(&mut self.pcr_discontinuity);
        Adaptation {
            pcr: Some(clock.rem_euclid(WRAP) as u64),
            random_access,
            discontinuity,
        }
    }

    fn stamp(&self, ticks: i64) -> u64 {
        ticks.saturating_add(self.delay).rem_euclid(WRAP) as u64
    }

    /// One H.264 access unit (Annex B). `dts`/`pts` are the stream's 90 kHz times.
    pub fn video(&mut self, out: &mut Vec<u8>, dts: i64, pts: i64, key: bool, au: &[u8]) {
        let mut unit = std::mem::take(&mut self.scratch);
        unit.clear();
        let (p, d) = (self.stamp(pts), self.stamp(dts));
        pes::write_header(&mut unit, pes::STREAM_ID_VIDEO, p, Some(d), au.len());
        unit.extend_from_slice(au);
        let mut adaptation = self.adaptation(PID_VIDEO, dts, key);
        adaptation.random_access = key;
        packet::write_unit(out, PID_VIDEO, &mut self.cc_video, adaptation, &unit);
        self.scratch = unit;
    }

    /// A batch of ADTS (or MP3) frames whose first frame starts at `pts`.
    pub fn audio(&mut self, out: &mut Vec<u8>, pts: i64, frames: &[u8]) {
        let mut unit = std::mem::take(&mut self.scratch);
        unit.clear();
        pes::write_header(
            &mut unit,
            pes::STREAM_ID_AUDIO,
            self.stamp(pts),
            None,
            frames.len(),
        );
        unit.extend_from_slice(frames);
        // Every audio frame is a random access point; say so only where a PCR is written
        // anyway (audio-only streams), so audio packets keep no adaptation field otherwise.
        let adaptation = self.adaptation(PID_AUDIO, pts, true);
        packet::write_unit(out, PID_AUDIO, &mut self.cc_audio, adaptation, &unit);
        self.scratch = unit;
    }
}
