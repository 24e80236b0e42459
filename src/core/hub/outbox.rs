//! A player's queue of chunked messages, bounded in bytes.
//!
//! Media past the soft limit makes the player skip to the next keyframe; a player that keeps
//! overflowing is marked for closing. Control messages (status, sequence headers, answers to
//! commands) are never dropped, so a skipping player still decodes what it gets; a peer that
//! lets them pile up past the hard limit (it sends requests and never reads the answers) is
//! marked for closing too.
use super::status::MSID;
use crate::protocol::chunk_writer::with_stream_id;
use bytes::Bytes;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

pub type SharedOutbox = Rc<RefCell<Outbox>>;

#[derive(Debug, Clone, Copy)]
pub struct OutboxLimits {
    /// Queued bytes past which media is dropped up to the next keyframe.
    pub soft_bytes: usize,
    /// Overflows in a row (without the queue ever draining) after which the player is closed.
    pub max_overflows: u32,
    /// Queued bytes, control included, past which the peer is closed. Media passes the soft
    /// limit by one message at most, so a peer that reads never gets here.
    pub hard_bytes: usize,
}

impl Default for OutboxLimits {
    fn default() -> Self {
        OutboxLimits {
            soft_bytes: 8 << 20,
            max_overflows: 4,
            // The soft limit, the largest RTMP message (2^24 - 1 bytes) and 8 MB of control.
            hard_bytes: 32 << 20,
        }
    }
}

#[derive(Debug)]
struct Item {
    bytes: Bytes,
    droppable: bool,
}

#[derive(Debug)]
pub struct Outbox {
    queue: VecDeque<Item>,
    /// Bytes of the head item already written to the socket.
    head_written: usize,
    queued: usize,
    limits: OutboxLimits,
    skipping: bool,
    overflows: u32,
    /// The message stream id the peer gave us, when it is not the shared `MSID`: every
    /// queued message on `MSID` is copied with this id instead (push relays only).
    stream_id: Option<u32>,
    /// The shell's handle for this connection, passed back in wake-ups.
    pub token: usize,
    /// Set when the shell has been asked to write and has not written since.
    pub wake_pending: bool,
    pub dropped_frames: u64,
    pub bytes_out: u64,
    /// Why the player must be closed, once a hard limit is crossed.
    pub fatal: Option<&'static str>,
}

impl Outbox {
    pub fn new(token: usize, limits: OutboxLimits) -> Self {
        Outbox {
            queue: VecDeque::new(),
            head_written: 0,
            queued: 0,
            limits,
            skipping: false,
            overflows: 0,
            stream_id: None,
            token,
            wake_pending: false,
            dropped_frames: 0,
            bytes_out: 0,
            fatal: None,
        }
    }

    pub fn shared(token: usize, limits: OutboxLimits) -> SharedOutbox {
        Rc::new(RefCell::new(Outbox::new(token, limits)))
    }

    /// Queues bytes that must reach the player (commands, status, sequence headers).
    pub fn push_control(&mut self, bytes: Bytes) {
        self.push(bytes, false);
    }

    /// Moves what is queued from now on to message stream `id`. Shared messages carry
    /// `MSID`; a push relay's server may have answered `createStream` with another id, and
    /// then each message costs the relay a copy (rare: nginx-rtmp, ffmpeg and we answer 1).
    pub fn set_stream_id(&mut self, id: u32) {
        self.stream_id = (id != MSID).then_some(id);
    }

    /// Starts dropping media until the next keyframe (a player joining mid-GOP).
    pub fn skip_to_keyframe(&mut self) {
        self.skipping = true;
    }

    pub fn is_skipping(&self) -> bool {
        self.skipping
    }

    /// Queues a media message; `boundary` marks a frame a decoder can start from.
    /// Returns whether it was queued.
    pub fn push_media(&mut self, bytes: &Bytes, boundary: bool) -> bool {
        if self.fatal.is_some() {
            return false;
        }
        if self.skipping {
            if !boundary {
                self.dropped_frames += 1;
                return false;
            }
            self.skipping = false;
        }
        if self.queued + bytes.len() > self.limits.soft_bytes {
            self.overflow();
            if !boundary {
                self.skipping = true;
                self.dropped_frames += 1;
                return false;
            }
        }
        self.push(bytes.clone(), true);
        true
    }

    fn push(&mut self, bytes: Bytes, droppable: bool) {
        if bytes.is_empty() || self.fatal.is_some() {
            return;
        }
        if self.queued + bytes.len() > self.limits.hard_bytes {
            self.fatal = Some("peer does not read: its output queue passed the hard limit");
            return;
        }
        let bytes = match self.stream_id {
            Some(id) => with_stream_id(&bytes, MSID, id),
            None => bytes,
        };
        self.queued += bytes.len();
        self.queue.push_back(Item { bytes, droppable });
    }

