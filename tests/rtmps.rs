//! RTMPS: `listen ... ssl` ingest and `push rtmps://` relays, against real TLS peers: ffmpeg
//! (gnutls) publishing and playing, a second nginx with our TLS listener, and stunnel in
//! server mode in front of a plain listener. Certificates are made for each test with the
//! openssl CLI: a CA, server certificates it signs, and a self-signed one.
use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::proc::ChildGuard;
use ngx_rtmp_tests::rtmp::{wait_closed, RawClient};
use ngx_rtmp_tests::stat::*;
use ngx_rtmp_tests::*;
use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const CONTROL: &str = "location /control { rtmp_control all; }";

/// A throwaway PKI: `ca`, `server` (signed by ca, for localhost and 127.0.0.1), `nameonly`
/// (signed by ca, for localhost only) and `self` (self-signed, for localhost and 127.0.0.1).
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = temp_dir("pki");
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            &dir,
            &[
                &["req", "-x509"],
                &ec[..],
                &["-keyout", "ca.key", "-out", "ca.crt"],
            ]
            .concat(),
            &[
                "-days",
                "2",
                "-subj",
                "/CN=ngx-rtmp test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        for (name, san) in [
            ("server", "DNS:localhost,IP:127.0.0.1"),
            ("nameonly", "DNS:localhost"),
        ] {
            let (key, csr, crt) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.crt"),
            );
            openssl(
                &dir,
                &[&["req"], &ec[..], &["-keyout", &key, "-out", &csr]].concat(),
                &["-subj", "/CN=localhost"],
            );
            let ext = format!("{name}.ext");
            fs::write(
                dir.join(&ext),
                format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
            )
            .unwrap();
            openssl(
                &dir,
                &[
                    "x509", "-req", "-in", &csr, "-CA", "ca.crt", "-CAkey", "ca.key",
                ],
                &[
                    "-CAcreateserial",
                    "-out",
                    &crt,
                    "-days",
                    "2",
                    "-extfile",
                    &ext,
                ],
            );
        }
        openssl(
            &dir,
            &[
                &["req", "-x509"],
                &ec[..],
                &["-keyout", "self.key", "-out", "self.crt"],
            ]
            .concat(),
            &[
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
        );
        Pki { dir }
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn openssl(dir: &Path, a: &[&str], b: &[&str]) {
    let mut c = Command::new("openssl");
    c.current_dir(dir).args(a).args(b);
    let out = run_bounded(c, Duration::from_secs(30));
    assert!(out.success(), "openssl {a:?} {b:?}: {}", out.stderr);
}

/// A server with `listen {rtmp_port}` and `listen TLS_PORT ssl` (the given certificate) and
/// `application app { live on; }`.
struct Receiver {
    ng: Nginx,
    tls_port: u16,
}

impl Receiver {
    fn start(cert: &str, key: &str) -> Receiver {
        Self::start_with(cert, key, "")
    }

    /// With `extra` server-level directives.
    fn start_with(cert: &str, key: &str, extra: &str) -> Receiver {
        let tls_port = free_port();
        let mut opts = NginxOpts::new(&format!(
            "server {{\n\
             \x20   listen 127.0.0.1:{{rtmp_port}};\n\
             \x20   listen 127.0.0.1:{tls_port} ssl;\n\
             \x20   ssl_certificate {cert};\n\
             \x20   ssl_certificate_key {key};\n\
             \x20   ssl_handshake_timeout 2s;\n\
             \x20   {extra}\n\
             \x20   application app {{ live on; }}\n\
             }}\n"
        ));
        opts.http_server_extra = STAT_LOCATION.to_string();
        Receiver {
            ng: Nginx::start_opts(opts),
            tls_port,
        }
    }

    fn tls_url(&self, app: &str, name: &str) -> String {
        format!("rtmps://127.0.0.1:{}/{app}/{name}", self.tls_port)
    }
}

/// A source: `application live { live on; push_reconnect 500ms; <app> }` with the
/// `rtmp_relay_ssl_*` lines `<tls>` at server level.
fn source(tls: &str, app: &str) -> Nginx {
    let mut opts = NginxOpts::new(&format!(
        "server {{\n\
         \x20   listen 127.0.0.1:{{rtmp_port}};\n\
         \x20   {tls}\n\
         \x20   application live {{\n\
         \x20       live on;\n\
         \x20       push_reconnect 500ms;\n\
         \x20       {app}\n\
         \x20   }}\n\
         }}\n"
    ));
    opts.http_server_extra = format!("{STAT_LOCATION}\n{CONTROL}");
    Nginx::start_opts(opts)
}

/// An nginx master started by hand; dropping it quits nginx (SIGQUIT), so no worker is left.
struct Master(Option<ChildGuard>);

impl Drop for Master {
    fn drop(&mut self) {
        if let Some(mut g) = self.0.take() {
            g.signal(libc::SIGQUIT);
            let _ = g.wait_bounded(Duration::from_secs(10));
        }
    }
}

fn lines_with(ng: &Nginx, needles: &[&str]) -> Vec<String> {
    ng.error_log()
        .lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .map(str::to_string)
        .collect()
}

/// Publishes live/x on `src` and checks that app/x on `dst` plays (over plain RTMP) with
/// the publisher's video and audio.
fn assert_relayed(src: &Nginx, dst: &Nginx) -> ChildGuard {
    let publisher = publish_ffmpeg(&src.rtmp_url("live", "x"), 40);
    let took = wait_publishing(dst, "app", "x", Duration::from_secs(15));
    assert!(
        took.is_some(),
        "nothing arrived on the receiver; source log:\n{}",
        src.error_log_tail(30)
    );
    eprintln!("relayed stream publishing on the receiver after {took:?}");
    let r = play_count_frames(&dst.rtmp_url("app", "x"), 6.0);
    assert_decoded("player on the receiver", &r, 6.0);
    publisher
}

/// stunnel4 in the foreground with `services` (its `[name]` sections); waits for `port`.
fn stunnel(dir: &Path, port: u16, services: &str) -> ChildGuard {
    let conf = dir.join("stunnel.conf");
    fs::write(
        &conf,
        format!(
            "foreground = yes\npid =\noutput = {}\ndebug = info\n{services}",
            dir.join("stunnel.log").display()
        ),
    )
    .unwrap();
    let mut c = Command::new("stunnel4");
    c.arg(&conf);
    let mut g = ChildGuard::spawn(c);
    let up = wait_for(Duration::from_secs(10), || {
        port_listening(port).then_some(())
    });
    assert!(
        up.is_some() && g.is_running(),
        "stunnel did not start: {}",
        fs::read_to_string(dir.join("stunnel.log")).unwrap_or_default()
    );
    g
}

/// ffmpeg publishes to `listen ... ssl` (with a shared session cache); one player decodes the
/// stream over RTMPS and one over plain RTMP from the same server.
#[test]
fn ingest_over_rtmps_plays_over_rtmps_and_rtmp() {
    let pki = Pki::new();
    let r = Receiver::start_with(
        &pki.file("server.crt"),
        &pki.file("server.key"),
        "ssl_session_cache shared:RTMPS:1m; ssl_session_timeout 10m;",
    );
    let _publisher = publish_ffmpeg(&r.tls_url("app", "x"), 40);
    assert!(
        wait_publishing(&r.ng, "app", "x", Duration::from_secs(15)).is_some(),
        "ffmpeg did not publish over RTMPS:\n{}",
        r.ng.error_log_tail(30)
    );
    let over_tls = spawn_ffmpeg_player(&r.tls_url("app", "x"), 6.0);
    let over_tcp = spawn_ffmpeg_player(&r.ng.rtmp_url("app", "x"), 6.0);
    assert_decoded(
        "rtmps player",
        &finish_play(over_tls, Duration::from_secs(50)),
        6.0,
    );
    assert_decoded(
        "rtmp player",
        &finish_play(over_tcp, Duration::from_secs(50)),
        6.0,
    );
    let tls = lines_with(&r.ng, &["rtmp: TLS handshake done: TLSv1.3"]);
    assert_eq!(tls.len(), 2, "publisher and rtmps player: {tls:?}");
    assert_eq!(
        lines_with(&r.ng, &["rtmp: publish \"x\"", &format!(":{}", r.tls_port)]).len(),
        1,
        "the publish came in on the TLS port"
    );
    r.ng.assert_no_alerts();
}

/// Plain RTMP, garbage and silence on the TLS port: each connection is closed with a line
/// in the log, nothing above info, the worker lives on and, after a reload too, serves RTMPS.
#[test]
fn tls_port_closes_plain_rtmp_garbage_and_silence() {
    let pki = Pki::new();
    let mut r = Receiver::start(&pki.file("server.crt"), &pki.file("server.key"));
    let workers = r.ng.worker_pids();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", r.tls_port).parse().unwrap();

    assert!(
        RawClient::connect(addr).is_err(),
        "an RTMP handshake on the TLS port was answered"
    );
    let mut garbage = TcpStream::connect(addr).unwrap();
    garbage
        .write_all(b"GET / HTTP/1.0\r\n\r\n\x00\x01\x02\xff garbage")
        .unwrap();
    assert!(wait_closed(&mut garbage, Duration::from_secs(5)), "garbage");
    let mut silent = TcpStream::connect(addr).unwrap();
    assert!(
        wait_closed(&mut silent, Duration::from_secs(10)),
        "a client that says nothing is not closed after ssl_handshake_timeout"
    );

    let failed = wait_for(Duration::from_secs(5), || {
        let l = lines_with(&r.ng, &["rtmp: TLS handshake failed, closing connection"]);
        (l.len() >= 2).then_some(l)
    });
    assert!(failed.is_some(), "{}", r.ng.error_log_tail(20));
    assert_eq!(
        lines_with(&r.ng, &["[info]", "rtmp: TLS handshake timed out"]).len(),
        1
    );
    // nginx's own line for what OpenSSL saw, at info as for nginx's stream and http clients.
    let ssl = lines_with(&r.ng, &["SSL_do_handshake() failed"]);
    assert!(!ssl.is_empty(), "{}", r.ng.error_log_tail(20));
    assert!(ssl.iter().all(|l| l.contains("[info]")), "{ssl:?}");
    assert_eq!(r.ng.worker_pids(), workers, "the worker changed");
    r.ng.assert_no_alerts();

    // A reload makes the TLS context again; the inherited socket serves RTMPS at once.
    r.ng.reload();
    let reloaded = wait_for(Duration::from_secs(10), || {
        let now = r.ng.worker_pids();
        (!now.is_empty() && now.iter().all(|w| !workers.contains(w))).then_some(())
    });
    assert!(reloaded.is_some(), "no new worker after the reload");
    let _publisher = publish_ffmpeg(&r.tls_url("app", "y"), 30);
    assert!(
        wait_publishing(&r.ng, "app", "y", Duration::from_secs(15)).is_some(),
        "RTMPS after the bad clients and a reload:\n{}",
        r.ng.error_log_tail(20)
    );
    r.ng.assert_no_alerts();
}

/// A player that stops reading a TLS connection (its ffmpeg stopped with SIGSTOP) fills the
/// socket and nginx's TLS buffer; it is dropped after `timeout` while another RTMPS player
/// decodes the whole stream, and the worker is the same process.
#[test]
fn frozen_rtmps_player_is_dropped_while_others_play() {
    let pki = Pki::new();
    let r = Receiver::start_with(
        &pki.file("server.crt"),
        &pki.file("server.key"),
        "timeout 4s;",
    );
    let workers = r.ng.worker_pids();
    // Lossless H.264: megabytes a second, so socket buffers fill within seconds.
    let _publisher = publish_ffmpeg_with(
        &r.ng.rtmp_url("app", "x"),
        40,
        "testsrc2=size=640x360:rate=25",
        &["-g", "25", "-qp", "0"],
    );
    assert!(wait_publishing(&r.ng, "app", "x", Duration::from_secs(15)).is_some());
    let mut frozen = spawn_ffmpeg_player(&r.tls_url("app", "x"), 30.0);
    let playing = wait_for(Duration::from_secs(10), || {
        (!lines_with(&r.ng, &["rtmp: play \"x\""]).is_empty()).then_some(())
    });
    assert!(playing.is_some(), "{}", r.ng.error_log_tail(20));
    frozen.signal(libc::SIGSTOP);
    let player = spawn_ffmpeg_player(&r.tls_url("app", "x"), 10.0);
    let dropped = wait_for(Duration::from_secs(30), || {
        let log = r.ng.error_log();
        (log.contains("rtmp: client send timed out") || log.contains("too slow")).then_some(())
    });
    let played = finish_play(player, Duration::from_secs(50));
    frozen.signal(libc::SIGKILL);
    assert!(dropped.is_some(), "{}", r.ng.error_log_tail(30));
    assert_decoded("rtmps player beside a frozen one", &played, 10.0);
    assert_eq!(r.ng.worker_pids(), workers);
    r.ng.assert_no_alerts();
}

/// What `nginx -t` says about RTMPS settings.
#[test]
fn tls_configuration_errors() {
    let pki = Pki::new();
    let (cert, key) = (pki.file("server.crt"), pki.file("server.key"));
    let conf = |server: &str, app: &str| {
        format!(
            "load_module {{so}};\nerror_log {{tmp}}/error.log info;\npid {{tmp}}/nginx.pid;\n\
             events {{}}\nrtmp {{\n    server {{\n        listen 127.0.0.1:{};\n{server}\n\
             \x20       application live {{ live on; {app} }}\n    }}\n}}\n",
            free_port()
        )
    };
    let ssl_listen = format!("        listen 127.0.0.1:{} ssl;", free_port());

    let ok = nginx_t_full(&conf(
        &format!(
            "{ssl_listen}\nssl_certificate {cert};\nssl_certificate_key {key};\n\
             ssl_protocols TLSv1.2 TLSv1.3;\nssl_ciphers HIGH:!aNULL;\n\
             ssl_prefer_server_ciphers on;\nssl_ecdh_curve prime256v1;\n\
             ssl_session_cache builtin:1000 shared:RTMPS:1m;\nssl_session_timeout 10m;\n\
             ssl_handshake_timeout 5s;"
        ),
        "rtmp_relay_ssl_verify on; rtmp_relay_ssl_verify_depth 3; \
         rtmp_relay_ssl_server_name on; rtmp_relay_ssl_name example.com; \
         rtmp_relay_ssl_protocols TLSv1.3; rtmp_relay_ssl_ciphers DEFAULT;",
    ));
    assert!(ok.ok, "{}", ok.stderr);

    let t = nginx_t_full(&conf(&ssl_listen, ""));
    let text = fs::read_to_string(&t.conf_path).unwrap();
    let line = text.lines().position(|l| l.contains(" ssl;")).unwrap() + 1;
    let want = format!(
        "no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive in {}:{line}",
        t.conf_path.display()
    );
    assert!(
        !t.ok && t.stderr.contains(&want),
        "want {want}: {}",
        t.stderr
    );

    let cases = [
        (
            format!("{ssl_listen}\nssl_certificate {cert};"),
            String::new(),
            format!("no \"ssl_certificate_key\" is defined for certificate \"{cert}\""),
        ),
        (
            format!(
                "{ssl_listen}\nssl_certificate /nonexistent/c.pem;\nssl_certificate_key {key};"
            ),
            String::new(),
            "cannot load certificate \"/nonexistent/c.pem\"".to_string(),
        ),
        (
            "ssl_protocols TLSv1.2 TLSv9;".to_string(),
            String::new(),
            "invalid value \"TLSv9\" in \"ssl_protocols\" directive".to_string(),
        ),
        (
            "ssl_session_cache shared:x;".to_string(),
            String::new(),
            "invalid session cache \"shared:x\"".to_string(),
        ),
        (
            String::new(),
            "rtmp_relay_ssl_verify maybe;".to_string(),
            "invalid value \"maybe\" in \"rtmp_relay_ssl_verify\" directive".to_string(),
        ),
        (
            String::new(),
            "rtmp_relay_ssl_protocols SSLv4;".to_string(),
            "invalid value \"SSLv4\" in \"rtmp_relay_ssl_protocols\" directive".to_string(),
        ),
        (
            String::new(),
            "rtmp_relay_ssl_trusted_certificate /nonexistent/ca.pem;".to_string(),
            "/nonexistent/ca.pem".to_string(),
        ),
    ];
    for (server, app, want) in cases {
        let t = nginx_t_full(&conf(&server, &app));
        assert!(
            !t.ok && t.stderr.contains("[emerg]") && t.stderr.contains(&want),
            "want {want}: {}",
            t.stderr
        );
    }
}

/// (a) push rtmps:// to a second nginx with our TLS listener, trusting the test CA: a
/// player on the receiver gets the stream.
#[test]
fn push_rtmps_to_our_tls_listener() {
    let pki = Pki::new();
    let r = Receiver::start(&pki.file("server.crt"), &pki.file("server.key"));
    let a = source(
        &format!("rtmp_relay_ssl_trusted_certificate {};", pki.file("ca.crt")),
        &format!("push rtmps://127.0.0.1:{}/app;", r.tls_port),
    );
    let _publisher = assert_relayed(&a, &r.ng);
    let tls = lines_with(&a, &["relay: push TLS: TLSv1.3", "certificate verified"]);
    assert_eq!(tls.len(), 1, "{}", a.error_log_tail(20));
    assert!(lines_with(&a, &["relay: push failed"]).is_empty());
    // The relay came in through the receiver's TLS port.
    assert_eq!(
        lines_with(&r.ng, &["rtmp: publish \"x\"", &format!(":{}", r.tls_port)]).len(),
        1,
        "{}",
        r.ng.error_log_tail(20)
    );
    a.assert_no_alerts();
    r.ng.assert_no_alerts();
}

/// (b) push rtmps:// to stunnel in server mode in front of a plain listener.
#[test]
fn push_rtmps_through_stunnel() {
    let pki = Pki::new();
    let b = Nginx::start_opts({
        let mut o = NginxOpts::new(&simple_rtmp("app", "live on;"));
        o.http_server_extra = STAT_LOCATION.to_string();
        o
    });
    let port = free_port();
    let _stunnel = stunnel(
        &pki.dir,
        port,
        &format!(
            "[rtmps]\naccept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{}\ncert = {}\nkey = {}\n",
            b.rtmp_port,
            pki.file("server.crt"),
            pki.file("server.key")
        ),
    );
    let a = source(
        &format!("rtmp_relay_ssl_trusted_certificate {};", pki.file("ca.crt")),
        &format!("push rtmps://127.0.0.1:{port}/app;"),
    );
    let _publisher = assert_relayed(&a, &b);
    assert_eq!(
        lines_with(&a, &["relay: push TLS:", "certificate verified"]).len(),
        1
    );
    a.assert_no_alerts();
    b.assert_no_alerts();
}

/// A self-signed target is refused with one clear line naming the URL and the reason, and
/// retried; nothing arrives. With `rtmp_relay_ssl_verify off` the same target gets it.
#[test]
fn self_signed_target_is_refused_unless_verify_off() {
    let pki = Pki::new();
    let r = Receiver::start(&pki.file("self.crt"), &pki.file("self.key"));
    let url = format!("rtmps://127.0.0.1:{}/app", r.tls_port);
    let a = source(
        &format!("rtmp_relay_ssl_trusted_certificate {};", pki.file("ca.crt")),
        &format!("push {url};"),
    );
    let publisher = publish_ffmpeg(&a.rtmp_url("live", "x"), 40);
    let refused = wait_for(Duration::from_secs(15), || {
        let l = lines_with(
            &a,
            &[
                "[error]",
                "relay: push failed: certificate verify failed: self-signed certificate",
                &format!("url: {url}, stream: live/x"),
            ],
        );
        (l.len() >= 2).then_some(l)
    });
    assert!(
        refused.is_some(),
        "no repeated refusal:\n{}",
        a.error_log_tail(30)
    );
    eprintln!("refused: {:?}", refused.unwrap()[0]);
    assert!(stat_stream(&r.ng, "app", "x").is_none(), "data arrived");
    assert!(lines_with(&r.ng, &["rtmp: publish"]).is_empty());
    assert!(lines_with(&a, &["relay: push publishing"]).is_empty());
    drop(publisher);

    let off = source("rtmp_relay_ssl_verify off;", &format!("push {url};"));
    let _publisher = assert_relayed(&off, &r.ng);
    assert_eq!(
        lines_with(&off, &["relay: push TLS:", "certificate not verified"]).len(),
        1
    );
    a.assert_no_alerts();
    off.assert_no_alerts();
    r.ng.assert_no_alerts();
}

/// Verification is on by default against the system's CA bundle (which does not know the
/// test CA), and the name checked is the URL's host: a certificate for localhost is refused
/// for 127.0.0.1 and taken for localhost.
#[test]
fn default_trust_store_and_the_name_in_the_certificate() {
    let pki = Pki::new();
    let r = Receiver::start(&pki.file("nameonly.crt"), &pki.file("nameonly.key"));
    let by_name = format!("rtmps://localhost:{}/app", r.tls_port);
    let by_ip = format!("rtmps://127.0.0.1:{}/app", r.tls_port);
    let trust_ca = format!("rtmp_relay_ssl_trusted_certificate {};", pki.file("ca.crt"));

    let defaults = source("", &format!("push {by_name};"));
    let wrong_ip = source(&trust_ca, &format!("push {by_ip};"));
    let p1 = publish_ffmpeg(&defaults.rtmp_url("live", "x"), 30);
    let p2 = publish_ffmpeg(&wrong_ip.rtmp_url("live", "x"), 30);
    for (ng, reason) in [
        // OpenSSL says "unable to get local issuer certificate" or, as its last word on
        // the chain, "unable to verify the first certificate".
        (&defaults, "unable to "),
        (&wrong_ip, "IP address mismatch"),
    ] {
        let refused = wait_for(Duration::from_secs(15), || {
            let l = lines_with(
                ng,
                &[&format!(
                    "relay: push failed: certificate verify failed: {reason}"
                )],
            );
            (!l.is_empty()).then_some(l)
        });
        assert!(refused.is_some(), "{reason}:\n{}", ng.error_log_tail(20));
    }
    assert!(stat_stream(&r.ng, "app", "x").is_none(), "data arrived");
    drop((p1, p2));

    let good = source(&trust_ca, &format!("push {by_name};"));
    let _publisher = assert_relayed(&good, &r.ng);
    for ng in [&defaults, &wrong_ip, &good] {
        ng.assert_no_alerts();
    }
}

/// The relay sends the URL's host as SNI: stunnel routes by it (`sni =`), so the stream
/// reaches the receiver only through the service for "localhost". Without SNI
/// (`rtmp_relay_ssl_server_name off`) stunnel's default service takes the connection and
/// nothing arrives; `rtmp_relay_ssl_name localhost` sends the name for an IP URL.
#[test]
fn sni_is_the_url_host() {
    let pki = Pki::new();
    let b = Nginx::start_opts({
        let mut o = NginxOpts::new(&simple_rtmp("app", "live on;"));
        o.http_server_extra = STAT_LOCATION.to_string();
        o
    });
    let (port, nowhere) = (free_port(), free_port());
    let (cert, key) = (pki.file("server.crt"), pki.file("server.key"));
    let _stunnel = stunnel(
        &pki.dir,
        port,
        &format!(
            "[default]\naccept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{nowhere}\n\
             cert = {cert}\nkey = {key}\n\
             [by-name]\nsni = default:localhost\nconnect = 127.0.0.1:{}\n\
             cert = {cert}\nkey = {key}\n",
            b.rtmp_port
        ),
    );
    let trust = format!("rtmp_relay_ssl_trusted_certificate {};", pki.file("ca.crt"));

    let no_sni = source(
        &format!("{trust}\nrtmp_relay_ssl_server_name off;"),
        &format!("push rtmps://localhost:{port}/app;"),
    );
    let publisher = publish_ffmpeg(&no_sni.rtmp_url("live", "x"), 30);
    let failed = wait_for(Duration::from_secs(15), || {
        (lines_with(&no_sni, &["relay: push failed"]).len() >= 2).then_some(())
    });
    assert!(failed.is_some(), "{}", no_sni.error_log_tail(20));
    assert!(stat_stream(&b, "app", "x").is_none(), "arrived without SNI");
    drop(publisher);

    let sni = source(&trust, &format!("push rtmps://localhost:{port}/app;"));
    let publisher = assert_relayed(&sni, &b);
    drop(publisher);
    assert!(
        wait_for(Duration::from_secs(10), || stat_stream(&b, "app", "x")
            .is_none()
            .then_some(()))
        .is_some(),
        "the stream did not end on the receiver"
    );

    let named = source(
        &format!("{trust}\nrtmp_relay_ssl_name localhost;"),
        &format!("push rtmps://127.0.0.1:{port}/app;"),
    );
    let _publisher = assert_relayed(&named, &b);
    for ng in [&no_sni, &sni, &named, &b] {
        ng.assert_no_alerts();
    }
}

/// /control/push/start with an rtmps:// url starts a TLS relay at run time; stop ends it.
#[test]
fn control_push_start_rtmps() {
    let pki = Pki::new();
    let r = Receiver::start(&pki.file("server.crt"), &pki.file("server.key"));
    let a = source(
        &format!("rtmp_relay_ssl_trusted_certificate {};", pki.file("ca.crt")),
        "",
    );
    let _publisher = publish_ffmpeg(&a.rtmp_url("live", "x"), 40);
    assert!(wait_publishing(&a, "live", "x", Duration::from_secs(15)).is_some());
    let url = format!("rtmps://127.0.0.1:{}/app", r.tls_port);
    let control = |what: &str| {
        http_get(
            &a.http_url(&format!("/control/push/{what}?app=live&name=x&url={url}")),
            Duration::from_secs(10),
        )
        .unwrap()
    };
    assert_eq!(control("start"), (200, "1".to_string()));
    assert!(
        wait_publishing(&r.ng, "app", "x", Duration::from_secs(15)).is_some(),
        "{}",
        a.error_log_tail(20)
    );
    let played = play_count_frames(&r.ng.rtmp_url("app", "x"), 4.0);
    assert_decoded("player on the receiver", &played, 4.0);
    assert_eq!(control("stop"), (200, "1".to_string()));
    let gone = wait_for(Duration::from_secs(10), || {
        stat_stream(&r.ng, "app", "x").is_none().then_some(())
    });
    assert!(gone.is_some(), "the relay did not stop");
    a.assert_no_alerts();
    r.ng.assert_no_alerts();
}

/// nginx-conf/facebook.conf: `nginx -t` takes it as written (its host replaced by localhost
/// when this machine cannot resolve it: the module resolves push hosts at startup), and run
/// with its target pointed at a local TLS receiver it pushes `live/KEY` to `rtmp/KEY`.
#[test]
fn facebook_example_config() {
    let text = fs::read_to_string(repo_root().join("nginx-conf/facebook.conf")).unwrap();
    let host = "live-api-s.facebook.com";
    assert!(text.contains(&format!("push rtmps://{host}:443/rtmp/;")));
    let directives: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert!(
        !directives
            .iter()
            .any(|l| l.contains("exec_push") || l.contains("19350")),
        "the stunnel chain is still configured"
    );
    let so_line = "load_module ../build/ngx_rtmp_module.so;";
    let resolvable = std::net::ToSocketAddrs::to_socket_addrs(&(host, 443)).is_ok();
    let mut as_written = text.replace(so_line, "load_module {so};");
    if !resolvable {
        eprintln!("{host} does not resolve here: nginx -t runs with localhost in its place");
        as_written = as_written.replace(host, "localhost");
    }
    let t = nginx_t_full(&as_written);
    assert!(t.ok, "nginx -t facebook.conf: {}", t.stderr);

    // Run it: the Facebook ingest is a local receiver at localhost:PORT/rtmp trusting the
    // test CA; ports, logs and paths as tests/reference.rs replaces them.
    let pki = Pki::new();
    let receiver = {
        let tls_port = free_port();
        let mut opts = NginxOpts::new(&format!(
            "server {{\n listen 127.0.0.1:{{rtmp_port}};\n listen 127.0.0.1:{tls_port} ssl;\n\
             ssl_certificate {};\n ssl_certificate_key {};\n\
             application rtmp {{ live on; }}\n}}\n",
            pki.file("server.crt"),
            pki.file("server.key")
        ));
        opts.http_server_extra = STAT_LOCATION.to_string();
        Receiver {
            ng: Nginx::start_opts(opts),
            tls_port,
        }
    };
    let dir = temp_dir("facebook");
    for d in ["logs", "streams", "recordings", "html"] {
        fs::create_dir_all(dir.join(d)).unwrap();
        fs::set_permissions(
            dir.join(d),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
    }
    let (rtmp, http) = (free_port(), free_port());
    let conf = text
        .replace(so_line, &format!("load_module {};", module_so().display()))
        .replace(
            "error_log /dev/stderr debug;",
            &format!("error_log {}/error.log info;", dir.display()),
        )
        .replace("access_log /dev/stdout;", "access_log off;")
        .replace("listen 1935;", &format!("listen 127.0.0.1:{rtmp};"))
        .replace("listen [::]:1935 ipv6only=on;", "")
        .replace("listen 8080;", &format!("listen 127.0.0.1:{http};"))
        .replace(
            &format!("{host}:443"),
            &format!("localhost:{}", receiver.tls_port),
        )
        .replace(
            "rtmp_relay_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;",
            &format!("rtmp_relay_ssl_trusted_certificate {};", pki.file("ca.crt")),
        );
    fs::write(dir.join("nginx.conf"), &conf).unwrap();
    let mut cmd = Command::new(nginx_bin());
    cmd.arg("-p")
        .arg(format!("{}/", dir.display()))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-g")
        .arg(format!("daemon off; pid {}/nginx.pid;", dir.display()));
    let _master = Master(Some(ChildGuard::spawn(cmd)));
    let up = wait_for(Duration::from_secs(10), || {
        port_listening(rtmp).then_some(())
    });
    assert!(
        up.is_some(),
        "facebook.conf did not start: {}",
        fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
    let key = "FB-1234567890-0-Abc";
    let _publisher = publish_ffmpeg(&format!("rtmp://127.0.0.1:{rtmp}/live/{key}"), 30);
    let arrived = wait_publishing(&receiver.ng, "rtmp", key, Duration::from_secs(20));
    let log = fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    assert!(arrived.is_some(), "nothing reached rtmp/{key}:\n{log}");
    let r = play_count_frames(&receiver.ng.rtmp_url("rtmp", key), 4.0);
    assert_decoded("the Facebook stand-in", &r, 4.0);
    assert!(
        log.contains("relay: push TLS: TLSv1.3") && log.contains("certificate verified"),
        "{log}"
    );
    let _ = fs::remove_dir_all(&dir);
}
