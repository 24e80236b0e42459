//! Many workers' snapshots made into one view of the whole server.
//!
//! Servers are matched by their configuration index, applications by name, streams by
//! name. Counters and bandwidths add up; a stream's clients are all its workers' clients;
//! a flag is set when any worker sets it. The result is ordered the same whatever the
//! order of the parts: servers by index, applications in first-seen order, streams by
//! name, clients by id.

use super::snapshot::{AppSnap, MetaSnap, ServerSnap, StreamSnap, WorkerSnapshot};
use std::collections::BTreeMap;

/// The merged view that `/stat` renders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The pid of every part, in the order given.
    pub workers: Vec<u32>,
    pub naccepted: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Bits/s.
    pub bw_in: u64,
    /// Bits/s.
    pub bw_out: u64,
    pub servers: Vec<ServerSnap>,
}

impl Snapshot {
    /// Clients of every stream of every application of every server.
    pub fn nclients(&self) -> u64 {
        self.servers
            .iter()
            .flat_map(|s| &s.apps)
            .map(app_nclients)
            .fold(0, u64::saturating_add)
    }
}

/// Clients of every stream of one application (the C module's application-level
/// `nclients`).
pub fn app_nclients(a: &AppSnap) -> u64 {
    a.streams
        .iter()
        .map(|s| s.clients.len() as u64)
        .fold(0, u64::saturating_add)
}

/// One stream being merged: the sum so far and where its meta came from.
struct StreamAcc {
    s: StreamSnap,
    /// The meta was taken from a publishing part (it is not replaced any more).
    meta_from_publisher: bool,
}

struct AppAcc {
    name: String,
    live: bool,
    streams: BTreeMap<String, StreamAcc>,
}

