//! Enhanced RTMP end to end: HEVC, AV1 and VP9 video with Opus and FLAC audio, published
//! by a real FFmpeg (8.1, bundled in PyAV's wheel; `scripts/deps` installs it under
//! `tests/.cache/pyav`) from files Debian's ffmpeg encodes. Debian's ffmpeg 5.1 cannot write
//! Enhanced RTMP, and cannot read it: PyAV's FFmpeg writes the reference FLV each relay
//! is compared with, and reads the recordings back.
use ngx_rtmp_tests::proc::{run_bounded, ChildGuard, Output};
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use rml_amf0::Amf0Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn pyav_python() -> PathBuf {
    let p = repo_root().join("tests/.cache/pyav/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/deps (it installs PyAV, whose FFmpeg speaks Enhanced RTMP)",
        p.display()
    );
    p
}

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

fn must(out: Output, what: &str) -> Output {
    assert!(out.success(), "{what} failed: {}{}", out.stdout, out.stderr);
    out
}

/// Debian's ffmpeg encodes `seconds` of testsrc2 320x240@25 with a keyframe every second
/// (`video` codec arguments) and a 48 kHz mono sine (`audio`, if any) into `out`.
fn encode(out: &Path, seconds: u32, video: &[&str], audio: Option<&[&str]>) {
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"]);
    if audio.is_some() {
        c.args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]);
    }
    c.args(["-t", &seconds.to_string(), "-pix_fmt", "yuv420p"])
        .args(video);
    match audio {
        Some(a) => c.args(a),
        None => c.arg("-an"),
    };
    c.arg(out);
    must(run_bounded(c, Duration::from_secs(120)), "ffmpeg encode");
}

/// The sources the tests publish, in `dir`.
fn hevc_opus(dir: &Path, seconds: u32) -> PathBuf {
    let out = dir.join("hevc_opus.mp4");
    let video = [
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-x265-params",
        "keyint=25:min-keyint=25:log-level=error",
    ];
    encode(
        &out,
        seconds,
        &video,
        Some(&["-c:a", "libopus", "-b:a", "48k"]),
    );
    out
}

fn av1(dir: &Path, seconds: u32) -> PathBuf {
    let out = dir.join("av1.mp4");
    let video = [
        "-c:v",
        "libaom-av1",
        "-usage",
        "realtime",
        "-cpu-used",
        "8",
        "-crf",
        "45",
        "-g",
        "25",
    ];
    encode(&out, seconds, &video, None);
    out
}

fn vp9_flac(dir: &Path, seconds: u32) -> PathBuf {
    let out = dir.join("vp9_flac.mkv");
    let video = [
        "-c:v",
        "libvpx-vp9",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-g",
        "25",
    ];
    encode(&out, seconds, &video, Some(&["-c:a", "flac"]));
    out
}

/// An FLV audio or video tag: type (8/9), timestamp, body.
#[derive(Clone, PartialEq, Eq)]
struct Tag {
    kind: u8,
    ts: u32,
    body: Vec<u8>,
}

impl std::fmt::Debug for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head = &self.body[..self.body.len().min(8)];
        write!(
            f,
            "{}@{} len {} {:02x?}",
            self.kind,
            self.ts,
            self.body.len(),
            head
        )
    }
}

impl Tag {
    /// The Enhanced RTMP packet type (inside a Multitrack wrapper too); `None` for legacy.
    fn packet_type(&self) -> Option<u8> {
        let b0 = *self.body.first()?;
        let (enhanced, multitrack) = match self.kind {
            9 => (b0 & 0x80 != 0, 6),
            _ => (b0 >> 4 == 9, 5),
        };
        if !enhanced {
            return None;
        }
        match b0 & 0x0f {
            t if t == multitrack => Some(self.body.get(1)? & 0x0f),
            t => Some(t),
        }
    }

    /// A configuration packet: sequence start, colour metadata, multichannel layout.
    fn is_config(&self) -> bool {
        match (self.kind, self.packet_type()) {
            (9, Some(t)) => matches!(t, 0 | 4 | 5),
            (_, Some(t)) => matches!(t, 0 | 4),
            _ => false,
        }
    }

