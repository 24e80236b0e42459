//! scripts/bench cannot rot unnoticed: its driver, load generator and floor (bench/) run the
//! smoke plan against our module, a few players and about a second per window, and must
//! report every figure with a number for ours and write the JSON the README describes.
//! Nothing here holds the module to a speed: the bench is the measure, not the test suite.

use ngx_rtmp_tests::*;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// Every figure the report has for our module alone (the C module's ratios need both).
const FIGURES: &[&str] = &[
    "fanout_3m.largest_n",
    "fanout_3m.cpu_s_per_gb",
    "fanout_3m.rss_kb_per_player",
    "fanout_3m.latency_p50_ms",
    "fanout_3m.latency_p99_ms",
    "floor_3m.cpu_multiple",
    "fanout_600k.largest_n",
    "fanout_600k.cpu_s_per_gb",
    "fanout_600k.rss_kb_per_player",
    "fanout_600k.latency_p50_ms",
    "fanout_600k.latency_p99_ms",
    "floor_600k.cpu_multiple",
    "streams_3x1.cpu_pct",
    "streams_3x1.rss_kb",
    "streams_3x1.latency_p99_ms",
    "streams_3x0.cpu_pct",
    "streams_3x0.rss_kb",
    "streams_3x0.rss_kb_per_stream",
    "churn.cycles_per_s",
    "churn.fds_before",
    "churn.fds_after",
    "churn.rss_kb_before",
    "churn.rss_kb_warm",
    "churn.rss_kb_last",
    "churn.rss_kb_after",
    "churn.anon_growth_kb",
    "startup.first_frame_p50_ms",
    "startup.first_frame_max_ms",
    "startup.connect_to_frame_p50_ms",
    "storage.max_stall_ms",
    "storage.max_gap_ms",
    "storage.cpu_pct",
];

fn bench_tool(name: &str) -> std::path::PathBuf {
    let root = repo_root();
    // A no-op when scripts/test has built the tools already.
    let mut build = Command::new("cargo");
    build.args(["build", "--release", "--quiet", "--manifest-path"]);
    build.arg(root.join("bench/Cargo.toml"));
    build.arg("--target-dir").arg(root.join("bench/target"));
    let out = run_bounded(build, Duration::from_secs(900));
    assert!(out.success(), "building bench/ failed:\n{}", out.stderr);
    root.join("bench/target/release").join(name)
}

fn num_at(v: &Value, path: &str) -> Option<f64> {
    path.split('.').try_fold(v, |v, k| v.get(k))?.as_f64()
}

#[test]
fn bench_harness_reports_every_figure_for_our_module() {
    let driver = bench_tool("rtmp-bench");
    let dir = temp_dir("bench-smoke");
    let mut cmd = Command::new(&driver);
    cmd.args(["--smoke", "--modules", "ours", "--keep-work", "--ours"]);
    cmd.arg(module_so()).arg("--nginx").arg(nginx_bin());
    cmd.arg("--out")
        .arg(&dir)
        .arg("--work")
        .arg(dir.join("work"));
    // The sources are made once (ffmpeg) and kept with the other test downloads.
    cmd.arg("--media")
        .arg(repo_root().join("tests/.cache/bench-media"));
    let out = run_bounded(cmd, Duration::from_secs(180));
    assert!(
        out.success(),
        "rtmp-bench failed ({:?}):\n{}\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.contains("== fan-out: 1 publisher 720p25"),
        "no table:\n{}",
        out.stdout
    );

    let json = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap_or_else(|| panic!("no JSON in {}:\n{}", dir.display(), out.stdout));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let figures = doc["figures"].as_array().expect("figures");
    for id in FIGURES {
        let f = figures
            .iter()
            .find(|f| f["id"] == *id)
            .unwrap_or_else(|| panic!("figure {id} missing from {}", json.display()));
        for k in ["min", "median", "max"] {
            assert!(
                f["ours"][k].is_number(),
                "{id}: ours.{k} is not a number: {f}"
            );
        }
        assert!(f["verdict"].is_string(), "{id}: no verdict");
    }
    for k in [
        "started",
        "cores",
        "loadavg_before",
        "loadavg_after",
        "nginx_version",
    ] {
        assert!(!doc["meta"][k].is_null(), "meta.{k} missing");
    }

    // Every run did its work: a server that logged no alert, players that got media.
    let runs = doc["runs"].as_array().expect("runs");
    for r in runs {
        let (sc, d) = (r["scenario"].as_str().unwrap(), &r["doc"]);
        assert!(d.get("error").is_none(), "{sc}: {d}");
        if r["module"] == "floor" {
            assert!(num_at(d, "delivered_bytes").unwrap() > 0.0, "{sc}: {d}");
            continue;
        }
        assert_eq!(d["alerts"], serde_json::json!([]), "{sc}: nginx alerts");
        match sc {
            "churn" => {
                assert_eq!(d["ok"], d["count"], "churn cycles failed: {d}");
                assert!(d["verify_keyframe_ms"].is_number(), "{d}");
            }
            "streams_3x0" => assert_eq!(d["publishers_ok"], 3, "{d}"),
            _ => {
                assert!(num_at(d, "delivered_bytes").unwrap() > 0.0, "{sc}: {d}");
                assert!(
                    num_at(d, "latency_ms.n").unwrap() > 0.0,
                    "{sc}: no stamped frame arrived"
                );
            }
        }
    }
    let storage = runs
        .iter()
        .find(|r| r["scenario"] == "storage")
        .expect("storage run");
    let s = &storage["doc"]["storage"];
    assert!(
        num_at(s, "record_files").unwrap() > 0.0,
        "no recording: {s}"
    );
    assert!(
        num_at(s, "hls_playlists").unwrap() > 0.0,
        "no HLS playlist: {s}"
    );
    // A failure keeps the directory (the servers' logs, the tools' output) for a look.
    let _ = std::fs::remove_dir_all(&dir);
}
