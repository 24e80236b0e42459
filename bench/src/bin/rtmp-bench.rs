//! rtmp-bench: the driver scripts/bench runs (see the library's `driver`).

fn main() {
    let a = ngx_rtmp_bench::args::Args::parse(std::env::args().skip(1));
    std::process::exit(ngx_rtmp_bench::driver::main(&a));
}
