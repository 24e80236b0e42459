//! From the runs to the figures: each figure's min/median/max over repetitions for the C
//! module and ours, ours ÷ C, and a one-line verdict against the target.

mod figure;
mod render;

pub use figure::fmt;
use figure::{median, Figure, Target};

use super::plan::Plan;
use crate::stats::{num, r3, spread};
use serde_json::{json, Value};

pub struct Record {
    pub rep: usize,
    /// fanout_3m, fanout_600k, streams_50x1, churn, startup, storage, floor_3m, ...
    pub scenario: String,
    /// "c", "ours" or "floor".
    pub module: String,
    pub n: Option<usize>,
    pub doc: Value,
}

/// Every player kept up, and the server logged no alert.
pub fn passed(doc: &Value) -> bool {
    let quiet = doc
        .get("alerts")
        .and_then(Value::as_array)
        .is_some_and(|a| a.is_empty());
    doc.get("pass").and_then(Value::as_bool).unwrap_or(false) && quiet
}

struct Runs<'a> {
    recs: &'a [Record],
    reps: usize,
}

impl<'a> Runs<'a> {
    fn docs(&self, scenario: &str, module: &str, n: Option<usize>) -> Vec<&'a Value> {
        let hit = |r: &&Record| r.scenario == scenario && r.module == module && r.n == n;
        self.recs.iter().filter(hit).map(|r| &r.doc).collect()
    }

    fn any(&self, scenario: &str) -> bool {
        self.recs.iter().any(|r| r.scenario == scenario)
    }

    fn by(
        &self,
        scenario: &str,
        module: &str,
        n: Option<usize>,
        f: impl Fn(&Value) -> Option<f64>,
    ) -> Value {
        spread(
            &self
                .docs(scenario, module, n)
                .iter()
                .map(|d| f(d))
                .collect::<Vec<_>>(),
        )
    }

    fn at(&self, scenario: &str, module: &str, n: Option<usize>, path: &str) -> Value {
        self.by(scenario, module, n, |d| num(d, path))
    }

    /// Did `module` keep up at rung `n` in every repetition?
    fn kept_up_always(&self, scenario: &str, module: &str, n: usize) -> bool {
        let d = self.docs(scenario, module, Some(n));
        d.len() == self.reps && d.iter().all(|d| passed(d))
    }

    /// Per repetition, the largest rung kept up (0 if none); and whether one was the top.
    fn largest(&self, scenario: &str, module: &str, top: usize) -> (Value, bool) {
        let mut vals = Vec::new();
        let mut topped = false;
        for rep in 1..=self.reps {
            let best = self
                .recs
                .iter()
                .filter(|r| {
                    r.rep == rep && r.scenario == scenario && r.module == module && passed(&r.doc)
                })
                .filter_map(|r| r.n)
                .max()
                .unwrap_or(0);
            topped |= best == top;
            vals.push(Some(best as f64));
        }
        (spread(&vals), topped)
    }
}

struct Ladder<'a> {
    key: &'a str,
    rungs: &'a [usize],
    what: &'a str,
}

