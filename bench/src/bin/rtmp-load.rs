//! rtmp-load: publishers and players in one process, with in-band latency stamps.
//!
//!   rtmp-load run   --addr H:P [--app live] --flv F --streams S --players P [--join-spread-ms X]
//!                   [--warmup-s W] [--duration-s D] [--settle-s G] [--on-time-ms 500]
//!                   [--pids a,b] [--name-prefix s] [--threads 2] [--json out]
//!   rtmp-load churn --addr H:P [--app live] --flv F --count 500 --concurrency 16 [--pids a,b]
//!                   [--json out]
//!
//! Prints one JSON document (and writes it to --json).

use ngx_rtmp_bench::args::Args;
use ngx_rtmp_bench::load::{churn, run};
use std::time::Duration;

fn main() {
    let a = Args::parse(std::env::args().skip(1));
    let threads = a.num("threads", 2usize).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let out = rt.block_on(async {
        match a.words.first().map(String::as_str) {
            Some("run") => run::run(&run::RunOpts::from_args(&a)).await,
            Some("churn") => churn::churn(&churn::ChurnOpts::from_args(&a)).await,
            _ => Err(
                "usage: rtmp-load run|churn --addr H:P --flv F ... (see the source's header)"
                    .into(),
            ),
        }
    });
    rt.shutdown_timeout(Duration::from_millis(500));
    match out {
        Ok(v) => {
            let s = serde_json::to_string_pretty(&v).expect("json");
            if let Some(path) = a.opt("json") {
                if let Err(e) = std::fs::write(&path, &s) {
                    eprintln!("rtmp-load: write {path}: {e}");
                    std::process::exit(1);
                }
            }
            println!("{s}");
        }
        Err(e) => {
            eprintln!("rtmp-load: {e}");
            std::process::exit(1);
        }
    }
}