    /// A keyframe of track 0 (FFmpeg sends track 0 without the Multitrack wrapper).
    fn is_keyframe(&self) -> bool {
        self.kind == 9
            && !self.is_config()
            && (self.body[0] >> 4) & 7 == 1
            && self.body[0] & 0x0f != 6
    }
}

/// The audio and video tags of an FLV file.
fn flv_tags(path: &Path) -> Vec<Tag> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&b[..3], b"FLV", "{} is no FLV", path.display());
    let mut at = 13;
    let mut tags = Vec::new();
    while at + 11 <= b.len() {
        let kind = b[at] & 0x1f;
        let size = u32::from_be_bytes([0, b[at + 1], b[at + 2], b[at + 3]]) as usize;
        let ts = u32::from_be_bytes([b[at + 7], b[at + 4], b[at + 5], b[at + 6]]);
        let body = &b[at + 11..at + 11 + size];
        if kind == 8 || kind == 9 {
            tags.push(Tag {
                kind,
                ts,
                body: body.to_vec(),
            });
        }
        at += 11 + size + 4;
    }
    tags
}

/// The tags PyAV's FFmpeg writes for `src`: what any publish of it sends.
fn reference(src: &Path) -> Vec<Tag> {
    let out = src.with_extension("ref.flv");
    let mut c = Command::new(pyav_python());
    c.arg(fixture("pyav_publish.py")).arg(src).arg(&out);
    must(
        run_bounded(c, Duration::from_secs(60)),
        "pyav_publish to a file",
    );
    flv_tags(&out)
}

/// PyAV's FFmpeg publishing `src` to `url` at its own pace, announcing the codecs in
/// connect's `fourCcList` as FFmpeg's `-rtmp_enhanced_codecs` does.
fn publish(src: &Path, url: &str) -> ChildGuard {
    let mut c = Command::new(pyav_python());
    c.arg(fixture("pyav_publish.py")).arg(src).arg(url).args([
        "--realtime",
        "--rtmp-enhanced-codecs",
        "hvc1,av01,vp09,Opus,fLaC",
    ]);
    ChildGuard::spawn(c)
}

fn wait_publisher(p: ChildGuard, limit: Duration) {
    let out = p.wait_bounded(limit);
    assert!(
        out.success(),
        "publisher failed: {}{}",
        out.stdout,
        out.stderr
    );
}

/// Plays `name` from the start of a publish to its end: every media message, in order.
fn spawn_player(ng: &Nginx, name: &str) -> std::thread::JoinHandle<Vec<Tag>> {
    let mut p = RtmpClient::connect(ng.rtmp_addr(), "live").expect("player connects");
    p.play(name).expect("play");
    std::thread::spawn(move || {
        let (_, events) = p
            .wait_status("NetStream.Play.UnpublishNotify", Duration::from_secs(60))
            .expect("the publish ends");
        media(&events)
    })
}

fn media(events: &[Event]) -> Vec<Tag> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Video { ts, data, .. } => Some(Tag {
                kind: 9,
                ts: *ts,
                body: data.to_vec(),
            }),
            Event::Audio { ts, data, .. } => Some(Tag {
                kind: 8,
                ts: *ts,
                body: data.to_vec(),
            }),
            _ => None,
        })
        .collect()
}

/// Equal tag lists, or a panic naming the first difference.
fn assert_same_tags(got: &[Tag], want: &[Tag], what: &str) {
    if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
        panic!(
            "{what}: tag {i} differs: got {:?}, want {:?}",
            got[i], want[i]
        );
    }
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} tags, want {} (last got {:?}, last want {:?})",
        got.len(),
        want.len(),
        got.last(),
        want.last()
    );
}

/// What a player there before the publisher gets: every tag, but no frame before the first
/// keyframe (it could not be decoded; configuration packets all come).
fn from_first_keyframe(tags: &[Tag]) -> Vec<Tag> {
    let key = tags.iter().position(Tag::is_keyframe).unwrap_or(tags.len());
    let (before, after) = tags.split_at(key);
    before
        .iter()
        .filter(|t| t.is_config())
        .chain(after)
        .cloned()
        .collect()
}

/// The tags a new subscriber (a late joiner, a new recording) starts with, then the rest:
/// the video configuration packets, the audio ones, then every frame in order.
fn configs_first(tags: &[Tag]) -> Vec<Tag> {
    let (configs, frames): (Vec<Tag>, Vec<Tag>) = tags.iter().cloned().partition(Tag::is_config);
    let (video, audio): (Vec<Tag>, Vec<Tag>) = configs.into_iter().partition(|t| t.kind == 9);
    [video, audio, frames].concat()
}

