//! How much of everything a run does: the full run (≈ 30 min), `--quick` (< 3 min) and
//! `--smoke` (seconds: the test suite's check that the harness still works).

use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub struct Plan {
    pub name: &'static str,
    pub reps: usize,
    /// Players per rung of the fan-out ladder at ~3 Mbit/s and at ~600 kbit/s. A module leaves
    /// the ladder at its first rung where a player did not keep up.
    pub ladder_3m: Vec<usize>,
    pub ladder_600k: Vec<usize>,
    pub settle_s: f64,
    /// After the last player joined, before the window: the C module starts a player at the
    /// next keyframe, so this is more than a GOP (2 s) outside the smoke run.
    pub warmup_s: f64,
    pub window_s: f64,
    /// (publishers, players per publisher).
    pub many: Vec<(usize, usize)>,
    pub churn: usize,
    pub churn_concurrency: usize,
    pub startup_players: usize,
    pub startup_spread_ms: u64,
    pub storage_streams: usize,
    pub storage_players: usize,
    pub storage_window_s: f64,
    /// From the storage streams' start to the watching players' start.
    pub storage_lead_s: f64,
}

impl Plan {
    pub fn full() -> Plan {
        Plan {
            name: "full",
            reps: 3,
            ladder_3m: vec![10, 100, 400, 800, 1200, 1600, 2000],
            ladder_600k: vec![100, 400, 1000, 1600, 2200, 2800],
            settle_s: 2.2,
            warmup_s: 2.2,
            window_s: 6.0,
            many: vec![(50, 1), (200, 0)],
            churn: 5000,
            churn_concurrency: 16,
            startup_players: 20,
            startup_spread_ms: 4000,
            storage_streams: 20,
            storage_players: 10,
            storage_window_s: 8.0,
            storage_lead_s: 2.5,
        }
    }

    pub fn quick() -> Plan {
        Plan {
            name: "quick",
            reps: 1,
            ladder_3m: vec![50, 400],
            ladder_600k: vec![100, 800],
            settle_s: 2.2,
            window_s: 2.5,
            churn: 500,
            startup_players: 8,
            startup_spread_ms: 2000,
            storage_players: 5,
            storage_window_s: 3.0,
            ..Plan::full()
        }
    }

    pub fn smoke() -> Plan {
        Plan {
            name: "smoke",
            reps: 1,
            ladder_3m: vec![3],
            ladder_600k: vec![3],
            settle_s: 0.3,
            warmup_s: 0.5,
            window_s: 1.0,
            many: vec![(3, 1), (3, 0)],
            churn: 40,
            churn_concurrency: 4,
            startup_players: 2,
            startup_spread_ms: 200,
            storage_streams: 2,
            storage_players: 2,
            storage_window_s: 1.0,
            storage_lead_s: 0.8,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name, "reps": self.reps, "ladder_3m": self.ladder_3m, "ladder_600k": self.ladder_600k,
            "settle_s": self.settle_s, "warmup_s": self.warmup_s, "window_s": self.window_s,
            "many": self.many, "churn": self.churn, "churn_concurrency": self.churn_concurrency,
            "startup_players": self.startup_players, "startup_spread_ms": self.startup_spread_ms,
            "storage_streams": self.storage_streams, "storage_players": self.storage_players,
            "storage_window_s": self.storage_window_s, "storage_lead_s": self.storage_lead_s,
        })
    }
}
