//! The table on stdout: the figures section by section, then each ladder rung by rung.

use super::figure::{cell, Figure};
use serde_json::Value;

/// Left-aligned columns; the last one is not padded.
fn columns(rows: &[Vec<String>]) -> String {
    let ncol = rows.iter().map(Vec::len).max().unwrap_or(0);
    let w: Vec<usize> = (0..ncol)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, s) in r.iter().enumerate() {
            line += s;
            if i + 1 < r.len() {
                line += &" ".repeat(w[i] - s.chars().count() + 2);
            }
        }
        out += line.trim_end();
        out += "\n";
    }
    out
}

pub fn figures(figs: &[Figure], sections: &[(String, String)]) -> String {
    let mut out = String::new();
    for (key, header) in sections {
        let mut rows = vec![["figure", "unit", "C module", "ours", "ours÷C", "verdict"]
            .map(String::from)
            .to_vec()];
        for f in figs.iter().filter(|f| &f.section == key) {
            let (_, v) = f.verdict();
            let note = if f.note.is_empty() {
                String::new()
            } else {
                format!("; {}", f.note)
            };
            let ratio = f.ratio().map_or("-".into(), |r| format!("{r:.2}"));
            rows.push(vec![
                f.title.clone(),
                f.unit.into(),
                cell(&f.c),
                cell(&f.ours),
                ratio,
                v + &note,
            ]);
        }
        if rows.len() > 1 {
            out += &format!("\n== {header}\n");
            out += &columns(&rows);
        }
    }
    out
}

/// Per rung: "C | ours" in each column.
pub fn ladders(ladders: &Value, modules: &[&str]) -> String {
    let mut out = String::new();
    for (key, rungs) in ladders.as_object().into_iter().flatten() {
        out += &format!("\n== {key} rung by rung ({})\n", modules.join(" | "));
        let head = [
            "N",
            "kept up",
            "CPU s/GB",
            "RSS/player KB",
            "p50 ms",
            "p99 ms",
            "worst on-time %",
            "client CPU %",
            "machine busy %",
        ];
        let mut rows = vec![head.map(String::from).to_vec()];
        for r in rungs.as_array().into_iter().flatten() {
            let side = |k: &str| -> String {
                modules
                    .iter()
                    .map(|m| match (r.get(*m), k) {
                        (None, _) => "-".to_string(),
                        (Some(v), "kept") => format!("{}/{}", v["kept_up_runs"], v["runs"]),
                        (Some(v), _) => v.get(k).map_or("-".into(), cell),
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            rows.push(vec![
                r["n"].to_string(),
                side("kept"),
                side("cpu_s_per_gb"),
                side("rss_kb_per_player"),
                side("latency_p50_ms"),
                side("latency_p99_ms"),
                side("worst_on_time_pct"),
                side("client_cpu_pct"),
                side("machine_busy_pct"),
            ]);
        }
        out += &columns(&rows);
    }
    out
}
