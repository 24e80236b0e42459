//! `/stat` in a real browser: headless Chromium loads the XML, fetches `stat.xsl` through the
//! `xml-stylesheet` PI and applies it. The test reads the DOM the browser built (HTML, not the
//! raw XML) and keeps a screenshot in `<repo>/test-artifacts/stat.png`.
use ngx_rtmp_tests::browser::*;
use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::*;
use regex::Regex;
use std::time::{Duration, Instant};

const STREAM: &str = "browsercam";

/// The http locations exactly as nginx-conf/nginx.conf has them (relative stylesheet href,
/// `alias` to the stylesheet in this checkout), plus its `include mime.types` /
/// `default_type`, so `stat.xsl` is served with the same Content-Type as there.
fn browser_nginx() -> Nginx {
    let xsl = repo_root().join("nginx-conf/stat.xsl");
    assert!(xsl.is_file(), "{} is missing", xsl.display());
    let mut opts = NginxOpts::new(&simple_rtmp("live", "live on;"));
    opts.worker_processes = 2;
    opts.http_server_extra = format!(
        "include /etc/nginx/mime.types;\n\
         default_type application/octet-stream;\n\
         location /stat {{ rtmp_stat all; rtmp_stat_stylesheet stat.xsl; }}\n\
         location /stat.xsl {{ alias {}; }}\n",
        xsl.display()
    );
    Nginx::start_opts(opts)
}

fn get(ng: &Nginx, path: &str) -> String {
    let (status, body) = http_get(&ng.http_url(path), Duration::from_secs(5)).expect("GET");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The `<stream>` element of `name` in the /stat XML, if listed.
fn stream_xml<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    xml.split("<stream>")
        .skip(1)
        .map(|s| s.split("</stream>").next().unwrap_or(""))
        .find(|s| s.contains(&format!("<name>{name}</name>")))
}

