//! The exec family with real processes: exec_push relaying to a second server with ffmpeg,
//! hostile stream names arriving as one argument with nothing run, respawn, children that
//! die with their stream and with the worker, exec_pull as a pull source, the one-shot
//! notifications with their variables, redirections, and exec_static.

use ngx_rtmp_tests::media::*;
use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Writes an executable script. Its directory is the test prefix, which the workers' user
/// (nobody) can write.
fn script(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A script that appends its arguments, each in brackets, as one line of `out` (one write,
/// so lines of commands running at once do not mix).
fn argv_script(path: &Path, out: &Path) {
    script(
        path,
        &format!(
            "line=$(printf '[%s]' \"$@\")\necho \"$line\" >> {}",
            out.display()
        ),
    );
}

/// Processes whose command line contains `needle`.
fn procs_with(needle: &str) -> Vec<i32> {
    let mut v = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains(needle) && pid != std::process::id() as i32 {
            // Zombies have an empty cmdline; they would not match.
            v.push(pid);
        }
    }
    v.sort();
    v
}

fn wait_procs(needle: &str, want_some: bool, limit: Duration) -> Vec<i32> {
    let t0 = Instant::now();
    loop {
        let v = procs_with(needle);
        if v.is_empty() != want_some || t0.elapsed() > limit {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The exec directives are active: the start-up warning about inactive ones does not
/// name them.
fn assert_exec_active(ng: &Nginx) {
    let log = ng.error_log();
    let warned: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("no effect yet"))
        .collect();
    assert!(
        warned
            .iter()
            .all(|l| !l.contains("exec") && !l.contains("respawn")),
        "{warned:?}"
    );
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn wait_lines(path: &Path, n: usize, limit: Duration) -> Vec<String> {
    wait_for(limit, || Some(lines(path)).filter(|l| l.len() >= n)).unwrap_or_else(|| lines(path))
}

/// The reference config's exec_push (ffmpeg pulling the stream from this server and
/// publishing it to another) runs as written: a player on the second server gets the stream.
/// The ffmpeg child dies with the stream, and nothing alarming is logged.
#[test]
fn exec_push_relays_with_ffmpeg_to_a_second_server() {
    let second = Nginx::start(&simple_rtmp("app", "live on;"));
    let port2 = second.rtmp_port;
    let ng = Nginx::start(&simple_rtmp(
        "live",
        &format!(
            "live on;\n\
             exec_push ffmpeg -i rtmp://127.0.0.1:{{rtmp_port}}/live/$name -c copy -f flv \
             rtmp://127.0.0.1:{port2}/app/$name;"
        ),
    ));
    let publisher = publish_ffmpeg(&ng.rtmp_url("live", "cam"), 30);
    let relayed = second.rtmp_url("app", "cam");
    let started = wait_for(Duration::from_secs(10), || {
        ng.error_log()
            .lines()
            .find(|l| l.contains("exec: started \"ffmpeg\" pid"))
            .map(str::to_string)
    })
    .unwrap_or_else(|| panic!("no exec start logged:\n{}", ng.error_log_tail(30)));
    eprintln!("{started}");
    let pid: i32 = started
        .split("pid ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("pid in the start line");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut played = None;
    while Instant::now() < deadline {
        let r = play_count_frames(&relayed, 3.0);
        if r.video_frames > 0 {
            played = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let played = played.unwrap_or_else(|| {
        panic!(
            "no video relayed to the second server\nfirst:\n{}\nsecond:\n{}",
            ng.error_log_tail(30),
            second.error_log_tail(30)
        )
    });
    eprintln!("relayed: {played:?}");
    assert!(
        pid_alive(pid),
        "the exec_push ffmpeg is gone while the stream lives"
    );
    drop(publisher);
    let gone = wait_for(Duration::from_secs(3), || (!pid_alive(pid)).then_some(()));
    assert!(gone.is_some(), "ffmpeg pid {pid} outlived its stream");
    let log = ng.error_log();
    assert!(
        log.contains(&format!("exec: killing \"ffmpeg\" pid {pid}")),
        "{}",
        ng.error_log_tail(30)
    );
    ng.assert_no_alerts();
    second.assert_no_alerts();
}

/// Stream names and queries full of shell syntax reach the command as one argument each,
/// and no shell runs them: the marker files they would create never appear. A name with a
/// `/` is refused before any command runs.
#[test]
fn hostile_names_are_one_argument_and_run_nothing() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on;\n\
         respawn off;\n\
         exec_publish {tmp}/argv.sh publish $name $args;\n\
         exec_push {tmp}/argv.sh push $name;",
    ));
    let out = ng.file("argv.log");
    argv_script(&ng.file("argv.sh"), &out);
    let worker = ng.worker_pids()[0];
    let cwd = fs::read_link(format!("/proc/{worker}/cwd")).unwrap();
    let tmp = ng.dir.display().to_string();
    let names = [
        "x;touch pwn",
        "$(touch pwn2)",
        "`touch pwn3`",
        "a b|touch pwn4&&touch pwn5>pwn6",
        "'\"; touch pwn7 #",
        "$name${app}x",
    ];
    // Each publisher stays until both commands have written their line (the push command
    // is killed when its publisher leaves). The query is one argument too.
    for (i, name) in names
        .iter()
        .copied()
        .chain(["q?k=$(touch pwn8);touch pwn9"])
        .enumerate()
    {
        let mut c = RtmpClient::connect(ng.rtmp_addr(), "live").unwrap();
        c.publish(name)
            .unwrap_or_else(|e| panic!("publish {name:?}: {e:?}"));
        let n = wait_lines(&out, 2 * (i + 1), Duration::from_secs(10)).len();
        assert_eq!(n, 2 * (i + 1), "{name:?}: {}", ng.error_log_tail(10));
        drop(c);
    }
    // A name with a slash never gets this far.
    let mut c = RtmpClient::connect(ng.rtmp_addr(), "live").unwrap();
    let slash = format!("x;touch {tmp}/pwn10");
    assert!(c.publish(&slash).is_err(), "a name with / was accepted");
    drop(c);
    let got = wait_lines(&out, 2 * names.len() + 2, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    let got_all = lines(&out);
    eprintln!("{got_all:#?}");
    assert_eq!(got.len(), got_all.len());
    for name in names {
        for kind in ["publish", "push"] {
            let want = if kind == "publish" {
                format!("[publish][{name}][]")
            } else {
                format!("[push][{name}]")
            };
            assert_eq!(
                got_all.iter().filter(|l| **l == want).count(),
                1,
                "{want} not found once in {got_all:#?}"
            );
        }
    }
    assert!(got_all.contains(&"[publish][q][k=$(touch pwn8);touch pwn9]".to_string()));
    assert!(!got_all.iter().any(|l| l.contains("pwn10")));
    assert_eq!(got_all.len(), 2 * names.len() + 2);
    for dir in [cwd.as_path(), ng.dir.as_path(), Path::new("/")] {
        for i in 1..=10 {
            let p = dir.join(format!("pwn{i}"));
            assert!(!p.exists(), "{} exists: a shell ran", p.display());
        }
    }
    ng.assert_no_alerts();
}

/// A supervised child that exits is started again after respawn_timeout, as long as its
/// stream lives; with `respawn off` it is not.
#[test]
fn a_child_that_exits_is_respawned() {
    // `\$` keeps `$$` from being read as a variable: sh sees `echo $$`.
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on;\n\
         respawn_timeout 1s;\n\
         exec sh -c 'echo \\$\\$ >> {tmp}/pids; sleep 1';",
    ));
    let pids = ng.file("pids");
    let mut c = RtmpClient::connect(ng.rtmp_addr(), "live").unwrap();
    c.publish("r").unwrap();
    let got = wait_lines(&pids, 3, Duration::from_secs(10));
    let distinct: std::collections::BTreeSet<&String> = got.iter().collect();
    eprintln!("pids: {got:?}");
    assert!(
        distinct.len() >= 3,
        "not respawned: {got:?}\n{}",
        ng.error_log_tail(20)
    );
    let log = ng.error_log();
    assert!(
        log.contains("exited with code 0, respawning in 1000 ms"),
        "{log}"
    );
    drop(c);
    std::thread::sleep(Duration::from_millis(1500));
    let n = lines(&pids).len();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(lines(&pids).len(), n, "respawned after the stream ended");
    ng.assert_no_alerts();

    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on;\n\
         respawn off;\n\
         respawn_timeout 100ms;\n\
         exec sh -c 'echo \\$\\$ >> {tmp}/pids';\n",
    ));
    let mut c = RtmpClient::connect(ng.rtmp_addr(), "live").unwrap();
    c.publish("r").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        lines(&ng.file("pids")).len(),
        1,
        "respawned with respawn off"
    );
    assert_exec_active(&ng);
    drop(c);
    ng.assert_no_alerts();
}

