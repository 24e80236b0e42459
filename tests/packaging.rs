//! The ways users install the module: scripts/install (Debian's libnginx-mod layout), nginx's
//! own build system (`config`) and the Docker image (Dockerfile, nginx-conf/docker.conf).
//! The builds themselves run in scripts/check-nginx-build and scripts/docker-smoke; these tests
//! keep the files that describe them in step with the code.

use ngx_rtmp_tests::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn read(rel: &str) -> String {
    fs::read_to_string(repo_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// scripts/install with DESTDIR (and other variables); panics with its output on failure.
fn install(destdir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(repo_root().join("scripts/install"));
    cmd.args(args).env("DESTDIR", destdir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_bounded(cmd, Duration::from_secs(30));
    assert!(
        out.success(),
        "scripts/install {:?} failed:\n{}{}",
        args,
        out.stdout,
        out.stderr
    );
    out.stderr
}

/// nginx generates the module table from `config` when it builds the module; the crate's own
/// table (src/ngx/modules.rs) must list the same modules in the same order.
#[test]
fn config_lists_the_crates_modules_in_order() {
    let config = read("config");
    let start = config
        .find("ngx_module_name=\"")
        .expect("config sets ngx_module_name")
        + "ngx_module_name=\"".len();
    let end = start + config[start..].find('"').unwrap();
    let from_config: Vec<&str> = config[start..end].split_whitespace().collect();

    let table = read("src/ngx/modules.rs");
    let names = &table[table.find("ngx_module_names").expect("ngx_module_names")..];
    let from_crate: Vec<&str> = names
        .split("c\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert!(!from_crate.is_empty());
    assert_eq!(
        from_config, from_crate,
        "config and src/ngx/modules.rs disagree"
    );
    assert_eq!(
        from_config[0], "ngx_rtmp_module",
        "the first name names the .so"
    );
}

/// Debian's layout, as libnginx-mod-rtmp installs it; idempotent; nginx loads the module
/// through the installed conf with Debian's prefix layout; --uninstall removes it all.
#[test]
fn install_puts_the_module_where_debian_packages_do() {
    let so = module_so();
    let dest = temp_dir("install");
    let so_path = dest.join("usr/lib/nginx/modules/ngx_rtmp_module.so");
    let conf_path = dest.join("usr/share/nginx/modules-available/mod-rtmp.conf");
    let link_path = dest.join("etc/nginx/modules-enabled/50-mod-rtmp.conf");

    for _ in 0..2 {
        install(&dest, &[so.to_str().unwrap()], &[]);
        assert_eq!(fs::read(&so_path).unwrap(), fs::read(&so).unwrap());
        assert_eq!(
            fs::metadata(&so_path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert_eq!(
            fs::read_to_string(&conf_path).unwrap(),
            "load_module modules/ngx_rtmp_module.so;\n"
        );
        assert_eq!(
            fs::read_link(&link_path).unwrap(),
            Path::new("/usr/share/nginx/modules-available/mod-rtmp.conf")
        );
    }
    let leftovers: Vec<_> = fs::read_dir(so_path.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{:?}", leftovers);

    // Debian's nginx runs with prefix /usr/share/nginx, where modules/ links to
    // /usr/lib/nginx/modules (nginx-common ships that link).
    std::os::unix::fs::symlink(
        "../../lib/nginx/modules",
        dest.join("usr/share/nginx/modules"),
    )
    .unwrap();
    let conf = format!(
        "include {conf};\nerror_log {d}/error.log info;\npid {d}/nginx.pid;\nevents {{}}\n\
         rtmp {{ server {{ listen 127.0.0.1:1; application live {{ live on; }} }} }}\n",
        conf = conf_path.display(),
        d = dest.display()
    );
    fs::write(dest.join("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new(nginx_bin());
    cmd.arg("-t")
        .arg("-p")
        .arg(dest.join("usr/share/nginx/"))
        .arg("-c")
        .arg(dest.join("nginx.conf"))
        .arg("-e")
        .arg(dest.join("error.log"));
    let out = run_bounded(cmd, Duration::from_secs(20));
    assert!(
        out.success(),
        "nginx does not load the installed module:\n{}",
        out.stderr
    );

    install(&dest, &["--uninstall"], &[]);
    for p in [&so_path, &conf_path, &link_path] {
        assert!(fs::symlink_metadata(p).is_err(), "{} is left", p.display());
    }
    let _ = fs::remove_dir_all(&dest);
}

/// Another PREFIX gets an absolute load_module line; ENABLE=0 leaves modules-enabled alone.
#[test]
fn install_elsewhere_uses_an_absolute_path() {
    let so = module_so();
    let dest = temp_dir("install-prefix");
    install(
        &dest,
        &[so.to_str().unwrap()],
        &[("PREFIX", "/opt/nginx"), ("ENABLE", "0")],
    );
    assert!(dest
        .join("opt/nginx/lib/nginx/modules/ngx_rtmp_module.so")
        .is_file());
    assert_eq!(
        fs::read_to_string(dest.join("opt/nginx/share/nginx/modules-available/mod-rtmp.conf"))
            .unwrap(),
        "load_module /opt/nginx/lib/nginx/modules/ngx_rtmp_module.so;\n"
    );
    assert!(!dest.join("etc/nginx/modules-enabled").exists());
    let _ = fs::remove_dir_all(&dest);
}

/// The image runs the case study's reference config with only the load_module line added:
/// the image keeps nginx.org's default layout, so none of its paths change.
#[test]
fn docker_conf_is_the_reference_plus_load_module() {
    fn body(text: &str) -> String {
        text.lines()
            .skip_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    }
    let reference = body(&read("tests/fixtures/reference-nginx.conf"));
    let docker = body(&read("nginx-conf/docker.conf"));
    assert_eq!(
        docker,
        format!("load_module modules/ngx_rtmp_module.so;\n{reference}")
    );
    let dockerfile = read("Dockerfile");
    for line in [
        "COPY nginx-conf/docker.conf /usr/local/nginx/conf/nginx.conf",
        "COPY nginx-conf/stat.xsl /usr/local/nginx/html/stat.xsl",
        "--add-dynamic-module=/src",
        "EXPOSE 1935 8080",
        "http://127.0.0.1:8080/stat",
        "USER nginx",
    ] {
        assert!(dockerfile.contains(line), "Dockerfile lacks {line:?}");
    }
}

/// The image's default nginx is the version the suite runs against (the nginx-src crate's).
#[test]
fn docker_default_nginx_is_the_tested_one() {
    let lock = read("Cargo.lock");
    let at = lock
        .find("name = \"nginx-src\"\nversion = \"")
        .expect("nginx-src in Cargo.lock");
    let rest = &lock[at..];
    let version = rest.lines().nth(1).unwrap();
    let nginx = version
        .trim_end_matches('"')
        .rsplit('+')
        .next()
        .unwrap()
        .to_string();
    let dockerfile = read("Dockerfile");
    assert!(
        dockerfile.contains(&format!("ARG NGINX_VERSION={nginx}\n")),
        "Dockerfile's default NGINX_VERSION is not {nginx}"
    );
    let compose = read("docker-compose.yml");
    assert!(
        compose.contains(&format!("NGINX_VERSION:-{nginx}}}")),
        "docker-compose.yml's default NGINX_VERSION is not {nginx}"
    );
}
