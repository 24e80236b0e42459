//! What an appending recorder needs from the file it continues: where its frames end, so
//! the new ones follow them (nginx-rtmp's time shift), and the header's media flags and
//! where the head onMetaData keeps `duration` and `filesize`, so they can be made true for
//! the whole file.

use std::io;

use super::ends::End;
use super::files::RecordFiles;
use super::flv_tag::{
    TagHeader, FILE_HEADER_LEN, TAG_AUDIO, TAG_HEADER_LEN, TAG_SCRIPT, TAG_VIDEO,
};
use super::on_metadata::find_patch_points;

/// onMetaData bodies larger than this are not searched: the recorder's own are a few
/// hundred bytes, and a huge one would only cost memory.
const MAX_META_SCAN: u32 = 64 * 1024;

/// How many tags are read back from the end: enough to see two frames of each medium
/// in any interleaving encoders use, so the last frame's length is known.
const TAIL_TAGS: usize = 32;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Existing {
    /// Where the existing frames end (0 when none could be read). nginx-rtmp continues
    /// at the last timestamp itself, which repeats a DTS that ffmpeg then rejects.
    pub end_ms: u32,
    /// The FLV header's audio/video flags, when the file starts with one.
    pub flags: Option<u8>,
    pub duration_at: Option<u64>,
    pub filesize_at: Option<u64>,
}

/// Reads what it can; a file that is not FLV or ends mid-tag yields 0 and `None`s, and
/// the recorder then appends after it as nginx-rtmp does.
pub(super) fn inspect(files: &mut dyn RecordFiles, len: u64) -> io::Result<Existing> {
    let mut e = Existing {
        end_ms: tail_end(files, len)?,
        ..Existing::default()
    };
    read_head(files, len, &mut e)?;
    Ok(e)
}

fn read_tag_header(files: &mut dyn RecordFiles, at: u64) -> io::Result<TagHeader> {
    let mut h = [0u8; TAG_HEADER_LEN];
    files.read_at(at, &mut h)?;
    Ok(TagHeader::decode(&h))
}

/// Walks back from the end over whole tags (each PreviousTagSize must match its tag)
/// and returns where their frames end. Stops at the first tag that does not check out.
fn tail_end(files: &mut dyn RecordFiles, len: u64) -> io::Result<u32> {
    let first_tag = FILE_HEADER_LEN as u64;
    let mut tail = Vec::new();
    let mut end = len;
    while tail.len() < TAIL_TAGS && end >= first_tag + TAG_HEADER_LEN as u64 + 4 {
        let mut trailer = [0u8; 4];
        files.read_at(end - 4, &mut trailer)?;
        let tag_size = u64::from(u32::from_be_bytes(trailer));
        if tag_size < TAG_HEADER_LEN as u64 || tag_size + 4 > end - first_tag {
            break;
        }
        let start = end - 4 - tag_size;
        let h = read_tag_header(files, start)?;
        if u64::from(h.tag_size()) != tag_size {
            break;
        }
        tail.push(h);
        end = start;
    }
    let (mut video, mut audio) = (End::default(), End::default());
    let mut last = None;
    for h in tail.iter().rev() {
        match h.tag_type {
            TAG_VIDEO => video.push(h.timestamp),
            TAG_AUDIO => audio.push(h.timestamp),
            _ => {}
        }
        last = last.max(Some(h.timestamp));
    }
    let Some(last) = last else {
        return Ok(0);
    };
    // With one frame per medium the step is unknown: at least move past the last one.
    let end_ms = video.end_ms().max(audio.end_ms()).max(u64::from(last) + 1);
    Ok(u32::try_from(end_ms).unwrap_or(u32::MAX))
}

fn read_head(files: &mut dyn RecordFiles, len: u64, e: &mut Existing) -> io::Result<()> {
    if len < FILE_HEADER_LEN as u64 {
        return Ok(());
    }
    let mut head = [0u8; FILE_HEADER_LEN];
    files.read_at(0, &mut head)?;
    let [b'F', b'L', b'V', _, flags, s3, s2, s1, s0, ..] = head else {
        return Ok(());
    };
    e.flags = Some(flags);
    let tag_at = u64::from(u32::from_be_bytes([s3, s2, s1, s0])) + 4;
    if tag_at + TAG_HEADER_LEN as u64 > len {
        return Ok(());
    }
    let h = read_tag_header(files, tag_at)?;
    let body_at = tag_at + TAG_HEADER_LEN as u64;
    if h.tag_type != TAG_SCRIPT
        || h.body_len > MAX_META_SCAN
        || body_at + u64::from(h.body_len) > len
    {
        return Ok(());
    }
    let mut body = vec![0u8; h.body_len as usize];
    files.read_at(body_at, &mut body)?;
    let (d, f) = find_patch_points(&body);
    e.duration_at = d.map(|at| body_at + at as u64);
    e.filesize_at = f.map(|at| body_at + at as u64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::flv_tag::file_header;
    use super::super::test_support::MemFiles;
    use super::*;

    fn file_with(tags: &[(u8, u32)]) -> MemFiles {
        let mut f = MemFiles::default();
        let mut b = file_header(5).to_vec();
        for &(tag_type, timestamp) in tags {
            let h = TagHeader {
                tag_type,
                body_len: 2,
                timestamp,
            };
            b.extend_from_slice(&h.encode());
            b.extend_from_slice(b"xx");
            b.extend_from_slice(&h.tag_size().to_be_bytes());
        }
        f.files.insert(0, b);
        f.open = Some(0);
        f
    }

    fn end_of(tags: &[(u8, u32)]) -> u32 {
        let mut f = file_with(tags);
        let len = f.file(0).len() as u64;
        tail_end(&mut f, len).unwrap_or(u32::MAX)
    }

    #[test]
    fn end_is_past_the_last_frame_of_each_medium() {
        assert_eq!(end_of(&[]), 0);
        assert_eq!(end_of(&[(TAG_SCRIPT, 0)]), 1);
        assert_eq!(end_of(&[(TAG_VIDEO, 500)]), 501);
        let interleaved = [(9, 0), (8, 10), (9, 40), (8, 33), (8, 56), (9, 80)];
        assert_eq!(end_of(&interleaved), 120);
        // Only the last TAIL_TAGS tags are read: a long audio run hides old video.
        let mut long = vec![(9u8, 0u32), (9, 1000)];
        long.extend((0..40).map(|i| (8u8, 100 + i * 20)));
        assert_eq!(end_of(&long), 100 + 39 * 20 + 20);
    }

    #[test]
    fn damaged_tails() {
        let mut f = file_with(&[(9, 0), (9, 40)]);
        let len = f.file(0).len();
        // A trailer that does not match its tag ends the walk at once.
        if let Some(b) = f.files.get_mut(&0) {
            b[len - 1] ^= 1;
        }
        assert_eq!(tail_end(&mut f, len as u64).ok(), Some(0));
        let mut f = file_with(&[(9, 0), (9, 40)]);
        if let Some(b) = f.files.get_mut(&0) {
            b.truncate(len - 3);
        }
        assert_eq!(tail_end(&mut f, len as u64 - 3).ok(), Some(0));
    }
}