/// The child (and what it started) is killed when the publisher leaves: gone within 2 s.
#[test]
fn the_child_dies_with_its_stream() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on;\n\
         exec_kill_signal term;\n\
         exec {tmp}/child.sh;",
    ));
    let marker = format!("{}", 700_000 + ng.rtmp_port as u32);
    script(
        &ng.file("child.sh"),
        &format!("sleep {marker} &\nsleep {marker}1 &\nwait"),
    );
    let child = ng.file("child.sh").display().to_string();
    let mut c = RtmpClient::connect(ng.rtmp_addr(), "live").unwrap();
    c.publish("d").unwrap();
    // Both sleeps: the second one starts a moment after the first.
    wait_procs(&format!("sleep {marker}1"), true, Duration::from_secs(5));
    let running = procs_with(&format!("sleep {marker}"));
    assert_eq!(running.len(), 2, "the child did not start its sleeps");
    assert_eq!(procs_with(&child).len(), 1);
    c.stop_publishing().unwrap();
    let t0 = Instant::now();
    let left = wait_procs(&format!("sleep {marker}"), false, Duration::from_secs(2));
    assert!(left.is_empty(), "still running after unpublish: {left:?}");
    assert!(wait_procs(&child, false, Duration::from_secs(2)).is_empty());
    eprintln!("gone after {:?}", t0.elapsed());
    // The worker logs the reaping when it reads the signalfd, a moment after the exit.
    let reaped = wait_for(Duration::from_secs(3), || {
        ng.error_log()
            .contains("was killed by signal 15")
            .then_some(())
    });
    let log = ng.error_log();
    assert!(
        log.contains("with signal 15 (exec_push live/d: publisher left)"),
        "{log}"
    );
    assert!(reaped.is_some(), "{log}");
    assert_exec_active(&ng);
    drop(c);
    ng.assert_no_alerts();
}

