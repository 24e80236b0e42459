//! HLS files on disk under `hls_path`: fragments written in place, playlists replaced
//! atomically (temporary file, then rename) so a reader never sees half a playlist.
use ngx_rtmp_core::hls::HlsFiles;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub struct HlsDisk {
    dir: PathBuf,
    fragment: Option<File>,
}

impl HlsDisk {
    pub fn new(dir: &str) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(HlsDisk {
            dir: PathBuf::from(dir),
            fragment: None,
        })
    }

    /// Names come from the core and are built from checked stream names; refuse anything
    /// that could still step out of `hls_path`.
    fn at(&self, name: &str) -> io::Result<PathBuf> {
        let rel = Path::new(name);
        let inside = rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if name.is_empty() || !inside {
            return Err(io::Error::other(format!(
                "refusing file name \"{name}\" outside hls_path"
            )));
        }
        Ok(self.dir.join(rel))
    }
}

impl HlsFiles for HlsDisk {
    fn create_dir(&mut self, name: &str) -> io::Result<()> {
        std::fs::create_dir_all(self.at(name)?)
    }

    fn open_fragment(&mut self, name: &str) -> io::Result<()> {
        let path = self.at(name)?;
        self.fragment = Some(
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(path)?,
        );
        Ok(())
    }

    fn write_fragment(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.fragment {
            Some(f) => f.write_all(bytes),
            None => Err(io::Error::other("no HLS fragment is open")),
        }
    }

    fn close_fragment(&mut self) -> io::Result<()> {
        match self.fragment.take() {
            Some(mut f) => f.flush(),
            None => Ok(()),
        }
    }

    fn write_playlist(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.write_init(name, text.as_bytes())
    }

    fn write_init(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.at(name)?;
        let tmp = self.at(&format!("{name}.tmp"))?;
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)
    }

    fn read_file(&mut self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.at(name).ok()?).ok()
    }

    fn remove(&mut self, name: &str) {
        if let Ok(path) = self.at(name) {
            let _ = std::fs::remove_file(path);
        }
    }
}
