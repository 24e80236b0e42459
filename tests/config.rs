//! `nginx -t` on good and bad configurations.

use ngx_rtmp_tests::*;
use regex::Regex;

/// The users' reference configuration (tests/fixtures/reference-nginx.conf, a copy of
/// shared/reference/nginx.conf) with only the load_module line and filesystem paths changed
/// passes `nginx -t`.
#[test]
fn reference_config_passes() {
    let src = include_str!("fixtures/reference-nginx.conf");
    let mut conf = src.to_string();
    for (from, to) in [
        (
            "error_log /dev/stderr debug;",
            "error_log {tmp}/error.log debug;",
        ),
        ("access_log /dev/stdout;", "access_log {tmp}/access.log;"),
        ("include mime.types;", "include /etc/nginx/mime.types;"),
        ("/app/streams/", "{tmp}/streams/"),
        ("/app/recordings/", "{tmp}/recordings/"),
        ("/usr/local/nginx/html/stat.xsl", "{tmp}/html/stat.xsl"),
    ] {
        assert!(
            conf.contains(from),
            "reference config changed: no {:?}",
            from
        );
        conf = conf.replace(from, to);
    }
    let conf = format!("load_module {{so}};\n{}", conf);
    let r = nginx_t_full(&conf);
    assert!(r.ok, "reference config fails nginx -t:\n{}", r.stderr);
    assert!(r.stderr.contains("syntax is ok"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&r.dir);
}

/// Build a config with `line` at a known line number inside `where_`:
/// "main", "rtmp", "server", "app" or "http". Returns (config text, line number).
fn conf_with(where_: &str, line: &str) -> (String, usize) {
    let mut l: Vec<String> = vec![
        "load_module {so};".into(),
        "error_log {tmp}/error.log info;".into(),
        "events { }".into(),
    ];
    let mut at = 0;
    let mut push = |l: &mut Vec<String>, s: &str, here: bool| {
        l.push(s.to_string());
        if here {
            at = l.len();
        }
    };
    if where_ == "main" {
        push(&mut l, line, true);
    }
    push(&mut l, "http {", false);
    if where_ == "http" {
        push(&mut l, line, true);
    }
    push(&mut l, "}", false);
    push(&mut l, "rtmp {", false);
    if where_ == "rtmp" {
        push(&mut l, line, true);
    }
    push(&mut l, "    server {", false);
    if where_ == "listen" {
        push(&mut l, line, true);
    } else {
        push(&mut l, "        listen 127.0.0.1:1935;", false);
    }
    if where_ == "server" {
        push(&mut l, line, true);
    }
    push(&mut l, "        application live {", false);
    if !(where_ == "app" && line.trim_start().starts_with("live ")) {
        push(&mut l, "            live on;", false);
    }
    if where_ == "app" {
        push(&mut l, line, true);
    }
    push(&mut l, "        }", false);
    push(&mut l, "    }", false);
    push(&mut l, "}", false);
    (l.join("\n") + "\n", at)
}

/// Run `nginx -t` on a config with one bad line and check it fails with
/// `nginx: [emerg] <message matching msg_re> in <conf path>:<line>`.
fn expect_emerg(where_: &str, line: &str, msg_re: &str) {
    let (conf, at) = conf_with(where_, line);
    let r = nginx_t_full(&conf);
    eprintln!("{:?} -> {}", line, r.stderr.lines().next().unwrap_or(""));
    assert!(!r.ok, "nginx -t accepted {:?}:\n{}", line, r.stderr);
    let re = Regex::new(&format!(
        r"nginx: \[emerg\] {} in {}:{}\b",
        msg_re,
        regex::escape(&r.conf_path.display().to_string()),
        at
    ))
    .unwrap();
    assert!(
        re.is_match(&r.stderr),
        "nginx -t output for {:?} does not match /{}/:\n{}",
        line,
        re.as_str(),
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&r.dir);
}

#[test]
fn baseline_config_passes() {
    let (conf, _) = conf_with("app", "# nothing");
    let r = nginx_t_full(&conf);
    assert!(r.ok, "{}", r.stderr);
}

#[test]
fn live_flag_must_be_on_or_off() {
    expect_emerg(
        "app",
        "live maybe;",
        &regex::escape(r#"invalid value "maybe" in "live" directive, it must be "on" or "off""#),
    );
}

#[test]
fn chunk_size_must_be_a_number() {
    expect_emerg(
        "server",
        "chunk_size abc;",
        &regex::escape(r#""chunk_size" directive invalid number"#),
    );
}

/// Stricter than the C module (which accepts `chunk_size 0;`): a zero chunk size cannot work.
#[test]
fn chunk_size_zero_is_rejected() {
    expect_emerg("server", "chunk_size 0;", r#".*"chunk_size".*"#);
}

#[test]
fn chunk_size_not_allowed_in_application() {
    expect_emerg(
        "app",
        "chunk_size 4096;",
        &regex::escape(r#""chunk_size" directive is not allowed here"#),
    );
}

#[test]
fn allow_with_bad_address() {
    // The C module's text is `invalid parameter "publish"` (it names the wrong token);
    // naming the bad address is also accepted.
    expect_emerg(
        "app",
        "allow publish 999.1.1.1;",
        r#"invalid parameter "(publish|999\.1\.1\.1)""#,
    );
    expect_emerg(
        "app",
        "deny play 10.0.0.0/99;",
        r#"invalid parameter "(play|10\.0\.0\.0/99)""#,
    );
}

#[test]
fn listen_with_bad_port() {
    expect_emerg(
        "listen",
        "        listen 99999;",
        &regex::escape(r#"invalid port in "99999" of the "listen" directive"#),
    );
    expect_emerg(
        "listen",
        "        listen 127.0.0.1:99999;",
        &regex::escape(r#"invalid port in "127.0.0.1:99999" of the "listen" directive"#),
    );
}

#[test]
fn push_with_non_rtmp_url() {
    // C module: `invalid port in url "ftp://x"`; any message naming the url is accepted.
    expect_emerg("app", "push ftp://x;", r#".*"ftp://x".*"#);
}

#[test]
fn unknown_directive() {
    expect_emerg(
        "app",
        "foo 1;",
        &regex::escape(r#"unknown directive "foo""#),
    );
    expect_emerg(
        "server",
        "foo 1;",
        &regex::escape(r#"unknown directive "foo""#),
    );
    expect_emerg(
        "rtmp",
        "foo 1;",
        &regex::escape(r#"unknown directive "foo""#),
    );
}

#[test]
fn rtmp_directive_at_http_level() {
    expect_emerg(
        "http",
        "live on;",
        &regex::escape(r#""live" directive is not allowed here"#),
    );
    expect_emerg(
        "main",
        "live on;",
        &regex::escape(r#""live" directive is not allowed here"#),
    );
}

#[test]
fn size_and_time_values() {
    expect_emerg(
        "server",
        "ping 5x;",
        &regex::escape(r#""ping" directive invalid value"#),
    );
    expect_emerg(
        "server",
        "max_message abc;",
        &regex::escape(r#""max_message" directive invalid value"#),
    );
}