/// Merges the parts into one [`Snapshot`].
pub fn merge(parts: &[WorkerSnapshot]) -> Snapshot {
    let mut out = Snapshot::default();
    let mut servers: BTreeMap<u32, Vec<AppAcc>> = BTreeMap::new();

    for p in parts {
        out.workers.push(p.pid);
        out.naccepted = out.naccepted.saturating_add(p.naccepted);
        out.bytes_in = out.bytes_in.saturating_add(p.bytes_in);
        out.bytes_out = out.bytes_out.saturating_add(p.bytes_out);
        out.bw_in = out.bw_in.saturating_add(p.bw_in);
        out.bw_out = out.bw_out.saturating_add(p.bw_out);

        for srv in &p.servers {
            let apps = servers.entry(srv.index).or_default();
            for app in &srv.apps {
                let acc = match apps.iter().position(|a| a.name == app.name) {
                    Some(i) => &mut apps[i],
                    None => {
                        apps.push(AppAcc {
                            name: app.name.clone(),
                            live: false,
                            streams: BTreeMap::new(),
                        });
                        let last = apps.len() - 1;
                        &mut apps[last]
                    }
                };
                acc.live |= app.live;
                for st in &app.streams {
                    match acc.streams.get_mut(&st.name) {
                        Some(m) => add_stream(m, st),
                        None => {
                            acc.streams.insert(
                                st.name.clone(),
                                StreamAcc {
                                    s: st.clone(),
                                    meta_from_publisher: st.publishing && !meta_empty(&st.meta),
                                },
                            );
                        }
                    }
                }
            }
        }
    }

    out.servers = servers
        .into_iter()
        .map(|(index, apps)| ServerSnap {
            index,
            apps: apps
                .into_iter()
                .map(|a| AppSnap {
                    name: a.name,
                    live: a.live,
                    streams: a
                        .streams
                        .into_values()
                        .map(|mut m| {
                            // Stable: one worker's clients with the same id keep their order.
                            m.s.clients.sort_by_key(|c| c.id);
                            m.s
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    out
}

fn meta_empty(m: &MetaSnap) -> bool {
    m.video.is_none() && m.audio.is_none()
}

fn add_stream(m: &mut StreamAcc, st: &StreamSnap) {
    let s = &mut m.s;
    s.time_ms = s.time_ms.max(st.time_ms);
    s.bytes_in = s.bytes_in.saturating_add(st.bytes_in);
    s.bytes_out = s.bytes_out.saturating_add(st.bytes_out);
    s.bw_in = s.bw_in.saturating_add(st.bw_in);
    s.bw_out = s.bw_out.saturating_add(st.bw_out);
    s.bw_audio = s.bw_audio.saturating_add(st.bw_audio);
    s.bw_video = s.bw_video.saturating_add(st.bw_video);
    s.clients.extend(st.clients.iter().cloned());
    s.publishing |= st.publishing;
    s.active |= st.active;
    if !m.meta_from_publisher && !meta_empty(&st.meta) {
        if st.publishing {
            s.meta = st.meta.clone();
            m.meta_from_publisher = true;
        } else if meta_empty(&s.meta) {
            s.meta = st.meta.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stat::snapshot::{AudioMeta, ClientSnap, VideoMeta};
    use crate::stat::wire::tests::sample;

    fn client(id: u64, publishing: bool) -> ClientSnap {
        ClientSnap {
            id,
            address: format!("10.0.0.{id}"),
            publishing,
            active: true,
            ..ClientSnap::default()
        }
    }

    fn stream(name: &str, bytes_in: u64, clients: Vec<ClientSnap>) -> StreamSnap {
        StreamSnap {
            name: name.into(),
            time_ms: bytes_in,
            bytes_in,
            bytes_out: 2 * bytes_in,
            bw_in: 10,
            bw_out: 20,
            bw_audio: 1,
            bw_video: 9,
            publishing: clients.iter().any(|c| c.publishing),
            active: clients.iter().any(|c| c.publishing),
            clients,
            meta: MetaSnap::default(),
        }
    }

    fn worker(pid: u32, servers: Vec<ServerSnap>) -> WorkerSnapshot {
        WorkerSnapshot {
            pid,
            naccepted: 1,
            bytes_in: 100,
            bytes_out: 200,
            bw_in: 8,
            bw_out: 16,
            servers,
            ..WorkerSnapshot::default()
        }
    }

    fn app(name: &str, live: bool, streams: Vec<StreamSnap>) -> AppSnap {
        AppSnap {
            name: name.into(),
            live,
            streams,
        }
    }

    fn video(w: u32) -> MetaSnap {
        MetaSnap {
            video: Some(VideoMeta {
                width: w,
                codec: "H264".into(),
                ..VideoMeta::default()
            }),
            audio: None,
        }
    }

    #[test]
    fn empty() {
        assert_eq!(merge(&[]), Snapshot::default());
    }

    #[test]
    fn single_part_is_unchanged() {
        let w = sample(5);
        let m = merge(std::slice::from_ref(&w));
        assert_eq!(m.workers, vec![5]);
        assert_eq!(m.servers, w.servers);
        assert_eq!(m.bytes_out, w.bytes_out);
        assert_eq!(m.nclients(), 2);
    }

    #[test]
    fn totals_and_streams_add_up() {
        let a = worker(
            10,
            vec![ServerSnap {
                index: 0,
                apps: vec![app(
                    "live",
                    true,
                    vec![
                        stream("b", 5, vec![client(9, false)]),
                        stream("a", 1, vec![client(4, true), client(8, false)]),
                    ],
                )],
            }],
        );
        let b = worker(
            11,
            vec![ServerSnap {
                index: 0,
                apps: vec![
                    app("other", false, vec![]),
                    app(
                        "live",
                        false,
                        vec![stream("a", 7, vec![client(2, false), client(6, false)])],
                    ),
                ],
            }],
        );
        let m = merge(&[a, b]);
        assert_eq!(m.workers, vec![10, 11]);
        assert_eq!(
            (m.naccepted, m.bytes_in, m.bytes_out, m.bw_in, m.bw_out),
            (2, 200, 400, 16, 32)
        );
        assert_eq!(m.servers.len(), 1);
        let apps = &m.servers[0].apps;
        let names: Vec<_> = apps.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["live", "other"]);
        assert!(apps[0].live && !apps[1].live);
        let st = &apps[0].streams;
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].name, "a");
        assert_eq!(st[1].name, "b");
        let a = &st[0];
        assert_eq!(a.time_ms, 7);
        assert_eq!((a.bytes_in, a.bytes_out), (8, 16));
        assert_eq!((a.bw_in, a.bw_out, a.bw_audio, a.bw_video), (20, 40, 2, 18));
        let ids: Vec<_> = a.clients.iter().map(|c| c.id).collect();
        assert_eq!(ids, [2, 4, 6, 8]);
        assert!(a.publishing && a.active);
        assert_eq!(app_nclients(&apps[0]), 5);
        assert_eq!(m.nclients(), 5);
    }

    #[test]
    fn order_of_parts_does_not_change_streams() {
        let mk = |pid, srv: u32, s: &str| {
            worker(
                pid,
                vec![ServerSnap {
                    index: srv,
                    apps: vec![app(
                        "live",
                        true,
                        vec![stream(s, 1, vec![client(pid.into(), false)])],
                    )],
                }],
            )
        };
        let parts = [mk(1, 1, "z"), mk(2, 0, "y"), mk(3, 1, "x"), mk(4, 1, "z")];
        let m1 = merge(&parts);
        let mut rev = parts.clone();
        rev.reverse();
        let m2 = merge(&rev);
        assert_eq!(m1.servers, m2.servers);
        let idx: Vec<_> = m1.servers.iter().map(|s| s.index).collect();
        assert_eq!(idx, [0, 1]);
        let names: Vec<_> = m1.servers[1].apps[0]
            .streams
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, ["x", "z"]);
        assert_eq!(m1.servers[1].apps[0].streams[1].clients.len(), 2);
    }

    #[test]
    fn meta_comes_from_the_publisher() {
        let mut player = stream("s", 1, vec![client(1, false)]);
        player.meta = video(640);
        let mut publisher = stream("s", 1, vec![client(2, true)]);
        publisher.meta = video(1920);
        let mut late_player = stream("s", 1, vec![client(3, false)]);
        late_player.meta = video(320);
        let wrap = |pid, s: StreamSnap| {
            worker(
                pid,
                vec![ServerSnap {
                    index: 0,
                    apps: vec![app("live", true, vec![s])],
                }],
            )
        };
        let width = |m: &Snapshot| {
            m.servers[0].apps[0].streams[0]
                .meta
                .video
                .as_ref()
                .map(|v| v.width)
        };
        let m = merge(&[
            wrap(1, player.clone()),
            wrap(2, publisher.clone()),
            wrap(3, late_player.clone()),
        ]);
        assert_eq!(width(&m), Some(1920));
        let m = merge(&[wrap(2, publisher), wrap(1, player.clone())]);
        assert_eq!(width(&m), Some(1920));
        // No publisher: the first part that has meta.
        let empty = stream("s", 1, vec![]);
        let m = merge(&[wrap(1, empty), wrap(2, player), wrap(3, late_player)]);
        assert_eq!(width(&m), Some(640));
    }

    #[test]
    fn meta_audio_only_counts_as_meta() {
        let mut s = stream("s", 1, vec![client(1, true)]);
        s.meta.audio = Some(AudioMeta {
            codec: "AAC".into(),
            ..AudioMeta::default()
        });
        let p = worker(
            1,
            vec![ServerSnap {
                index: 0,
                apps: vec![app("live", true, vec![s.clone()])],
            }],
        );
        let m = merge(&[p]);
        assert_eq!(m.servers[0].apps[0].streams[0].meta, s.meta);
    }

    #[test]
    fn counters_saturate() {
        let mut a = worker(1, vec![]);
        a.bytes_in = u64::MAX - 1;
        let m = merge(&[a.clone(), a]);
        assert_eq!(m.bytes_in, u64::MAX);
    }
}