fn xml_num(elem: &str, tag: &str) -> u64 {
    elem.split(&format!("<{tag}>"))
        .nth(1)
        .and_then(|s| s.split('<').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The text of each `<td>` of the rendered `<tr class="stream">` row of `name`
/// (tags stripped, whitespace collapsed).
fn stream_row_cells(dom: &str, name: &str) -> Option<Vec<String>> {
    let tags = Regex::new(r"<[^>]*>").unwrap();
    let row = dom
        .split("<tr class=\"stream\">")
        .skip(1)
        .map(|s| s.split("</tr>").next().unwrap_or(""))
        .find(|s| s.contains(&format!("<td class=\"name\">{name}</td>")))?;
    Some(
        row.split("<td")
            .skip(1)
            .map(|c| {
                let c = c.split_once('>').map(|x| x.1).unwrap_or("");
                let text = tags.replace_all(c, " ");
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            })
            .collect(),
    )
}

#[test]
fn stat_page_renders_in_chromium() {
    let t0 = Instant::now();
    let ng = browser_nginx();
    let xsl = get(&ng, "/stat.xsl");
    assert!(xsl.contains("<xsl:stylesheet"), "/stat.xsl: {xsl:.200}");

    let url = ng.rtmp_url("live", STREAM);
    let publisher = publish_ffmpeg(&url, 40);
    std::thread::sleep(Duration::from_secs(2));
    let player = spawn_ffmpeg_player(&url, 30.0);

    // Workers refresh their snapshot every second: wait until the stream is there with its
    // player, its video metadata and a measured input rate.
    let deadline = Instant::now() + Duration::from_secs(15);
    let xml = loop {
        let xml = get(&ng, "/stat");
        let ready = stream_xml(&xml, STREAM).is_some_and(|s| {
            s.contains("<nclients>2</nclients>")
                && s.contains("<codec>H264</codec>")
                && s.contains("<width>640</width>")
                && xml_num(s, "bw_in") > 0
        });
        if ready {
            break xml;
        }
        assert!(
            Instant::now() < deadline,
            "/stat never showed {STREAM} with a player, H264 640x360 and bw_in > 0:\n{xml}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(
        xml.contains("<?xml-stylesheet type=\"text/xsl\" href=\"stat.xsl\" ?>"),
        "stylesheet PI: {xml:.300}"
    );

    let work = temp_dir("chromium");
    let stat_url = ng.http_url("/stat");

    // 1. The DOM after the browser applied stat.xsl.
    let run = run_chromium(&work, &["--dump-dom"], &stat_url, Duration::from_secs(60));
    eprintln!(
        "chromium --dump-dom: {:?}, {} bytes of DOM",
        run.took,
        run.stdout.len()
    );
    assert!(
        !run.timed_out && run.success,
        "chromium --dump-dom failed (timed out: {}):\n{}",
        run.timed_out,
        run.stderr
    );
    let dom = run.stdout;
    assert!(
        dom.contains("<title>RTMP statistics</title>") && dom.contains("<table"),
        "Chromium did not apply stat.xsl; its DOM:\n{dom:.3000}"
    );
    assert!(
        !dom.contains("<rtmp>") && !dom.contains("<bw_in>"),
        "the DOM is still the raw XML:\n{dom:.3000}"
    );
    let cells = stream_row_cells(&dom, STREAM)
        .unwrap_or_else(|| panic!("no rendered row for {STREAM} in the DOM:\n{dom}"));
    eprintln!("rendered row of {STREAM}: {cells:?}");
    // Stream | Video | Audio | In | Out | Clients | State | Uptime
    assert_eq!(cells.len(), 8, "row cells: {cells:?}");
    assert_eq!(cells[0], STREAM);
    assert!(cells[1].starts_with("H264"), "video cell: {:?}", cells[1]);
    assert!(cells[1].contains("640×360"), "video cell: {:?}", cells[1]);
    assert!(cells[2].starts_with("AAC"), "audio cell: {:?}", cells[2]);
    let rate = Regex::new(r"^(\d+(?:\.\d+)?) (kb/s|Mb/s|Gb/s)\b").unwrap();
    let c = rate
        .captures(&cells[3])
        .unwrap_or_else(|| panic!("input rate is not in kb/s, Mb/s or Gb/s: {:?}", cells[3]));
    let v: f64 = c[1].parse().unwrap();
    assert!(v > 0.0, "input rate is zero: {:?}", cells[3]);
    assert_eq!(cells[5], "2", "clients (publisher + player): {cells:?}");
    assert_eq!(cells[6], "live", "state: {cells:?}");

    // 2. The screenshot, kept as a test artifact. Chromium 14x+ overlays a "this site uses
    // XSLT" deprecation banner on top of the page; it is browser chrome, not part of the page,
    // and would hide the header, so its feature is switched off for the picture.
    let artifacts = repo_root().join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let png = artifacts.join("stat.png");
    let _ = std::fs::remove_file(&png);
    let shot = format!("--screenshot={}", png.display());
    let run = run_chromium(
        &work,
        &[
            &shot,
            "--window-size=1280,900",
            "--hide-scrollbars",
            "--disable-features=GenerateXSLTWarningBanner",
        ],
        &stat_url,
        Duration::from_secs(60),
    );
    eprintln!("chromium --screenshot: {:?} -> {}", run.took, png.display());
    assert!(
        !run.timed_out && run.success,
        "chromium --screenshot failed (timed out: {}):\n{}",
        run.timed_out,
        run.stderr
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert_eq!(
        png_size(&bytes),
        Some((1280, 900)),
        "{} size",
        png.display()
    );
    assert!(
        bytes.len() > 10_000,
        "{} is only {} bytes: a blank page?",
        png.display(),
        bytes.len()
    );

    let _ = std::fs::remove_dir_all(&work);
    drop(player);
    drop(publisher);
    ng.assert_no_alerts();
    eprintln!("browser test took {:?}", t0.elapsed());
}