/// The ladder's figures, its section header and its rung-by-rung summary.
fn ladder(runs: &Runs, l: &Ladder, modules: &[&str]) -> (Vec<Figure>, String, Value) {
    let sc = format!("fanout_{}", l.key);
    let mut figs = Vec::new();
    let top = l.rungs.last().copied().unwrap_or(0);
    let (c_l, c_top) = runs.largest(&sc, "c", top);
    let (o_l, o_top) = runs.largest(&sc, "ours", top);
    let mut f = Figure::new(
        &sc,
        &format!("{sc}.largest_n"),
        "largest N kept up",
        "players",
        c_l,
        o_l,
        Target::RatioAtLeast(1.5),
    );
    let tops: Vec<&str> = [("C", c_top), ("ours", o_top)]
        .iter()
        .filter(|x| x.1)
        .map(|x| x.0)
        .collect();
    if !tops.is_empty() {
        f.note = format!(
            "{} reached the ladder's top ({top}): a lower bound",
            tops.join(" and ")
        );
    }
    figs.push(f);

    let common: Vec<usize> = l
        .rungs
        .iter()
        .copied()
        .filter(|&n| modules.iter().all(|m| runs.kept_up_always(&sc, m, n)))
        .collect();
    let n = common
        .last()
        .copied()
        .or(l.rungs.first().copied())
        .unwrap_or(0);
    let header = format!(
        "fan-out: 1 publisher {}, N players; per-N figures at N={n}, {}",
        l.what,
        if common.contains(&n) {
            "the largest N kept up by every side in every repetition"
        } else {
            "where not every side kept up"
        }
    );
    for (path, id, title, unit, target) in [
        (
            "server.cpu_s_per_gb",
            "cpu_s_per_gb",
            "server CPU s per delivered GB",
            "s/GB",
            Target::RatioAtMost(0.5),
        ),
        (
            "server.rss_kb_per_player",
            "rss_kb_per_player",
            "worker RSS per player",
            "KB",
            Target::RatioAtMost(0.5),
        ),
        (
            "latency_ms.p50",
            "latency_p50_ms",
            "relay latency p50",
            "ms",
            Target::Lower,
        ),
        (
            "latency_ms.p99",
            "latency_p99_ms",
            "relay latency p99",
            "ms",
            Target::Lower,
        ),
    ] {
        let (c, ours) = (
            runs.at(&sc, "c", Some(n), path),
            runs.at(&sc, "ours", Some(n), path),
        );
        figs.push(Figure::new(
            &sc,
            &format!("{sc}.{id}"),
            title,
            unit,
            c,
            ours,
            target,
        ));
    }
    if modules.contains(&"c") {
        figs.push(p99_everywhere(runs, &sc, &common));
    }
    figs.push(floor(runs, l.key, &sc, n));

    let mut summary = Vec::new();
    for &n in l.rungs {
        let mut row = json!({"n": n});
        for m in modules {
            let d = runs.docs(&sc, m, Some(n));
            if d.is_empty() {
                continue;
            }
            let s = |p: &str| runs.at(&sc, m, Some(n), p);
            row[*m] = json!({
                "runs": d.len(), "kept_up_runs": d.iter().filter(|d| passed(d)).count(),
                "cpu_s_per_gb": s("server.cpu_s_per_gb"), "cpu_pct": s("server.cpu_pct"),
                "rss_kb_per_player": s("server.rss_kb_per_player"),
                "latency_p50_ms": s("latency_ms.p50"), "latency_p99_ms": s("latency_ms.p99"),
                "worst_on_time_pct": s("worst_on_time_pct"), "client_cpu_pct": s("client.cpu_pct"),
                "machine_busy_pct": s("machine.busy_pct"),
            });
        }
        summary.push(row);
    }
    (figs, header, Value::Array(summary))
}

/// Relay latency p99 ≤ the C module's at every N both keep up: the worst ours ÷ C.
fn p99_everywhere(runs: &Runs, sc: &str, common: &[usize]) -> Figure {
    let mut worse = Vec::new();
    let mut worst: Option<f64> = None;
    for &n in common {
        let c = median(&runs.at(sc, "c", Some(n), "latency_ms.p99"));
        let o = median(&runs.at(sc, "ours", Some(n), "latency_ms.p99"));
        if let (Some(c), Some(o)) = (c, o) {
            worst = Some(worst.map_or(o / c.max(1e-6), |w: f64| w.max(o / c.max(1e-6))));
            if o > c {
                worse.push(format!("N={n} ({} > {} ms)", fmt(o), fmt(c)));
            }
        }
    }
    let one = |w: f64| json!({"min": r3(w), "median": r3(w), "max": r3(w), "n": 1});
    let mut f = Figure::new(
        sc,
        &format!("{sc}.p99_every_n"),
        "p99 ÷ C's, worst N both kept up",
        "×",
        Value::Null,
        worst.map_or(Value::Null, one),
        Target::Lower,
    );
    f.verdict = Some(match (common.is_empty(), worse.is_empty()) {
        (true, _) => (None, "no N kept up by both".into()),
        (false, true) => (
            Some(true),
            format!("met: ≤ C's at every N both kept up ({common:?})"),
        ),
        (false, false) => (Some(false), format!("MISSED at {}", worse.join(", "))),
    });
    f
}

