//! What an appending recorder needs from the file it continues: the last tag's timestamp,
//! so the new frames follow it (nginx-rtmp's time shift), and where the head onMetaData
//! keeps `duration` and `filesize`, so they can be made true for the whole file.

use std::io;

use super::files::RecordFiles;
use super::flv_tag::{TagHeader, FILE_HEADER_LEN, TAG_HEADER_LEN, TAG_SCRIPT};
use super::on_metadata::find_patch_points;

/// onMetaData bodies larger than this are not searched: the recorder's own are a few
/// hundred bytes, and a huge one would only cost memory.
const MAX_META_SCAN: u32 = 64 * 1024;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Existing {
    pub last_timestamp: Option<u32>,
    pub duration_at: Option<u64>,
    pub filesize_at: Option<u64>,
}

/// Reads what it can; a file that is not FLV or ends mid-tag yields `None`s, and the
/// recorder then appends after it as nginx-rtmp does.
pub(super) fn inspect(files: &mut dyn RecordFiles, len: u64) -> io::Result<Existing> {
    let last_timestamp = last_timestamp(files, len)?;
    let (duration_at, filesize_at) = head_patch_points(files, len)?;
    Ok(Existing {
        last_timestamp,
        duration_at,
        filesize_at,
    })
}

fn read_tag_header(files: &mut dyn RecordFiles, at: u64) -> io::Result<TagHeader> {
    let mut h = [0u8; TAG_HEADER_LEN];
    files.read_at(at, &mut h)?;
    Ok(TagHeader::decode(&h))
}

fn last_timestamp(files: &mut dyn RecordFiles, len: u64) -> io::Result<Option<u32>> {
    let header_len = FILE_HEADER_LEN as u64;
    if len < header_len + TAG_HEADER_LEN as u64 + 4 {
        return Ok(None);
    }
    let mut trailer = [0u8; 4];
    files.read_at(len - 4, &mut trailer)?;
    let tag_size = u64::from(u32::from_be_bytes(trailer));
    if tag_size < TAG_HEADER_LEN as u64 || tag_size + 4 > len - header_len {
        return Ok(None);
    }
    let h = read_tag_header(files, len - 4 - tag_size)?;
    Ok((u64::from(h.tag_size()) == tag_size).then_some(h.timestamp))
}

fn head_patch_points(
    files: &mut dyn RecordFiles,
    len: u64,
) -> io::Result<(Option<u64>, Option<u64>)> {
    const NONE: (Option<u64>, Option<u64>) = (None, None);
    if len < (FILE_HEADER_LEN + TAG_HEADER_LEN) as u64 {
        return Ok(NONE);
    }
    let mut head = [0u8; FILE_HEADER_LEN];
    files.read_at(0, &mut head)?;
    let [b'F', b'L', b'V', _, _, s3, s2, s1, s0, ..] = head else {
        return Ok(NONE);
    };
    let tag_at = u64::from(u32::from_be_bytes([s3, s2, s1, s0])) + 4;
    if tag_at + TAG_HEADER_LEN as u64 > len {
        return Ok(NONE);
    }
    let h = read_tag_header(files, tag_at)?;
    let body_at = tag_at + TAG_HEADER_LEN as u64;
    if h.tag_type != TAG_SCRIPT
        || h.body_len > MAX_META_SCAN
        || body_at + u64::from(h.body_len) > len
    {
        return Ok(NONE);
    }
    let mut body = vec![0u8; h.body_len as usize];
    files.read_at(body_at, &mut body)?;
    let (d, f) = find_patch_points(&body);
    Ok((
        d.map(|at| body_at + at as u64),
        f.map(|at| body_at + at as u64),
    ))
}