fn live_nginx(app_body: &str) -> Nginx {
    let mut opts = NginxOpts::new(&simple_rtmp("live", app_body));
    opts.http_server_extra = "location /stat { rtmp_stat all; }\n\
         location /hls { root {tmp}; add_header Cache-Control no-cache; }\n"
        .into();
    Nginx::start_opts(opts)
}

/// HEVC + Opus from FFmpeg 8.1: a player there from the start gets every tag byte for
/// byte; a player joining mid-stream gets the configuration packets (sequence starts,
/// colour metadata, Opus channel layout), then the stream from a keyframe on, byte for
/// byte.
#[test]
fn hevc_opus_reach_players_byte_for_byte_and_late_joiners_start_at_a_keyframe() {
    let ng = live_nginx("live on;");
    let src = hevc_opus(&ng.dir, 6);
    let want = reference(&src);
    assert!(want[0].body.starts_with(b"\x90hvc1"), "{:?}", want[0]);
    assert!(want.iter().any(|t| t.body.starts_with(b"\x90Opus")));
    let early = spawn_player(&ng, "tv");
    let publisher = publish(&src, &ng.rtmp_url("live", "tv"));
    std::thread::sleep(Duration::from_millis(3300));
    let late = spawn_player(&ng, "tv");
    wait_publisher(publisher, Duration::from_secs(30));
    let early = early.join().expect("early player");
    let late = late.join().expect("late player");

    assert_same_tags(&early, &want, "player from the start");

    let n = want.iter().filter(|t| t.is_config()).count();
    assert_eq!(
        n, 4,
        "hvc1 and Opus sequence starts, colorInfo, Opus channel layout"
    );
    assert!(late.len() > n, "the late joiner got {} tags", late.len());
    let ordered = configs_first(&want);
    assert_same_tags(&late[..n], &ordered[..n], "late joiner's configs");
    let frames = &ordered[n..];
    let first = &late[n];
    assert!(first.is_keyframe(), "late joiner starts with {first:?}");
    assert!(
        first.ts >= 1000,
        "the late joiner's GOP is a later one: {first:?}"
    );
    let at = frames
        .iter()
        .position(|t| t == first)
        .expect("the late joiner's keyframe was published");
    assert_same_tags(&late[n..], &frames[at..], "late joiner from its keyframe");
    ng.assert_no_alerts();
}

/// AV1 (no audio) and VP9 + FLAC reach a player byte for byte.
#[test]
fn av1_and_vp9_flac_reach_players_byte_for_byte() {
    let ng = live_nginx("live on;");
    let sources = [
        ("av1", av1(&ng.dir, 4), &b"\x90av01"[..]),
        ("vp9", vp9_flac(&ng.dir, 4), &b"\x90vp09"[..]),
    ];
    for (name, src, seq) in sources {
        let want = reference(&src);
        assert!(want[0].body.starts_with(seq), "{name}: {:?}", want[0]);
        let player = spawn_player(&ng, name);
        let publisher = publish(&src, &ng.rtmp_url("live", name));
        wait_publisher(publisher, Duration::from_secs(30));
        let got = player.join().expect("player");
        assert_same_tags(&got, &want, name);
    }
    ng.assert_no_alerts();
}

/// A client that names Enhanced RTMP codecs in connect learns what the server forwards.
#[test]
fn connect_answers_an_enhanced_client() {
    let ng = live_nginx("live on;");
    let mut c = RawClient::connect(ng.rtmp_addr()).expect("handshake");
    let list = Amf0Value::StrictArray(vec![s("hvc1"), s("av01"), s("Opus")]);
    let connect = obj(&[
        ("app", s("live")),
        ("tcUrl", s("rtmp://127.0.0.1/live")),
        ("fourCcList", list.clone()),
        ("capsEx", n(2.0)),
    ]);
    c.command(0, "connect", 1.0, connect, &[])
        .expect("send connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    let props = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.next_event(left).expect("connect answer") {
            Event::Command { name, obj, .. } if name == "_result" => break obj,
            _ => {}
        }
    };
    let Amf0Value::Object(props) = props else {
        panic!("_result properties: {props:?}")
    };
    assert_eq!(props.get("fourCcList"), Some(&list));
    let forward = obj(&[("*", n(4.0))]);
    assert_eq!(props.get("videoFourCcInfoMap"), Some(&forward));
    assert_eq!(props.get("audioFourCcInfoMap"), Some(&forward));
    assert_eq!(props.get("capsEx"), Some(&n(6.0)));
}

