//! The looped sources, made once with ffmpeg: H.264 CBR + AAC, 25 fps, a keyframe every 2 s,
//! 10 s long (5 GOPs).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Source {
    pub key: &'static str,
    pub what: &'static str,
    size: &'static str,
    video_kbps: u32,
}

/// 720p25 at ~3 Mbit/s, the fan-out ladder's stream.
pub const HD_3M: Source = Source {
    key: "3m",
    what: "720p25 ~3 Mbit/s",
    size: "1280x720",
    video_kbps: 2900,
};
/// 360p25 at ~600 kbit/s: the setup of SRS's published head-to-head.
pub const SD_600K: Source = Source {
    key: "600k",
    what: "360p25 ~600 kbit/s",
    size: "640x360",
    video_kbps: 470,
};

/// The source's FLV under `dir`, made first if it is not there.
pub fn ensure(dir: &Path, s: &Source) -> Result<PathBuf, String> {
    let path = dir.join(format!("v{}.flv", s.key));
    if path.metadata().map(|m| m.len() > 0).unwrap_or(false) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = dir.join(format!("v{}.flv.tmp", s.key));
    let rate = format!("{}k", s.video_kbps);
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!("testsrc2=size={}:rate=25", s.size))
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=1000:sample_rate=44100",
            "-t",
            "10",
        ])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        ])
        .args([
            "-b:v", &rate, "-minrate", &rate, "-maxrate", &rate, "-bufsize", &rate,
        ])
        .args([
            "-x264-params",
            "nal-hrd=cbr:keyint=50:min-keyint=50:scenecut=0",
        ])
        .args(["-c:a", "aac", "-b:a", "128k", "-f", "flv"])
        .arg(&tmp)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("ffmpeg (needed once to make the sources): {e}"))?;
    if !status.success() {
        return Err(format!("ffmpeg failed making {}", path.display()));
    }
    std::fs::rename(&tmp, &path).map_err(|e| e.to_string())?;
    Ok(path)
}
