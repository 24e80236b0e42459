//! Reading a server's streams from its `/stat?format=json` (the server's http block needs
//! `location /stat { rtmp_stat all; }`).

use super::{http_get, wait_for, Nginx};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The http location tests add for these helpers.
pub const STAT_LOCATION: &str = "location /stat { rtmp_stat all; }";

pub fn stat_json(ng: &Nginx) -> Value {
    let (_, body) = http_get(&ng.http_url("/stat?format=json"), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("/stat: {e}"));
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("/stat JSON: {e}: {body}"))
}

/// The stream `app/name` in /stat, if it is there.
pub fn stat_stream(ng: &Nginx, app: &str, name: &str) -> Option<Value> {
    let doc = stat_json(ng);
    for server in doc["servers"].as_array()? {
        for a in server["applications"].as_array()? {
            if a["name"] != app {
                continue;
            }
            for s in a["live"]["streams"].as_array()? {
                if s["name"] == name {
                    return Some(s.clone());
                }
            }
        }
    }
    None
}

/// Waits until `app/name` on `ng` has a publisher that sends media; how long that took.
pub fn wait_publishing(ng: &Nginx, app: &str, name: &str, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    wait_for(limit, || {
        stat_stream(ng, app, name).filter(|s| s["publishing"] == true && s["active"] == true)
    })
    .map(|_| t0.elapsed())
}