fn get(ng: &Nginx, path: &str) -> String {
    let (status, body) = http_get(&ng.http_url(path), Duration::from_secs(5)).expect("GET");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// One stream's part of the `/stat` XML, line breaks removed.
fn stream_xml(xml: &str, name: &str) -> Option<String> {
    let xml = xml.replace("\r\n", "");
    let start = xml.find(&format!("<stream><name>{name}</name>"))?;
    let len = xml[start..].find("</stream>")?;
    Some(xml[start..start + len].to_string())
}

/// `/stat` (XML and JSON) names the codecs the publishers send, with the picture size
/// parsed from the hvcC / av1C sequence starts, the frame rate, and Opus's layout.
#[test]
fn stat_names_enhanced_codecs_size_and_rate() {
    let ng = live_nginx("live on;");
    let hevc = publish(&hevc_opus(&ng.dir, 8), &ng.rtmp_url("live", "hevc"));
    let av1 = publish(&av1(&ng.dir, 8), &ng.rtmp_url("live", "av1"));
    let deadline = Instant::now() + Duration::from_secs(15);
    let xml = loop {
        let xml = get(&ng, "/stat");
        let ready = ["hevc", "av1"]
            .iter()
            .all(|n| stream_xml(&xml, n).is_some_and(|s| s.contains("<frame_rate>25<")));
        if ready || Instant::now() > deadline {
            break xml;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let hevc_xml = stream_xml(&xml, "hevc").unwrap_or_else(|| panic!("no hevc stream: {xml}"));
    for needle in [
        "<video><width>320</width><height>240</height><frame_rate>25</frame_rate>\
         <codec>HEVC</codec><profile>Main</profile>",
        "<audio><codec>Opus</codec><channels>1</channels><sample_rate>48000</sample_rate>",
    ] {
        assert!(hevc_xml.contains(needle), "hevc lacks {needle}: {hevc_xml}");
    }
    let av1_xml = stream_xml(&xml, "av1").unwrap_or_else(|| panic!("no av1 stream: {xml}"));
    let needle = "<video><width>320</width><height>240</height><frame_rate>25</frame_rate>\
         <codec>AV1</codec><profile>Main</profile>";
    assert!(av1_xml.contains(needle), "av1 lacks {needle}: {av1_xml}");

    let json = get(&ng, "/stat?format=json");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let streams: Vec<&serde_json::Value> = doc
        .pointer("/servers/0/applications")
        .and_then(|a| a.as_array())
        .into_iter()
        .flatten()
        .filter_map(|app| app.pointer("/live/streams").and_then(|s| s.as_array()))
        .flatten()
        .collect();
    let by_name = |n: &str| {
        streams
            .iter()
            .find(|s| s["name"] == n)
            .unwrap_or_else(|| panic!("JSON lacks {n}: {json}"))
    };
    let v = &by_name("hevc")["meta"]["video"];
    assert_eq!(
        (&v["codec"], &v["width"], &v["height"], &v["frame_rate"]),
        (&"HEVC".into(), &320.into(), &240.into(), &25.into()),
        "{json}"
    );
    assert_eq!(by_name("hevc")["meta"]["audio"]["codec"], "Opus", "{json}");
    assert_eq!(by_name("av1")["meta"]["video"]["codec"], "AV1", "{json}");
    wait_publisher(hevc, Duration::from_secs(30));
    wait_publisher(av1, Duration::from_secs(30));
}

/// What PyAV's FFmpeg (which reads Enhanced RTMP FLV) makes of a file: its streams,
/// decoded.
fn pyav_probe(path: &Path) -> serde_json::Value {
    let mut c = Command::new(pyav_python());
    c.arg(fixture("pyav_probe.py")).arg(path);
    let out = must(run_bounded(c, Duration::from_secs(60)), "pyav_probe");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// `record all` keeps the Enhanced RTMP tags: the file's tags after its onMetaData are
/// the publisher's, byte for byte, and a recent FFmpeg decodes it as HEVC + Opus and AV1.
#[test]
fn recordings_keep_enhanced_tags() {
    let ng = live_nginx("live on;\nrecord all;\nrecord_path {tmp}/rec;");
    for (name, src, codecs) in [
        ("hevc", hevc_opus(&ng.dir, 4), &["hevc", "opus"][..]),
        ("av1", av1(&ng.dir, 4), &["av1"][..]),
    ] {
        let want = reference(&src);
        let publisher = publish(&src, &ng.rtmp_url("live", name));
        wait_publisher(publisher, Duration::from_secs(30));
        let file = ng.dir.join(format!("rec/{name}.flv"));
        let closed = format!("record: closed \"{}\"", file.display());
        let logged = wait_for(Duration::from_secs(5), || {
            ng.error_log().contains(&closed).then_some(())
        });
        assert!(logged.is_some(), "{closed} not logged");
        assert_same_tags(&flv_tags(&file), &configs_first(&want), name);
        let probe = pyav_probe(&file);
        assert_eq!(probe["errors"], 0, "{name}: {probe}");
        let streams = probe["streams"].as_array().expect("streams");
        let got: Vec<&str> = streams.iter().filter_map(|s| s["codec"].as_str()).collect();
        assert_eq!(got, codecs, "{name}: {probe}");
        let video = &streams[0];
        assert_eq!(
            (&video["width"], &video["height"]),
            (&320.into(), &240.into())
        );
        assert_eq!(video["frames"], 100, "{name}: 4 s at 25 fps: {probe}");
        assert_eq!(video["keyframe_first"], true, "{name}: {probe}");
    }
    ng.assert_no_alerts();
}

/// What Debian's ffprobe (5.1, which reads fMP4 HEVC/AV1/Opus though not Enhanced RTMP
/// FLV) counts in a file: (codec, frames) per stream, and its complaints.
fn ffprobe_frames(path: &Path) -> (Vec<(String, u64)>, String) {
    let mut c = Command::new("ffprobe");
    c.args(["-v", "warning", "-count_frames"])
        .args(["-show_entries", "stream=codec_name,nb_read_frames"])
        .args(["-of", "csv=p=0"])
        .arg(path);
    let out = run_bounded(c, Duration::from_secs(60));
    let mut streams: Vec<(String, u64)> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once(','))
        .map(|(codec, n)| (codec.to_string(), n.trim().parse().unwrap_or(0)))
        .collect();
    // An HLS input lists its streams twice: in its program, then on their own.
    let half = streams.len() / 2;
    if streams.len().is_multiple_of(2) && streams[..half] == streams[half..] {
        streams.truncate(half);
    }
    (streams, out.stderr)
}

/// The fragments and initialization segments a live playlist names.
fn playlist_entries(text: &str) -> (Vec<String>, Vec<String>) {
    let maps = text
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_string)
        .collect();
    let fragments = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect();
    (maps, fragments)
}

/// HEVC + Opus and AV1 go into fMP4 HLS: a version 7 playlist with `EXT-X-MAP`, every
/// fragment decodes with its initialization segment in Debian's ffmpeg, and the playlist
/// as a whole (closed with ENDLIST) plays every frame published, without a warning.
#[test]
fn hls_gives_hevc_and_av1_fmp4_fragments() {
    let ng = live_nginx(
        "live on;\nhls on;\nhls_path {tmp}/hls;\nhls_fragment 1s;\nhls_playlist_length 30s;",
    );
    for (name, src, codecs) in [
        ("hevc", hevc_opus(&ng.dir, 4), &["hevc", "opus"][..]),
        ("av1", av1(&ng.dir, 4), &["av1"][..]),
    ] {
        let publisher = publish(&src, &ng.rtmp_url("live", name));
        wait_publisher(publisher, Duration::from_secs(30));
        let dir = ng.dir.join("hls");
        let playlist = dir.join(format!("{name}.m3u8"));
        let text = wait_for(Duration::from_secs(5), || {
            std::fs::read_to_string(&playlist)
                .ok()
                .filter(|t| t.matches("#EXTINF").count() >= 4)
        })
        .unwrap_or_else(|| panic!("{name}: no playlist of 4 fragments in {}", dir.display()));
        assert!(text.starts_with("#EXTM3U\n#EXT-X-VERSION:7\n"), "{text}");
        let (maps, fragments) = playlist_entries(&text);
        assert_eq!(maps, [format!("{name}-init-0.mp4")], "{text}");
        assert!(fragments.iter().all(|f| f.ends_with(".m4s")), "{text}");
        // Over HTTP too, as players fetch it.
        let (status, _) = http_get(
            &ng.http_url(&format!("/hls/{}", maps[0])),
            Duration::from_secs(5),
        )
        .expect("GET init");
        assert_eq!(status, 200);

        let init = std::fs::read(dir.join(&maps[0])).unwrap();
        let mut total = 0;
        for f in &fragments {
            let joined = ng.dir.join(format!("{f}.mp4"));
            let mut bytes = init.clone();
            bytes.extend(std::fs::read(dir.join(f)).unwrap());
            std::fs::write(&joined, bytes).unwrap();
            let (streams, warnings) = ffprobe_frames(&joined);
            let got: Vec<&str> = streams.iter().map(|s| s.0.as_str()).collect();
            assert_eq!(got, codecs, "{f}: {warnings}");
            assert!(warnings.is_empty(), "{f}: {warnings}");
            assert!(streams[0].1 >= 20, "{f}: {streams:?}");
            total += streams[0].1;
        }
        assert_eq!(total, 100, "{name}: every picture of 4 s at 25 fps");

        let vod = dir.join(format!("{name}-vod.m3u8"));
        std::fs::write(&vod, format!("{text}#EXT-X-ENDLIST\n")).unwrap();
        let mut c = Command::new("ffmpeg");
        c.args(["-nostdin", "-v", "warning", "-i"])
            .arg(&vod)
            .args(["-f", "null", "-"]);
        let out = must(run_bounded(c, Duration::from_secs(60)), "ffmpeg HLS decode");
        assert!(out.stderr.is_empty(), "{name}: {}", out.stderr);
        let (streams, _) = ffprobe_frames(&vod);
        assert_eq!(streams[0], (codecs[0].to_string(), 100), "{name}");
    }
    ng.assert_no_alerts();
}

/// `hls_fragment_type fmp4` puts H.264 + AAC (Debian's ffmpeg publishing) into fMP4 too;
/// `mpegts` leaves HEVC out, as nginx-rtmp does.
#[test]
fn hls_fragment_type_switches_the_container() {
    let ng = live_nginx(
        "live on;\nhls on;\nhls_path {tmp}/hls;\nhls_fragment 1s;\nhls_fragment_type fmp4;",
    );
    let p = ngx_rtmp_tests::media::publish_ffmpeg(&ng.rtmp_url("live", "h264"), 4);
    let out = p.wait_bounded(Duration::from_secs(30));
    assert!(out.success(), "{}", out.stderr);
    let dir = ng.dir.join("hls");
    let text = wait_for(Duration::from_secs(5), || {
        std::fs::read_to_string(dir.join("h264.m3u8"))
            .ok()
            .filter(|t| t.contains("#EXTINF"))
    })
    .expect("playlist");
    let (maps, fragments) = playlist_entries(&text);
    assert_eq!(maps.len(), 1, "{text}");
    let mut bytes = std::fs::read(dir.join(&maps[0])).unwrap();
    bytes.extend(std::fs::read(dir.join(&fragments[0])).unwrap());
    let joined = ng.dir.join("h264.mp4");
    std::fs::write(&joined, bytes).unwrap();
    let (streams, warnings) = ffprobe_frames(&joined);
    let got: Vec<&str> = streams.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(got, ["h264", "aac"], "{warnings}");
    assert!(warnings.is_empty(), "{warnings}");
    drop(ng);

    let ng = live_nginx("live on;\nhls on;\nhls_path {tmp}/hls;\nhls_fragment_type mpegts;");
    let publisher = publish(&hevc_opus(&ng.dir, 3), &ng.rtmp_url("live", "hevc"));
    wait_publisher(publisher, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    let listing: Vec<_> = std::fs::read_dir(ng.dir.join("hls"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        listing.is_empty(),
        "mpegts wrote {listing:?} for HEVC + Opus"
    );

    let (ok, err) = nginx_t(
        "load_module {so};\nerror_log {tmp}/error.log;\nevents { }\n\
         rtmp { server { listen 127.0.0.1:1935; application live {\n\
         hls on; hls_path {tmp}/hls; hls_fragment_type cmaf;\n} } }\n",
    );
    assert!(!ok);
    assert!(
        err.contains("invalid value \"cmaf\" in \"hls_fragment_type\" directive"),
        "{err}"
    );
}

fn av1_opus(dir: &Path, seconds: u32) -> PathBuf {
    let out = dir.join("av1_opus.mp4");
    let video = [
        "-c:v",
        "libaom-av1",
        "-usage",
        "realtime",
        "-cpu-used",
        "8",
        "-crf",
        "45",
        "-g",
        "25",
    ];
    encode(
        &out,
        seconds,
        &video,
        Some(&["-c:a", "libopus", "-b:a", "48k"]),
    );
    out
}

const AV1_PAGE: &str = r#"<!doctype html>
<html><body style="margin:0;background:#1d2330">
<video id="v" muted autoplay playsinline width="320" height="240"></video>
<script src="/js/hls.min.js"></script>
<script>
const v = document.getElementById('v');
window.errors = [];
const hls = new Hls();
hls.on(Hls.Events.ERROR, (e, d) => { if (d.fatal) window.errors.push(d.type + ': ' + d.details); });
hls.on(Hls.Events.MANIFEST_PARSED, () => v.play().catch(e => window.errors.push('play: ' + e)));
hls.loadSource('/hls/av1.m3u8');
hls.attachMedia(v);
</script></body></html>"#;

/// A browser plays the fMP4 HLS of an AV1 + Opus stream: hls.js (npm, fetched by
/// scripts/deps) in headless Chromium, whose AV1 and Opus decoders are software ones.
/// The screenshot is kept in `<repo>/test-artifacts/hls-av1.png`.
#[test]
fn hlsjs_plays_av1_and_opus_fmp4_in_chromium() {
    let hlsjs = repo_root().join("tests/.cache/hls.js-1.7.4/hls.min.js");
    assert!(
        hlsjs.is_file(),
        "{} is missing: run scripts/deps",
        hlsjs.display()
    );
    let mut opts = NginxOpts::new(&simple_rtmp(
        "live",
        "live on; hls on; hls_path {tmp}/hls; hls_fragment 1s; hls_playlist_length 6s;",
    ));
    opts.http_server_extra = format!(
        "location /hls {{ alias {{tmp}}/hls; add_header Cache-Control no-cache;
             types {{ application/vnd.apple.mpegurl m3u8; video/iso.segment m4s;
                      video/mp4 mp4; }} }}
         location = /js/hls.min.js {{ alias {}; }}
         location /www {{ alias {{tmp}}/www; }}",
        hlsjs.display()
    );
    let ng = Nginx::start_opts(opts);
    std::fs::create_dir_all(ng.file("www")).unwrap();
    std::fs::write(ng.file("www/av1.html"), AV1_PAGE).unwrap();
    let src = av1_opus(&ng.dir, 30);
    let _publisher = publish(&src, &ng.rtmp_url("live", "av1"));
    let playlist = ng.http_url("/hls/av1.m3u8");
    wait_for(Duration::from_secs(20), || {
        let (code, body) = http_get(&playlist, Duration::from_secs(2)).ok()?;
        (code == 200 && body.matches("#EXTINF").count() >= 3).then_some(())
    })
    .expect("the playlist never listed 3 fragments");

    let mut b = ngx_rtmp_tests::cdp::Browser::start(&ng.dir, 640, 480);
    b.open(&ng.http_url("/www/av1.html")).expect("open page");
    let mse = b
        .eval(r#"MediaSource.isTypeSupported('video/mp4; codecs="av01.0.00M.08,opus"')"#)
        .expect("eval");
    assert_eq!(mse.as_bool(), Some(true), "Chromium's MSE takes AV1 + Opus");
    let t0 = Instant::now();
    let mut t = 0.0;
    while t0.elapsed() < Duration::from_secs(25) && t <= 6.0 {
        t = b
            .eval("v.currentTime")
            .expect("eval")
            .as_f64()
            .unwrap_or(0.0);
        let errors = b.eval("window.errors.join('; ')").expect("eval");
        assert_eq!(errors.as_str(), Some(""), "hls.js errors: {errors}");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(t > 6.0, "currentTime reached only {t} in 25 s");
    let size = b.eval("v.videoWidth + 'x' + v.videoHeight").expect("eval");
    assert_eq!(size.as_str(), Some("320x240"), "video size {size}");
    let png = b.screenshot().expect("screenshot");
    let artifacts = repo_root().join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("hls-av1.png"), &png).unwrap();
}

/// Two video streams (HEVC, AV1) and Opus, which FFmpeg 8 publishes as Enhanced RTMP v2
/// Multitrack (the AV1 stream as track 1): players get every tag byte for byte; a late
/// joiner gets both tracks' sequence starts and colour metadata, then the GOP from track
/// 0's keyframe; `/stat` describes track 0; HLS carries track 0 (HEVC) and the audio.
#[test]
fn multitrack_hevc_av1_opus() {
    let ng = live_nginx("live on;\nhls on;\nhls_path {tmp}/hls;\nhls_fragment 1s;");
    let src = ng.dir.join("multitrack.mp4");
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", "6", "-map", "0:v", "-map", "0:v", "-map", "1:a"])
        .args([
            "-pix_fmt",
            "yuv420p",
            "-c:v:0",
            "libx265",
            "-preset",
            "ultrafast",
        ])
        .args(["-x265-params", "keyint=25:min-keyint=25:log-level=error"])
        .args([
            "-c:v:1",
            "libaom-av1",
            "-usage",
            "realtime",
            "-cpu-used",
            "8",
        ])
        .args(["-crf", "45", "-g", "25", "-c:a", "libopus", "-b:a", "48k"])
        .arg(&src);
    must(run_bounded(c, Duration::from_secs(120)), "ffmpeg encode");
    let want = reference(&src);
    assert!(
        want.iter().any(|t| t.body.starts_with(b"\x96\x00av01\x01")),
        "FFmpeg sends AV1 as track 1: {:?}",
        &want[..4]
    );
    let early = spawn_player(&ng, "mt");
    let publisher = publish(&src, &ng.rtmp_url("live", "mt"));
    std::thread::sleep(Duration::from_millis(3300));
    let late = spawn_player(&ng, "mt");
    let stat = wait_for(Duration::from_secs(5), || {
        let xml = get(&ng, "/stat");
        stream_xml(&xml, "mt").filter(|s| s.contains("<width>"))
    })
    .expect("the stream in /stat");
    wait_publisher(publisher, Duration::from_secs(30));
    assert_same_tags(
        &early.join().expect("early player"),
        &from_first_keyframe(&want),
        "player from the start",
    );

    let late = late.join().expect("late player");
    let n = want.iter().filter(|t| t.is_config()).count();
    assert_eq!(n, 6, "2 sequence starts, 2 colorInfo, Opus head and layout");
    let ordered = configs_first(&want);
    assert_same_tags(&late[..n], &ordered[..n], "late joiner's configs");
    let first = &late[n];
    assert!(first.is_keyframe(), "late joiner starts with {first:?}");
    let frames = &ordered[n..];
    let at = frames.iter().position(|t| t == first).expect("published");
    assert_same_tags(
        &late[n..],
        &frames[at..],
        "late joiner from track 0's keyframe",
    );

    assert!(stat.contains("<codec>HEVC</codec>"), "{stat}");
    assert!(
        stat.contains("<width>320</width><height>240</height>"),
        "{stat}"
    );

    let dir = ng.dir.join("hls");
    let text = std::fs::read_to_string(dir.join("mt.m3u8")).expect("playlist");
    let vod = dir.join("mt-vod.m3u8");
    std::fs::write(&vod, format!("{text}#EXT-X-ENDLIST\n")).unwrap();
    let (streams, warnings) = ffprobe_frames(&vod);
    assert!(warnings.is_empty(), "{warnings}");
    let got: Vec<(&str, u64)> = streams.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    assert_eq!(got[0], ("hevc", 150), "{got:?}");
    assert_eq!(got[1].0, "opus", "{got:?}");
    assert_eq!(got.len(), 2, "{got:?}");
    ng.assert_no_alerts();
}
