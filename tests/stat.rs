//! `/stat`: nginx-rtmp's XML (and JSON) built from every worker's snapshot in shared memory,
//! so the page is the same whichever worker answers.
use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::*;
use std::process::Command;
use std::time::{Duration, Instant};

fn stat_nginx(workers: u32) -> Nginx {
    let mut opts = NginxOpts::new(&simple_rtmp("live", "live on;"));
    opts.worker_processes = workers;
    opts.http_server_extra =
        "location /stat { rtmp_stat all; rtmp_stat_stylesheet /stat.xsl; }\n".into();
    Nginx::start_opts(opts)
}

fn get(ng: &Nginx, path: &str) -> String {
    let (status, body) = http_get(
        &format!("http://127.0.0.1:{}{}", ng.http_port, path),
        Duration::from_secs(5),
    )
    .expect("GET /stat");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// Waits until the page shows `needle` (workers refresh their snapshot every second).
fn wait_for_stat(ng: &Nginx, path: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = get(ng, path);
        if body.contains(needle) || Instant::now() > deadline {
            return body;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn xmllint_ok(xml: &str) -> bool {
    let dir = std::env::temp_dir().join(format!("stat-{}.xml", std::process::id()));
    std::fs::write(&dir, xml).unwrap();
    let ok = Command::new("xmllint")
        .arg("--noout")
        .arg(&dir)
        .status()
        .expect("xmllint (libxml2-utils) runs");
    let _ = std::fs::remove_file(&dir);
    ok.success()
}

#[test]
fn stat_shows_the_stream_whichever_worker_answers() {
    let ng = stat_nginx(4);
    let url = ng.rtmp_url("live", "cam1");
    let publisher = publish_ffmpeg(&url, 12);
    std::thread::sleep(Duration::from_secs(2));
    let p1 = spawn_ffmpeg_player(&url, 9.0);
    let p2 = spawn_ffmpeg_player(&url, 9.0);
    let xml = wait_for_stat(&ng, "/stat", "<nclients>3</nclients>");
    eprintln!("{xml}");
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\" ?>"),
        "XML declaration"
    );
    assert!(
        xml.contains("<?xml-stylesheet type=\"text/xsl\" href=\"/stat.xsl\" ?>"),
        "stylesheet PI"
    );
    for needle in [
        "<name>live</name>",
        "<name>cam1</name>",
        "<nclients>3</nclients>",
        "<codec>H264</codec>",
        "<codec>AAC</codec>",
        "<width>640</width>",
        "<height>360</height>",
        "<publishing/>",
        "<active/>",
    ] {
        assert!(xml.contains(needle), "/stat lacks {needle}");
    }
    assert!(xmllint_ok(&xml), "/stat is not well-formed XML");
    let bw = xml
        .split("<bw_in>")
        .nth(2)
        .and_then(|s| s.split('<').next())
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(bw > 0, "the stream's bw_in is 0");
    // Several requests, answered by whichever worker takes them, agree on the streams.
    let streams = |x: &str| {
        x.split("<stream>")
            .skip(1)
            .map(|s| s.split("<time>").next().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    let first = streams(&xml);
    for _ in 0..6 {
        let again = get(&ng, "/stat");
        assert_eq!(streams(&again), first, "two /stat answers disagree");
    }
    let json = get(&ng, "/stat?format=json");
    assert!(json.trim_start().starts_with('{'), "JSON: {json}");
    assert!(
        json.contains("\"name\":\"cam1\""),
        "JSON lacks the stream: {json}"
    );
    assert!(
        json.contains("\"nclients\":3"),
        "JSON lacks nclients: {json}"
    );
    drop((p1, p2));
    let _ = publisher.wait_bounded(Duration::from_secs(30));
    ng.assert_no_alerts();
}

#[test]
fn stat_without_streams_is_an_empty_tree() {
    let ng = stat_nginx(1);
    let xml = get(&ng, "/stat");
    assert!(xml.contains("<rtmp>") && xml.contains("</rtmp>"), "{xml}");
    assert!(
        xml.contains("<name>live</name>"),
        "the application is listed: {xml}"
    );
    assert!(!xml.contains("<stream>"), "no streams yet: {xml}");
    assert!(xmllint_ok(&xml));
}

/// After a reload the old worker drains its sessions; until they end, `/stat` (answered by the
/// new worker) still shows the stream the old worker serves.
#[test]
fn stat_keeps_showing_a_stream_that_drains_after_reload() {
    let mut ng = stat_nginx(1);
    let url = ng.rtmp_url("live", "draining");
    let publisher = publish_ffmpeg(&url, 14);
    let xml = wait_for_stat(&ng, "/stat", "<name>draining</name>");
    assert!(
        xml.contains("<name>draining</name>"),
        "stream not shown before reload"
    );
    let before = ng.worker_pids();
    ng.reload();
    let deadline = Instant::now() + Duration::from_secs(10);
    while ng.worker_pids().iter().all(|p| before.contains(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Past the stale limit of a slot that stopped refreshing (5 s).
    std::thread::sleep(Duration::from_secs(6));
    let xml = get(&ng, "/stat");
    assert!(
        xml.contains("<name>draining</name>"),
        "the draining stream vanished from /stat after reload:\n{xml}"
    );
    let _ = publisher.wait_bounded(Duration::from_secs(30));
    ng.assert_no_alerts();
}

/// The first number in `<tag>…</tag>` after `after` in the XML.
fn xml_number(xml: &str, after: &str, tag: &str) -> u64 {
    let from = xml.find(after).map(|i| &xml[i..]).unwrap_or("");
    from.split(&format!("<{tag}>"))
        .nth(1)
        .and_then(|s| s.split('<').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The stream's `bw_out` and `bytes_out` agree within 10% with what its one player actually
/// received over the same time.
#[test]
fn stat_bandwidth_matches_what_the_player_received() {
    use ngx_rtmp_tests::rtmp::RawClient;
    let ng = stat_nginx(1);
    let url = ng.rtmp_url("live", "rate");
    let publisher = publish_ffmpeg_with(
        &url,
        24,
        "testsrc2=size=640x360:rate=25",
        &[
            "-g",
            "25",
            "-b:v",
            "1500k",
            "-maxrate",
            "1500k",
            "-bufsize",
            "500k",
            "-x264-params",
            "nal-hrd=cbr:filler=1",
        ],
    );
    std::thread::sleep(Duration::from_secs(1));
    let mut player = RawClient::connect(ng.rtmp_addr()).expect("connect");
    player.rtmp_connect("live").expect("connect app");
    let msid = player.create_stream().expect("createStream");
    player.play(msid, "rate").expect("play");
    let started = Instant::now();
    let drain_until = |p: &mut RawClient, t: Duration| {
        while started.elapsed() < t {
            let _ = p.next_event(Duration::from_millis(200));
        }
    };
    // Let the stream settle, then measure the player over ten seconds.
    drain_until(&mut player, Duration::from_secs(5));
    let (r1, t1) = (player.received, Instant::now());
    drain_until(&mut player, Duration::from_secs(16));
    let (r2, t2) = (player.received, Instant::now());
    let xml = get(&ng, "/stat");
    let received_bps = (r2 - r1) as f64 * 8.0 / (t2 - t1).as_secs_f64();
    let bw_out = xml_number(&xml, "<name>rate</name>", "bw_out") as f64;
    let bytes_out = xml_number(&xml, "<name>rate</name>", "bytes_out") as f64;
    eprintln!(
        "player received {received_bps:.0} bit/s ({r2} bytes); /stat bw_out {bw_out} bytes_out {bytes_out}"
    );
    assert!(
        received_bps > 500_000.0,
        "the stream is too thin to measure: {received_bps}"
    );
    let off = (bw_out - received_bps).abs() / received_bps;
    assert!(
        off <= 0.10,
        "bw_out {bw_out} is {:.0}% off the received {received_bps:.0} bit/s",
        off * 100.0
    );
    // The snapshot is up to a second old: compare with what had arrived by then.
    let off_bytes = (bytes_out - r2 as f64).abs() / r2 as f64;
    assert!(
        off_bytes <= 0.10,
        "bytes_out {bytes_out} is {:.0}% off the received {r2}",
        off_bytes * 100.0
    );
    drop(player);
    drop(publisher);
    ng.assert_no_alerts();
}
