// Re-exports what nginx-sys learned about the nginx tree, so the shell can adapt to the
// nginx it is built for (nginx-sys must be a direct dependency for DEP_NGINX_* to reach us).
fn main() {
    println!("cargo::rerun-if-env-changed=DEP_NGINX_VERSION_NUMBER");
    println!("cargo::rustc-check-cfg=cfg(ngx_feature, values(any()))");
    println!("cargo::rustc-check-cfg=cfg(ngx_os, values(any()))");
    if let Ok(features) = std::env::var("DEP_NGINX_FEATURES") {
        for f in features.split(',').filter(|f| !f.is_empty()) {
            println!("cargo::rustc-cfg=ngx_feature=\"{f}\"");
        }
    }
    if let Ok(os) = std::env::var("DEP_NGINX_OS") {
        println!("cargo::rustc-cfg=ngx_os=\"{os}\"");
    }
    if let Ok(v) = std::env::var("DEP_NGINX_VERSION_NUMBER") {
        println!("cargo::rustc-env=NGX_RTMP_NGINX_VERSION_NUMBER={v}");
    }
}
