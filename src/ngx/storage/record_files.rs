//! The recorder's files on disk: `record_path/NAME[-UNIXTIME]SUFFIX`, one open piece at a time.
use ngx_rtmp_core::record::{file_name, RecordFiles, Tm};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

pub struct RecordDisk {
    dir: PathBuf,
    name: String,
    unique: bool,
    suffix: String,
    lock: bool,
    file: Option<File>,
    len: u64,
    /// Paths this recorder wrote, so a later piece never truncates an earlier one.
    written: Vec<PathBuf>,
    /// The path the next piece will take, fixed when the control API starts the recorder (it
    /// answers with the path before the first keyframe opens the file).
    reserved: Option<PathBuf>,
    /// The last pieces opened and their files: the events of one frame can close a piece
    /// and open the next, and each is reported with its own file.
    pieces: Vec<(u32, PathBuf)>,
}

impl RecordDisk {
    pub fn new(dir: &str, name: &str, unique: bool, suffix: &str, lock: bool) -> Self {
        RecordDisk {
            dir: PathBuf::from(dir),
            name: name.to_string(),
            unique,
            suffix: suffix.to_string(),
            lock,
            file: None,
            len: 0,
            written: Vec::new(),
            reserved: None,
            pieces: Vec::new(),
        }
    }

    pub fn reserve_next(&mut self) {
        let piece = self.written.len() as u32;
        self.reserved = Some(self.next_path(piece, false));
    }

    /// The reserved path of a piece about to open, else the current or last one.
    pub fn next_or_current(&self) -> Option<PathBuf> {
        self.reserved.clone().or_else(|| self.path().cloned())
    }

    /// The file piece `piece` went to, if it is one of the last two.
    pub fn piece_path(&self, piece: u32) -> Option<&PathBuf> {
        self.pieces
            .iter()
            .find(|(n, _)| *n == piece)
            .map(|(_, p)| p)
    }

    /// The file the current (or last) piece went to.
    pub fn path(&self) -> Option<&PathBuf> {
        self.written.last()
    }

    fn next_path(&self, piece: u32, append: bool) -> PathBuf {
        let tm = local_time();
        let path = self
            .dir
            .join(file_name(&self.name, self.unique, &self.suffix, &tm));
        if append || !self.written.contains(&path) {
            return path;
        }
        // The C module would truncate the earlier piece here; a recording is never lost.
        let named = format!("{}-{piece}", self.name);
        self.dir
            .join(file_name(&named, self.unique, &self.suffix, &tm))
    }
}

impl RecordFiles for RecordDisk {
    fn open(&mut self, piece: u32, append: bool) -> io::Result<u64> {
        let path = match self.reserved.take() {
            Some(p) => p,
            None => self.next_path(piece, append),
        };
        // Named in the error line if the open fails.
        self.written.retain(|p| *p != path);
        self.written.push(path.clone());
        if self.pieces.len() >= 2 {
            self.pieces.remove(0);
        }
        self.pieces.push((piece, path.clone()));
        std::fs::create_dir_all(&self.dir)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(!append)
            .open(&path)?;
        if self.lock {
            lock_for_writing(&file)?;
        }
        self.len = if append { file.metadata()?.len() } else { 0 };
        self.file = Some(file);
        Ok(self.len)
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.open_file()?.read_exact_at(buf, offset)
    }

    fn append(&mut self, bufs: &[&[u8]]) -> io::Result<()> {
        let len = self.len;
        let file = self.open_file()?;
        let mut at = len;
        for b in bufs {
            if let Err(e) = file.write_all_at(b, at) {
                // A full disk takes part of a tag: cut it off, so the file ends on the last
                // whole tag and plays to its end.
                let _ = file.set_len(len);
                return Err(e);
            }
            at += b.len() as u64;
        }
        self.len = at;
        Ok(())
    }

    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.open_file()?.write_all_at(bytes, offset)
    }

    fn close(&mut self) -> io::Result<()> {
        match self.file.take() {
            Some(mut f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl RecordDisk {
    fn open_file(&self) -> io::Result<&File> {
        self.file
            .as_ref()
            .ok_or_else(|| io::Error::other("no recording file is open"))
    }
}

/// `record_lock`: a POSIX (fcntl) write lock over the whole file, as the C module takes, so a
/// copy job can ask (F_GETLK) whether a file is still being recorded and by which process.
fn lock_for_writing(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: an all-zero flock is valid; fcntl only reads it, on an fd we own.
    let rc = unsafe {
        let mut fl: libc::flock = std::mem::zeroed();
        fl.l_type = libc::F_WRLCK as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &fl)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "record_lock: {}",
            io::Error::last_os_error()
        )))
    }
}

/// The local time, as strftime patterns in `record_suffix` expect it.
fn local_time() -> Tm {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    // SAFETY: localtime_r only writes the tm we hand it; an all-zero tm is a valid value.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        let t: libc::time_t = now as libc::time_t;
        libc::localtime_r(&t, &mut tm);
        tm
    };
    Tm {
        year: tm.tm_year + 1900,
        mon: (tm.tm_mon + 1) as u32,
        mday: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        min: tm.tm_min as u32,
        sec: tm.tm_sec as u32,
        wday: tm.tm_wday as u32,
        yday: tm.tm_yday as u32,
        gmtoff_secs: tm.tm_gmtoff as i64,
        unix_secs: now,
    }
}