/// Server CPU per GB as multiples of the trivial writer's.
fn floor(runs: &Runs, key: &str, sc: &str, n: usize) -> Figure {
    let fl = format!("floor_{key}");
    // The floor ran at each repetition's largest N both kept up; its cost per byte hardly
    // depends on N, so every repetition's figure counts.
    let floor_of = |sc: &str| {
        let docs: Vec<&Record> = runs.recs.iter().filter(|r| r.scenario == sc).collect();
        let v = spread(
            &docs
                .iter()
                .map(|r| num(&r.doc, "cpu_s_per_gb"))
                .collect::<Vec<_>>(),
        );
        let ns: Vec<String> = docs
            .iter()
            .filter_map(|r| r.n)
            .map(|n| n.to_string())
            .collect();
        (v, ns.join(","))
    };
    let (floor, ns) = floor_of(&fl);
    let (coalesced, _) = floor_of(&format!("{fl}_coalesced"));
    let per_floor = median(&floor).filter(|f| *f > 0.0);
    let times = |m: &str| match per_floor {
        Some(f) => runs.by(sc, m, Some(n), |d| Some(num(d, "server.cpu_s_per_gb")? / f)),
        None => Value::Null,
    };
    let (c, ours) = (times("c"), times("ours"));
    let mut f = Figure::new(
        sc,
        &format!("{fl}.cpu_multiple"),
        "CPU per GB ÷ the floor's",
        "×",
        c,
        ours,
        Target::Lower,
    );
    f.verdict = Some((
        None,
        format!(
            "floor {} s/GB (trivial writev fan-out of the same bytes, N={ns}); {} s/GB with writes coalesced to one per {} ms",
            figure::cell(&floor),
            figure::cell(&coalesced),
            super::FLOOR_BATCH_MS
        ),
    ));
    f.coalesced = coalesced;
    f.floor = floor;
    f
}

fn churn_growth(d: &Value) -> Option<f64> {
    num(d, "server.anon_kb_growth")
}

fn fd_growth(d: &Value) -> Option<f64> {
    Some(num(d, "server.fds_after")? - num(d, "server.fds_before")?)
}

/// Anonymous memory gained from the first fifth of the cycles to the last beyond this is
/// growth (a leak of 64 bytes a cycle over 4,000 cycles shows). Not VmRSS: that also counts
/// the module's code pages read in as new paths run, and the GOP cache of the stream being
/// played (≤ ~150 KB at 600 kbit/s) rising and falling with the moment it is read.
const CHURN_GROWTH_KB: f64 = 256.0;

fn churn(runs: &Runs, plan: &Plan) -> Vec<Figure> {
    let sc = "churn";
    let sp = |m: &str, path: &str| runs.at(sc, m, None, path);
    let mut figs = vec![Figure::new(
        sc,
        "churn.cycles_per_s",
        "cycles per second",
        "1/s",
        sp("c", "cycles_per_s"),
        sp("ours", "cycles_per_s"),
        Target::RatioAtLeast(1.0),
    )];
    for (id, title, unit) in [
        ("fds_before", "worker open fds, before".to_string(), "fds"),
        (
            "fds_after",
            format!("worker open fds, 1 s after {}", plan.churn),
            "fds",
        ),
        ("rss_kb_before", "worker RSS, before".to_string(), "KB"),
        (
            "rss_kb_warm",
            format!("worker RSS, after {}", plan.churn / 5),
            "KB",
        ),
        (
            "rss_kb_last",
            format!("worker RSS, after {}", plan.churn),
            "KB",
        ),
        (
            "rss_kb_after",
            format!("worker RSS, 1 s after {}", plan.churn),
            "KB",
        ),
    ] {
        let path = format!("server.{id}");
        figs.push(Figure::new(
            sc,
            &format!("churn.{id}"),
            &title,
            unit,
            sp("c", &path),
            sp("ours", &path),
            Target::Lower,
        ));
    }
    let (c, ours) = (
        runs.by(sc, "c", None, churn_growth),
        runs.by(sc, "ours", None, churn_growth),
    );
    let mut f = Figure::new(
        sc,
        "churn.anon_growth_kb",
        &format!("heap (RssAnon) growth, {} → {}", plan.churn / 5, plan.churn),
        "KB",
        c,
        ours,
        Target::Lower,
    );
    let docs = runs.docs(sc, "ours", None);
    let grew = docs.iter().any(|d| {
        churn_growth(d).is_none_or(|g| g > CHURN_GROWTH_KB) || fd_growth(d).is_none_or(|g| g > 0.0)
    });
    let survived = docs
        .iter()
        .all(|d| d.get("verify_keyframe_ms").is_some_and(Value::is_number));
    f.verdict = Some(if docs.is_empty() {
        (None, "not run".into())
    } else if grew || !survived {
        (Some(false), format!("MISSED: ours kept fds or grew > {CHURN_GROWTH_KB} KB of heap, or a new player got no keyframe after"))
    } else {
        (Some(true), format!("met: no fd growth, heap growth ≤ {CHURN_GROWTH_KB} KB, a new player still gets a keyframe"))
    });
    figs.push(f);
    figs
}

