//! A module built for one nginx version, loaded into another, is refused with nginx's own
//! message (`module "…" version 1022001 instead of 1028003`), and each nginx loads the module
//! built for it. The pairs (nginx binary, module built for it) are Debian's
//! (/usr/sbin/nginx, build/ngx_rtmp_module.so) and the vendored 1.28's (the binary
//! scripts/check-vendored builds under target/vendored, build/vendored/ngx_rtmp_module.so),
//! or `NGX_RTMP_VERSION_PAIRS="BIN=SO,BIN=SO"`. With fewer than two versions at hand the test
//! says what is missing and passes.

use ngx_rtmp_tests::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// nginx's version number (`nginx_version`, e.g. 1028003) from `nginx -v`.
fn version_number(nginx: &Path) -> u64 {
    let mut cmd = Command::new(nginx);
    cmd.arg("-v");
    let out = run_bounded(cmd, Duration::from_secs(10));
    let text = out.stderr + &out.stdout;
    let v = text
        .split("nginx/")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("{} -v said: {}", nginx.display(), text));
    let parts: Vec<u64> = v.split('.').map(|p| p.parse().unwrap()).collect();
    assert_eq!(parts.len(), 3, "{}", v);
    parts[0] * 1_000_000 + parts[1] * 1_000 + parts[2]
}

/// The newest nginx binary nginx-sys built from the vendored source.
fn vendored_nginx() -> Option<PathBuf> {
    let build = repo_root().join("target/vendored/release/build");
    fs::read_dir(build)
        .ok()?
        .flatten()
        .map(|e| e.path().join("out/objs/nginx"))
        .filter(|p| p.is_file())
        .max_by_key(|p| fs::metadata(p).and_then(|m| m.modified()).ok())
}

fn pairs() -> (Vec<(PathBuf, PathBuf)>, Vec<String>) {
    if let Some(v) = std::env::var_os("NGX_RTMP_VERSION_PAIRS") {
        let v = v.to_string_lossy().to_string();
        let p = v
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                let (bin, so) = s.split_once('=').expect("BIN=SO");
                (PathBuf::from(bin), PathBuf::from(so))
            })
            .collect();
        return (
            p,
            vec!["(NGX_RTMP_VERSION_PAIRS names fewer than two versions)".into()],
        );
    }
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let debian = (
        PathBuf::from("/usr/sbin/nginx"),
        repo_root().join("build/ngx_rtmp_module.so"),
    );
    let vendored =
        vendored_nginx().map(|bin| (bin, repo_root().join("build/vendored/ngx_rtmp_module.so")));
    match vendored {
        Some(p) if p.1.is_file() => found.push(p),
        _ => missing.push(
            "the vendored nginx 1.28 and its module (scripts/check-vendored builds both)".into(),
        ),
    }
    if debian.0.is_file() && debian.1.is_file() {
        found.push(debian);
    } else {
        missing.push("/usr/sbin/nginx and build/ngx_rtmp_module.so (scripts/build)".into());
    }
    (found, missing)
}

/// `nginx -t` of `bin` on a minimal config that loads `so`.
fn load(bin: &Path, so: &Path) -> (bool, String) {
    let dir = temp_dir("versions");
    fs::create_dir_all(dir.join("logs")).unwrap();
    let conf = format!(
        "load_module {so};\nerror_log {d}/error.log info;\npid {d}/nginx.pid;\nevents {{}}\n\
         rtmp {{ server {{ listen 127.0.0.1:1; application live {{ live on; }} }} }}\n",
        so = so.display(),
        d = dir.display()
    );
    fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("-t")
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"));
    let out = run_bounded(cmd, Duration::from_secs(20));
    let _ = fs::remove_dir_all(&dir);
    (out.success(), out.stderr)
}

#[test]
fn a_module_for_another_nginx_version_is_refused_with_nginx_s_message() {
    let (pairs, missing) = pairs();
    let versions: Vec<u64> = pairs.iter().map(|(bin, _)| version_number(bin)).collect();
    let mut distinct = versions.clone();
    distinct.sort();
    distinct.dedup();
    if distinct.len() < 2 {
        eprintln!(
            "SKIPPED: needs modules for two nginx versions; missing: {}",
            missing.join("; ")
        );
        return;
    }
    for (i, (bin, so)) in pairs.iter().enumerate() {
        let (ok, stderr) = load(bin, so);
        assert!(
            ok,
            "{} does not load the module built for it ({}):\n{}",
            bin.display(),
            so.display(),
            stderr
        );
        for (j, (_, other)) in pairs.iter().enumerate() {
            if versions[j] == versions[i] {
                continue;
            }
            let (ok, stderr) = load(bin, other);
            let want = format!(
                "module \"{}\" version {} instead of {}",
                other.display(),
                versions[j],
                versions[i]
            );
            assert!(
                !ok && stderr.contains(&want),
                "{} loading {}: want a failure saying {:?}, got:\n{}",
                bin.display(),
                other.display(),
                want,
                stderr
            );
        }
    }
}