/// exec_static runs once at start for the worker's life; `nginx -s quit` leaves no child
/// behind (static, push, or what they started), and the static one goes as soon as the
/// worker starts shutting down.
#[test]
fn quit_leaves_no_orphan() {
    // The scripts exist before nginx starts (exec_static runs at once), in a directory of
    // their own whose path marks every process they start.
    let dir = temp_dir("exec-quit");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let tmp = dir.display().to_string();
    let m = 800_000 + std::process::id() % 100_000;
    script(&dir.join("static.sh"), &format!("sleep {m}1 &\nwait"));
    script(&dir.join("push.sh"), &format!("sleep {m}2 &\nwait"));
    let mut ng = Nginx::start(&simple_rtmp(
        "live",
        &format!(
            "live on;\n\
             exec_static {tmp}/static.sh;\n\
             exec_push {tmp}/push.sh $name;"
        ),
    ));
    let statics = wait_procs(&format!("sleep {m}1"), true, Duration::from_secs(5));
    assert_eq!(statics.len(), 1, "{}", ng.error_log_tail(20));
    let mut c = RtmpClient::connect(ng.rtmp_addr(), "live").unwrap();
    c.publish("q").unwrap();
    assert_eq!(
        wait_procs(&format!("sleep {m}2"), true, Duration::from_secs(5)).len(),
        1
    );
    assert_eq!(procs_with(&tmp).len(), 2, "one static and one push script");
    // Quit while the publisher is still connected: the session drains, the static goes.
    signal(ng.master_pid(), libc::SIGQUIT);
    assert!(
        wait_procs(&format!("sleep {m}1"), false, Duration::from_secs(2)).is_empty(),
        "exec_static outlived the start of the shutdown"
    );
    assert_eq!(procs_with(&format!("sleep {m}2")).len(), 1);
    drop(c);
    assert!(
        ng.quit(Duration::from_secs(10)).is_some(),
        "nginx did not quit"
    );
    let left = wait_procs(&tmp, false, Duration::from_secs(2));
    assert!(left.is_empty(), "orphans after quit: {left:?}");
    assert!(procs_with(&format!("sleep {m}")).is_empty());
    let log = ng.error_log();
    assert!(log.contains("exec: started \"") && log.contains("(exec_static)"));
    ng.assert_no_alerts();
}

