use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use std::time::Duration;
#[test]
fn dbg() {
    let ng = Nginx::start(&simple_rtmp("live", "live on; allow publish 127.0.0.1; deny publish all; allow play 127.0.0.1; deny play all;"));
    for cmd in ["publish", "play"] {
    let mut c = RawClient::connect_from(ng.rtmp_addr(), Some("127.0.0.2".parse().unwrap())).unwrap();
    c.rtmp_connect("live").unwrap();
    let id = c.create_stream().unwrap();
    c.command(id, cmd, 0.0, rml_amf0::Amf0Value::Null, &[s("a"), s("live")]).unwrap();
    let mut v = Vec::new();
    loop { match c.next_event(Duration::from_secs(2)) { Ok(e) => v.push(format!("{:?}", e)), Err(e) => { v.push(format!("END {:?}", e)); break } } }
    eprintln!("{} -> {:#?}", cmd, v);
    }
}