    /// Drops every queued media message the socket has not started on.
    fn overflow(&mut self) {
        self.overflows += 1;
        if self.overflows > self.limits.max_overflows {
            self.fatal = Some("player too slow: output queue overflowed repeatedly");
        }
        let head_started = self.head_written > 0;
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for (i, item) in self.queue.drain(..).enumerate() {
            if item.droppable && !(i == 0 && head_started) {
                self.queued -= item.bytes.len();
                self.dropped_frames += 1;
            } else {
                kept.push_back(item);
            }
        }
        self.queue = kept;
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn queued_bytes(&self) -> usize {
        self.queued - self.head_written
    }

    /// The unwritten bytes, in order, up to `max` slices (for writev).
    pub fn slices(&self, max: usize) -> impl Iterator<Item = &[u8]> {
        self.queue
            .iter()
            .take(max)
            .enumerate()
            .map(move |(i, item)| {
                if i == 0 {
                    &item.bytes[self.head_written.min(item.bytes.len())..]
                } else {
                    &item.bytes[..]
                }
            })
    }

    /// Records that the socket took `n` bytes.
    pub fn consume(&mut self, mut n: usize) {
        self.bytes_out += n as u64;
        while n > 0 {
            let Some(head) = self.queue.front() else {
                break;
            };
            let left = head.bytes.len() - self.head_written;
            if n < left {
                self.head_written += n;
                return;
            }
            n -= left;
            self.queued -= head.bytes.len();
            self.head_written = 0;
            self.queue.pop_front();
        }
        if self.queue.is_empty() {
            self.overflows = 0;
            // A late joiner's queue grew to hold the whole GOP once; a player that keeps up
            // needs a few slots. Give the rest back (it is per player).
            if self.queue.capacity() > SHRINK_ABOVE {
                self.queue.shrink_to(SHRINK_TO);
            }
        }
    }
}

/// Queue capacities (items) above which a drained queue is shrunk, and to what.
const SHRINK_ABOVE: usize = 64;
const SHRINK_TO: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    fn b(n: usize) -> Bytes {
        Bytes::from(vec![7u8; n])
    }

    #[test]
    fn writes_in_order_across_partial_writes() {
        let mut o = Outbox::new(1, OutboxLimits::default());
        o.push_control(Bytes::from_static(b"abc"));
        o.push_media(&Bytes::from_static(b"defg"), true);
        assert_eq!(
            o.slices(8).collect::<Vec<_>>(),
            vec![&b"abc"[..], &b"defg"[..]]
        );
        o.consume(2);
        assert_eq!(o.slices(8).next(), Some(&b"c"[..]));
        o.consume(3);
        assert_eq!(o.slices(8).collect::<Vec<_>>(), vec![&b"fg"[..]]);
        assert_eq!(o.queued_bytes(), 2);
        o.consume(2);
        assert!(o.is_empty());
        assert_eq!(o.bytes_out, 7);
    }

    #[test]
    fn overflow_skips_to_next_keyframe_and_keeps_control() {
        let limits = OutboxLimits {
            soft_bytes: 100,
            max_overflows: 10,
            hard_bytes: usize::MAX,
        };
        let mut o = Outbox::new(1, limits);
        assert!(o.push_media(&b(40), true));
        o.push_control(b(10));
        assert!(o.push_media(&b(40), false));
        // 90 queued: the next inter frame overflows; queued media goes, control stays.
        assert!(!o.push_media(&b(40), false));
        assert_eq!(o.queued_bytes(), 10);
        assert!(o.is_skipping());
        assert!(!o.push_media(&b(5), false));
        assert!(o.push_media(&b(40), true));
        assert!(!o.is_skipping());
        assert_eq!(o.dropped_frames, 4);
    }

    #[test]
    fn control_past_the_hard_limit_marks_the_peer_fatal() {
        let limits = OutboxLimits {
            soft_bytes: 100,
            max_overflows: 10,
            hard_bytes: 250,
        };
        let mut o = Outbox::new(1, limits);
        for _ in 0..6 {
            o.push_control(b(40));
        }
        assert_eq!(o.fatal, None);
        assert_eq!(o.queued_bytes(), 240);
        o.push_control(b(40));
        assert!(o.fatal.is_some());
        // Nothing more is queued for a peer that is going to be closed.
        assert_eq!(o.queued_bytes(), 240);
        assert!(!o.push_media(&b(5), true));
        assert_eq!(o.queued_bytes(), 240);
    }

    #[test]
    fn partially_written_head_is_never_dropped() {
        let limits = OutboxLimits {
            soft_bytes: 50,
            max_overflows: 10,
            hard_bytes: usize::MAX,
        };
        let mut o = Outbox::new(1, limits);
        o.push_media(&b(40), true);
        o.consume(10);
        assert!(!o.push_media(&b(40), false));
        assert_eq!(o.queued_bytes(), 30);
    }

    #[test]
    fn repeated_overflow_without_draining_is_fatal() {
        let limits = OutboxLimits {
            soft_bytes: 10,
            max_overflows: 2,
            hard_bytes: usize::MAX,
        };
        let mut o = Outbox::new(1, limits);
        for _ in 0..3 {
            o.push_media(&b(8), true);
            o.push_media(&b(8), true);
        }
        assert!(o.fatal.is_some());
    }

    #[test]
    fn another_stream_id_is_patched_into_a_copy() {
        use crate::protocol::chunk_writer::encode_message;
        let shared = encode_message(7, 40, 9, MSID, b"frame", 4096);
        let control = encode_message(2, 0, 3, 0, &[0, 0, 0, 9], 4096);
        let mut o = Outbox::new(1, OutboxLimits::default());
        o.push_media(&shared, true);
        o.set_stream_id(5);
        o.push_media(&shared, true);
        o.push_control(control.clone());
        o.set_stream_id(MSID);
        o.push_media(&shared, true);
        let out: Vec<Vec<u8>> = o.slices(8).map(<[u8]>::to_vec).collect();
        let mut patched = shared.to_vec();
        patched[8..12].copy_from_slice(&5u32.to_le_bytes());
        assert_eq!(
            out,
            vec![shared.to_vec(), patched, control.to_vec(), shared.to_vec()]
        );
    }

    #[test]
    fn draining_resets_the_overflow_count() {
        let limits = OutboxLimits {
            soft_bytes: 10,
            max_overflows: 1,
            hard_bytes: usize::MAX,
        };
        let mut o = Outbox::new(1, limits);
        o.push_media(&b(8), true);
        o.push_media(&b(8), true);
        o.consume(o.queued_bytes());
        o.push_media(&b(8), true);
        o.push_media(&b(8), true);
        assert!(o.fatal.is_none());
    }
}