fn many_streams(runs: &Runs, plan: &Plan) -> Vec<Figure> {
    let mut figs = Vec::new();
    for &(s, p) in &plan.many {
        let sc = format!("streams_{s}x{p}");
        let sp = |m: &str, path: &str| runs.at(&sc, m, None, path);
        let fig = |id: &str, title: &str, unit, path: &str| {
            Figure::new(
                "streams",
                &format!("{sc}.{id}"),
                &format!("{s} × {p}: {title}"),
                unit,
                sp("c", path),
                sp("ours", path),
                Target::Lower,
            )
        };
        if runs.any(&sc) {
            figs.push(fig("cpu_pct", "worker CPU", "%", "server.cpu_pct"));
            figs.push(fig("rss_kb", "worker RSS", "KB", "server.rss_kb_end"));
            if p > 0 {
                figs.push(fig(
                    "latency_p99_ms",
                    "relay latency p99",
                    "ms",
                    "latency_ms.p99",
                ));
            } else {
                figs.push(fig(
                    "rss_kb_per_stream",
                    "worker RSS per stream",
                    "KB",
                    "server.rss_kb_per_stream",
                ));
            }
        }
    }
    figs
}

fn startup(runs: &Runs, plan: &Plan, modules: &[&str]) -> Vec<Figure> {
    let mut figs = Vec::new();
    if runs.any("startup") {
        let sp = |m: &str, path: &str| runs.at("startup", m, None, path);
        let fig = |id: &str, title: &str, path: &str, t| {
            Figure::new(
                "startup",
                id,
                title,
                "ms",
                sp("c", path),
                sp("ours", path),
                t,
            )
        };
        figs.push(fig(
            "startup.first_frame_p50_ms",
            "play → first decodable frame, median",
            "ttfk_ms.p50",
            Target::OursAtMost(100.0),
        ));
        figs.push(fig(
            "startup.first_frame_max_ms",
            "play → first decodable frame, slowest",
            "ttfk_ms.max",
            Target::OursAtMost(100.0),
        ));
        figs.push(fig(
            "startup.connect_to_frame_p50_ms",
            "TCP connect → first decodable frame, median",
            "ttfk_from_connect_ms.p50",
            Target::Lower,
        ));
        // A joiner that never got a keyframe has no time: say so rather than hide it.
        let short: Vec<String> = modules
            .iter()
            .flat_map(|m| {
                runs.docs("startup", m, None)
                    .into_iter()
                    .map(move |d| (m, d))
            })
            .filter_map(|(m, d)| {
                let got = num(d, "ttfk_ms.n")? as usize;
                (got < plan.startup_players).then(|| format!("{m}: {got}/{}", plan.startup_players))
            })
            .collect();
        if !short.is_empty() {
            if let Some(f) = figs
                .iter_mut()
                .rev()
                .find(|f| f.id == "startup.first_frame_max_ms")
            {
                f.note = format!("joiners that got a frame: {}", short.join(", "));
            }
        }
    }
    figs
}

fn storage(runs: &Runs) -> Vec<Figure> {
    let mut figs = Vec::new();
    if runs.any("storage") {
        let sp = |m: &str, path: &str| runs.at("storage", m, None, path);
        let fig = |id: &str, title: &str, unit, path: &str| {
            Figure::new(
                "storage",
                id,
                title,
                unit,
                sp("c", path),
                sp("ours", path),
                Target::Lower,
            )
        };
        figs.push(fig(
            "storage.max_stall_ms",
            "longest stall at that player (max relay latency)",
            "ms",
            "latency_ms.max",
        ));
        figs.push(fig(
            "storage.max_gap_ms",
            "longest gap between its frames",
            "ms",
            "max_gap_ms",
        ));
        figs.push(fig("storage.cpu_pct", "worker CPU", "%", "server.cpu_pct"));
    }
    figs
}