/// A worker killed outright takes its supervised children with it (PR_SET_PDEATHSIG), and
/// the worker nginx starts in its place runs exec_static again.
#[test]
fn a_killed_worker_leaves_no_orphan() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on;\n\
         exec_static sleep 9{rtmp_port}3;",
    ));
    let marker = format!("sleep 9{}3", ng.rtmp_port);
    let first = wait_procs(&marker, true, Duration::from_secs(5));
    assert_eq!(first.len(), 1);
    let worker = ng.worker_pids()[0];
    signal(worker, libc::SIGKILL);
    let gone = wait_for(Duration::from_secs(2), || {
        (!pid_alive(first[0])).then_some(())
    });
    assert!(gone.is_some(), "the static child outlived its worker");
    let again = wait_for(Duration::from_secs(5), || {
        Some(procs_with(&marker)).filter(|v| v.len() == 1 && v[0] != first[0])
    });
    assert!(again.is_some(), "the new worker did not start exec_static");
}

/// exec_pull starts when a stream nobody publishes is played and stops with the last
/// player: here it publishes a test pattern into the stream, which the player receives.
#[test]
fn exec_pull_feeds_the_stream_its_players_want() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on;\n\
         exec_pull ffmpeg -re -f lavfi -i testsrc2=size=320x240:rate=25 -c:v libx264 \
         -preset ultrafast -g 25 -f flv rtmp://127.0.0.1:{rtmp_port}/live/$name;\n\
         exec_play {tmp}/argv.sh play $name $app $addr;\n\
         exec_play_done {tmp}/argv.sh play_done $name;",
    ));
    argv_script(&ng.file("argv.sh"), &ng.file("argv.log"));
    let played = play_count_frames(&ng.rtmp_url("live", "pulled"), 6.0);
    eprintln!("{played:?}");
    assert!(
        played.video_frames > 0,
        "nothing pulled: {}",
        ng.error_log_tail(30)
    );
    let log = ng.error_log();
    let started: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("exec: started \"ffmpeg\"") && l.contains("exec_pull live/pulled"))
        .collect();
    assert_eq!(started.len(), 1, "{log}");
    let killed = wait_for(Duration::from_secs(5), || {
        ng.error_log()
            .contains("exec_pull live/pulled: last player left")
            .then_some(())
    });
    assert!(killed.is_some(), "{}", ng.error_log_tail(20));
    assert!(wait_procs("testsrc2=size=320x240", false, Duration::from_secs(3)).is_empty());
    let got = wait_lines(&ng.file("argv.log"), 2, Duration::from_secs(5));
    assert!(
        got.contains(&"[play][pulled][live][127.0.0.1]".to_string()),
        "{got:?}"
    );
    assert!(got.contains(&"[play_done][pulled]".to_string()), "{got:?}");
    ng.assert_no_alerts();
}

/// exec_publish, exec_publish_done and exec_record_done run once each with their
/// variables; exec_record_done gets the file each recorder closed (a recorder block with
/// its own command runs it, then the application's).
#[test]
fn notifications_run_once_with_their_variables() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on;\n\
         record all;\n\
         record_path {tmp}/rec;\n\
         exec_publish {tmp}/argv.sh publish $name $args $app $addr $flashver $tcurl;\n\
         exec_publish_done {tmp}/argv.sh publish_done $name;\n\
         exec_record_done {tmp}/argv.sh record_done $recorder $path $filename $basename $dirname;\n\
         recorder r2 {\n\
             record all;\n\
             record_path {tmp}/rec2;\n\
             exec_record_done {tmp}/argv.sh r2_done $recorder $basename;\n\
         }",
    ));
    let out = ng.file("argv.log");
    argv_script(&ng.file("argv.sh"), &out);
    let publisher = publish_ffmpeg(&format!("{}?token=abc", ng.rtmp_url("live", "cam")), 3);
    let ended = publisher.wait_bounded(Duration::from_secs(20));
    assert!(ended.success(), "{}", ended.stderr);
    let got = wait_lines(&out, 5, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    let got_all = lines(&out);
    eprintln!("{got_all:#?}");
    assert_eq!(got.len(), got_all.len());
    assert_eq!(got_all.len(), 5, "{got_all:#?}");
    let tmp = ng.dir.display().to_string();
    let publish = got_all.iter().find(|l| l.starts_with("[publish]")).unwrap();
    assert!(
        publish.starts_with("[publish][cam][token=abc][live][127.0.0.1][FMLE/3.0")
            && publish.ends_with(&format!("][rtmp://127.0.0.1:{}/live]", ng.rtmp_port)),
        "{publish}"
    );
    assert!(got_all.contains(&"[publish_done][cam]".to_string()));
    // The application's recorder (no name); r2's line may come first.
    let rec = got_all
        .iter()
        .find(|l| l.starts_with("[record_done][]"))
        .unwrap_or_else(|| panic!("no record_done of the application's recorder: {got_all:#?}"));
    let fields: Vec<&str> = rec
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split("][")
        .collect();
    assert_eq!(fields[1], "", "the application's recorder has no name");
    let path = Path::new(fields[2]);
    assert!(path.is_file(), "{rec}");
    assert_eq!(fields[2], format!("{tmp}/rec/cam.flv"));
    assert_eq!(fields[3], "cam.flv");
    assert_eq!(fields[4], "cam");
    assert_eq!(fields[5], format!("{tmp}/rec"));
    // r2 runs its own command and the application's.
    assert!(
        got_all.contains(&"[r2_done][r2][cam]".to_string()),
        "{got_all:#?}"
    );
    let r2 = format!("[record_done][r2][{tmp}/rec2/cam.flv][cam.flv][cam][{tmp}/rec2]");
    assert!(got_all.contains(&r2), "{got_all:#?}");
    assert_exec_active(&ng);
    ng.assert_no_alerts();
}

