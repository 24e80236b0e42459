//! rtmp-floor: the trivial fan-out writer (see the library's `floor`).
//!
//!   rtmp-floor --flv F --players N --duration-s D [--batch-ms 0] [--json out]
//!   rtmp-floor reader --addr H:P --players N --limit-s T     (its own child)

use ngx_rtmp_bench::args::Args;
use ngx_rtmp_bench::floor;
use std::time::Duration;

fn main() {
    let a = Args::parse(std::env::args().skip(1));
    let n = a.num("players", 100usize);
    if a.words.first().map(String::as_str) == Some("reader") {
        let limit = Duration::from_secs(a.num("limit-s", 60));
        if let Err(e) = floor::reader(&a.s("addr", ""), n, limit) {
            eprintln!("rtmp-floor reader: {e}");
            std::process::exit(1);
        }
        return;
    }
    let window = Duration::from_secs_f64(a.num("duration-s", 8.0));
    let batch = Duration::from_millis(a.num("batch-ms", 0));
    match floor::run(&a.s("flv", "media.flv"), n, window, batch) {
        Ok(v) => {
            let s = serde_json::to_string_pretty(&v).expect("json");
            if let Some(path) = a.opt("json") {
                if let Err(e) = std::fs::write(&path, &s) {
                    eprintln!("rtmp-floor: write {path}: {e}");
                    std::process::exit(1);
                }
            }
            println!("{s}");
        }
        Err(e) => {
            eprintln!("rtmp-floor: {e}");
            std::process::exit(1);
        }
    }
}