/// The figures, the JSON of each ladder's rungs, and the table.
pub fn build(plan: &Plan, recs: &[Record], modules: &[&str]) -> (Vec<Value>, Value, String) {
    let runs = Runs {
        recs,
        reps: plan.reps,
    };
    let mut figs = Vec::new();
    let mut sections = Vec::new();
    let mut ladders = json!({});
    for l in [
        Ladder {
            key: "3m",
            rungs: &plan.ladder_3m,
            what: "720p25 ~3 Mbit/s H.264+AAC",
        },
        Ladder {
            key: "600k",
            rungs: &plan.ladder_600k,
            what: "360p25 ~600 kbit/s H.264+AAC",
        },
    ] {
        if runs.any(&format!("fanout_{}", l.key)) {
            let (f, header, summary) = ladder(&runs, &l, modules);
            figs.extend(f);
            sections.push((format!("fanout_{}", l.key), header));
            ladders[format!("fanout_{}", l.key)] = summary;
        }
    }
    for (key, header, f) in [
        ("streams", "many streams: publishers of the 360p25 ~600 kbit/s source".to_string(), many_streams(&runs, plan)),
        (
            "churn",
            format!(
                "churn: {} × (connect, handshake, connect, createStream, play, Play.Start, close), {} at a time",
                plan.churn, plan.churn_concurrency
            ),
            if runs.any("churn") { churn(&runs, plan) } else { Vec::new() },
        ),
        (
            "startup",
            format!("start-up: {} late joiners spread over {} ms of a 2 s-GOP stream", plan.startup_players, plan.startup_spread_ms),
            startup(&runs, plan, modules),
        ),
        (
            "storage",
            format!(
                "storage: {} streams of 3 Mbit/s with HLS and recording on; {} players of another stream",
                plan.storage_streams, plan.storage_players
            ),
            storage(&runs),
        ),
    ] {
        sections.push((key.to_string(), header));
        figs.extend(f);
    }
    let table = render::figures(&figs, &sections) + &render::ladders(&ladders, modules);
    (figs.iter().map(Figure::to_json).collect(), ladders, table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(rep: usize, module: &str, n: usize, pass: bool, cpu: f64) -> Record {
        let p99 = if module == "c" { 40.0 } else { 5.0 };
        Record {
            rep,
            scenario: "fanout_3m".into(),
            module: module.into(),
            n: Some(n),
            doc: json!({"pass": pass, "alerts": [], "server": {"cpu_s_per_gb": cpu, "rss_kb_per_player": 10.0},
                        "latency_ms": {"p50": 1.0, "p99": p99}}),
        }
    }

    #[test]
    fn ladder_figures_are_taken_at_the_largest_rung_both_kept_up() {
        let mut plan = Plan::smoke();
        plan.reps = 2;
        plan.ladder_3m = vec![10, 100, 400];
        let mut recs = Vec::new();
        for rep in 1..=2 {
            for (n, c_ok) in [(10, true), (100, true), (400, false)] {
                recs.push(rec(rep, "c", n, c_ok, 1.4));
                recs.push(rec(rep, "ours", n, true, 0.6));
            }
        }
        let (figs, ladders, table) = build(&plan, &recs, &["c", "ours"]);
        let get = |id: &str| figs.iter().find(|f| f["id"] == id).unwrap().clone();
        assert_eq!(get("fanout_3m.largest_n")["ours"]["median"], 400.0);
        assert_eq!(get("fanout_3m.largest_n")["c"]["median"], 100.0);
        assert_eq!(get("fanout_3m.largest_n")["met"], true);
        assert_eq!(
            get("fanout_3m.cpu_s_per_gb")["met"],
            true,
            "0.6 / 1.4 ≤ 0.5"
        );
        assert_eq!(get("fanout_3m.rss_kb_per_player")["met"], false);
        assert_eq!(get("fanout_3m.p99_every_n")["met"], true);
        assert_eq!(ladders["fanout_3m"].as_array().unwrap().len(), 3);
        assert!(table.contains("per-N figures at N=100"), "{table}");
        assert!(
            table.contains("MISSED: target ≤ 0.50, 100% over"),
            "{table}"
        );
    }
}
