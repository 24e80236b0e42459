//! Streams shared between workers. Every worker listens on unix sockets of its own; a worker
//! relays the streams its clients publish to its peers, which serve them to their players
//! as if published there. Peers find each other through flags in the stat zone, which
//! outlives a reload, so an old worker that still holds a publisher relays it to the new
//! workers: the stream stays watchable.

use std::collections::BTreeSet;

/// The worker accepts relays on its unix sockets (it is not shutting down).
pub const RELAY_IN: u32 = 1;
/// The worker accepts RTMP clients (every worker with `rtmp_auto_push on`, else worker 0).
pub const SERVES_CLIENTS: u32 = 2;

/// The unix socket where the worker `pid` takes relays for server number `server`. The pid
/// keeps two generations of workers (before and after a reload) apart.
pub fn socket_path(dir: &str, pid: u32, server: usize) -> String {
    format!("{}/ngx-rtmp.{pid}.{server}", dir.trim_end_matches('/'))
}

/// Where worker `me`'s published streams go, given the peers in the stat zone.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// Peers a new relay may go to: they take relays and serve clients.
    pub open: BTreeSet<u32>,
    /// Peers still alive: a relay to one of them goes on even if it stopped taking new
    /// ones (it is shutting down and its players still watch through ours).
    pub alive: BTreeSet<u32>,
}

/// `relay_all`: the worker relays at all (`rtmp_auto_push on`, or it is shutting down and
/// hands its streams on).
pub fn plan(me: u32, relay_all: bool, peers: &[(u32, u32)]) -> Plan {
    let both = RELAY_IN | SERVES_CLIENTS;
    let others = || peers.iter().filter(|&&(pid, _)| pid != me);
    Plan {
        open: others()
            .filter(|&&(_, flags)| relay_all && flags & both == both)
            .map(|&(pid, _)| pid)
            .collect(),
        alive: others().map(|&(pid, _)| pid).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: u32 = RELAY_IN | SERVES_CLIENTS;

    fn set(v: &[u32]) -> BTreeSet<u32> {
        v.iter().copied().collect()
    }

    #[test]
    fn relays_to_every_open_peer_but_itself() {
        let peers = [(1, OPEN), (2, OPEN), (3, OPEN)];
        assert_eq!(plan(1, true, &peers).open, set(&[2, 3]));
        assert_eq!(plan(1, true, &peers).alive, set(&[2, 3]));
    }

    #[test]
    fn relays_nothing_unless_asked() {
        let peers = [(1, OPEN), (2, OPEN)];
        assert_eq!(plan(1, false, &peers).open, set(&[]));
    }

    #[test]
    fn new_relays_skip_peers_that_serve_no_clients_or_take_no_relays() {
        // 2: worker 1..n without auto_push; 3: shutting down; 4: both.
        let peers = [(2, RELAY_IN), (3, SERVES_CLIENTS), (4, 0), (5, OPEN)];
        let p = plan(1, true, &peers);
        assert_eq!(p.open, set(&[5]));
        assert_eq!(p.alive, set(&[2, 3, 4, 5]));
    }

    #[test]
    fn a_peer_that_is_gone_is_not_alive() {
        assert_eq!(plan(1, true, &[(3, OPEN)]).alive, set(&[3]));
    }

    #[test]
    fn socket_paths_differ_per_worker_and_server() {
        assert_eq!(socket_path("/tmp/", 42, 0), "/tmp/ngx-rtmp.42.0");
        assert_ne!(socket_path("/tmp", 42, 1), socket_path("/tmp", 43, 1));
    }
}