/// Redirections in the config text apply to the child's descriptors (as in nginx-rtmp);
/// a missing program is an error line and the stream goes on.
#[test]
fn redirections_and_missing_programs() {
    let ng = Nginx::start(&simple_rtmp(
        "live",
        "live on;\n\
         exec_publish echo hello $name >{tmp}/echo-$name.txt;\n\
         exec_publish sh -c 'echo out; echo err >&2' >>{tmp}/both.txt 2>&1;\n\
         exec_publish /nonexistent/program $name;",
    ));
    let mut c = RtmpClient::connect(ng.rtmp_addr(), "live").unwrap();
    c.publish("n1").unwrap();
    let echo = ng.file("echo-n1.txt");
    let text = wait_for(Duration::from_secs(5), || {
        fs::read_to_string(&echo).ok().filter(|t| !t.is_empty())
    });
    assert_eq!(text.as_deref(), Some("hello n1\n"));
    let both = wait_for(Duration::from_secs(5), || {
        fs::read_to_string(ng.file("both.txt"))
            .ok()
            .filter(|t| t.lines().count() == 2)
    });
    assert_eq!(both.as_deref(), Some("out\nerr\n"));
    let log = ng.error_log();
    assert!(
        log.lines().any(|l| l.contains("[error]")
            && l.contains("exec: \"/nonexistent/program\" failed to start")
            && l.contains("No such file or directory")),
        "{log}"
    );
    // The session is unharmed.
    c.send_video(0, &[0x17, 0, 0, 0, 0]).unwrap();
    assert!(!c.closed_within(Duration::from_millis(300)));
    ng.assert_no_alerts();
}

/// Redirection mistakes fail `nginx -t` with the file and line.
#[test]
fn bad_redirections_fail_the_config_test() {
    for (bad, why) in [
        ("3>x", "only 0, 1 and 2 can be redirected"),
        ("2>", "no file name"),
        ("1>&9", "only 0, 1 and 2 can be duplicated"),
    ] {
        let conf = format!(
            "load_module {{so}};\nevents {{}}\nrtmp {{ server {{ listen 127.0.0.1:1; \
             application a {{ exec_push ffmpeg {bad}; }} }} }}\n"
        );
        let (ok, err) = nginx_t(&conf);
        assert!(!ok, "{bad} accepted");
        assert!(
            err.contains(&format!(
                "invalid redirection \"{bad}\" in \"exec_push\" directive: {why}"
            )) && err.contains("nginx.conf:"),
            "{err}"
        );
    }
}

/// After a reload exactly one exec_static runs: the new worker's; the old worker stops its
/// own as soon as it starts shutting down.
#[test]
fn reload_hands_exec_static_to_the_new_worker() {
    let mut ng = Nginx::start(&simple_rtmp(
        "live",
        "live on;\n\
         exec_static sleep 9{rtmp_port}4;",
    ));
    let marker = format!("sleep 9{}4", ng.rtmp_port);
    let first = wait_procs(&marker, true, Duration::from_secs(5));
    assert_eq!(first.len(), 1);
    ng.reload();
    let swapped = wait_for(Duration::from_secs(10), || {
        Some(procs_with(&marker)).filter(|v| v.len() == 1 && v[0] != first[0])
    });
    assert!(
        swapped.is_some(),
        "{:?}\n{}",
        procs_with(&marker),
        ng.error_log_tail(20)
    );
    assert!(ng
        .error_log()
        .contains("(exec_static: worker is shutting down)"));
    ng.assert_no_alerts();
}
