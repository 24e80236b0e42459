//! Byte-exact passthrough with our own rml_rtmp client as publisher and player.

use ngx_rtmp_tests::rtmp::*;
use ngx_rtmp_tests::*;
use rml_amf0::Amf0Value;
use rml_rtmp::sessions::StreamMetadata;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
enum M {
    V(u32, Vec<u8>),
    A(u32, Vec<u8>),
}

fn pseudo(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn metadata() -> StreamMetadata {
    let mut md = StreamMetadata::new();
    md.video_width = Some(320);
    md.video_height = Some(240);
    md.video_codec_id = Some(7);
    md.video_frame_rate = Some(25.0);
    md.audio_codec_id = Some(10);
    md.encoder = Some("ngx-rtmp-tests".to_string());
    md
}

fn avc_seq_header() -> Vec<u8> {
    // 17 00 000000 + a (fake but well-formed looking) AVCDecoderConfigurationRecord
    let mut v = vec![
        0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x04,
    ];
    v.extend_from_slice(&[
        0x67, 0x64, 0x00, 0x1f, 0x01, 0x00, 0x04, 0x68, 0xee, 0x3c, 0x80,
    ]);
    v
}

fn aac_seq_header() -> Vec<u8> {
    vec![0xaf, 0x00, 0x12, 0x10]
}

fn key(seed: u32, len: usize) -> Vec<u8> {
    let mut v = vec![0x17, 0x01, 0x00, 0x00, 0x00];
    v.extend(pseudo(seed, len));
    v
}

fn inter(seed: u32, len: usize) -> Vec<u8> {
    let mut v = vec![0x27, 0x01, 0x00, 0x00, 0x00];
    v.extend(pseudo(seed, len));
    v
}

fn aac(seed: u32) -> Vec<u8> {
    let mut v = vec![0xaf, 0x01];
    v.extend(pseudo(seed, 200));
    v
}

fn media_of(evs: &[Event]) -> Vec<M> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Video { ts, data, .. } => Some(M::V(*ts, data.to_vec())),
            Event::Audio { ts, data, .. } => Some(M::A(*ts, data.to_vec())),
            _ => None,
        })
        .collect()
}

fn short(m: &M) -> String {
    let (k, ts, d) = match m {
        M::V(t, d) => ("V", t, d),
        M::A(t, d) => ("A", t, d),
    };
    format!("{}@{} len {} {:02x?}", k, ts, d.len(), &d[..d.len().min(6)])
}

fn send(p: &mut RtmpClient, m: &M) {
    match m {
        M::V(ts, d) => p.send_video(*ts, d).unwrap(),
        M::A(ts, d) => p.send_audio(*ts, d).unwrap(),
    }
}

fn meta_event(evs: &[Event]) -> Option<(usize, Vec<Amf0Value>)> {
    evs.iter().enumerate().find_map(|(i, e)| match e {
        Event::Data { values, .. } => match values.first() {
            Some(Amf0Value::Utf8String(s)) if s == "onMetaData" || s == "@setDataFrame" => {
                Some((i, values.clone()))
            }
            _ => None,
        },
        _ => None,
    })
}

/// A player connected before the publisher receives every audio/video payload byte-identical
/// and in order (including non-H.264 bytes, a fake AVC sequence header and an Enhanced-RTMP
/// `0x90 'hvc1'` tag), and onMetaData without the `@setDataFrame` wrapper.
#[test]
fn passthrough_is_byte_exact() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let addr = ng.rtmp_addr();
    let mut player = RtmpClient::connect(addr, "live").expect("player connect");
    player.play("exact").expect("play");
    let mut publisher = RtmpClient::connect(addr, "live").expect("publisher connect");
    publisher.publish("exact").expect("publish");
    publisher.send_metadata(&metadata()).unwrap();

    let mut sent = vec![
        M::V(0, avc_seq_header()),
        M::A(0, aac_seq_header()),
        M::V(0, key(1, 3000)),
        M::A(10, aac(2)),
        M::V(40, inter(3, 700)),
        // not H.264: Sorenson H.263 / VP6 ids with arbitrary bytes
        M::V(80, [vec![0x22], pseudo(4, 500)].concat()),
        M::V(120, [vec![0x14], pseudo(5, 9000)].concat()),
        M::A(130, [vec![0x2f], pseudo(6, 300)].concat()),
        // Enhanced RTMP: IsExHeader|keyframe, SequenceStart, FourCC hvc1
        M::V(
            160,
            [vec![0x90, b'h', b'v', b'c', b'1'], pseudo(7, 40)].concat(),
        ),
        M::V(
            200,
            [vec![0x91, b'h', b'v', b'c', b'1'], pseudo(8, 5000)].concat(),
        ),
    ];
    for i in 0..20u32 {
        sent.push(M::V(240 + i * 40, inter(100 + i, 100 + (i as usize) * 37)));
        sent.push(M::A(245 + i * 40, aac(200 + i)));
    }
    for m in &sent {
        send(&mut publisher, m);
    }
    let got_events = player.collect_media(sent.len(), Duration::from_secs(10));
    let got = media_of(&got_events);

    let (_, meta) = meta_event(&got_events).expect("player received no onMetaData");
    assert_eq!(
        meta[0],
        Amf0Value::Utf8String("onMetaData".into()),
        "metadata wrapper: {:?}",
        meta
    );
    match meta.get(1) {
        Some(Amf0Value::Object(o)) => {
            assert_eq!(o.get("width"), Some(&Amf0Value::Number(320.0)), "{:?}", o);
            assert_eq!(o.get("height"), Some(&Amf0Value::Number(240.0)), "{:?}", o);
        }
        other => panic!("onMetaData without a property object: {:?}", other),
    }

    eprintln!("sent {} / got {} media messages", sent.len(), got.len());
    // Audio and video travel on separate chunk streams, so only the order within each
    // track is specified: each track must arrive complete, byte-identical, in order,
    // with the publisher's timestamps.
    for (track, is_video) in [("video", true), ("audio", false)] {
        let want: Vec<&M> = sent
            .iter()
            .filter(|m| matches!(m, M::V(..)) == is_video)
            .collect();
        let have: Vec<&M> = got
            .iter()
            .filter(|m| matches!(m, M::V(..)) == is_video)
            .collect();
        for (i, (s, g)) in want.iter().zip(have.iter()).enumerate() {
            assert!(
                s == g,
                "{} message {} differs:\n sent {}\n got  {}\n(all got: {:?})",
                track,
                i,
                short(s),
                short(g),
                got.iter().map(short).collect::<Vec<_>>()
            );
        }
        assert_eq!(
            have.len(),
            want.len(),
            "{}: player got {:?}",
            track,
            have.iter().map(|m| short(m)).collect::<Vec<_>>()
        );
    }
    ng.assert_no_alerts();
}

/// A player joining mid-stream first gets onMetaData, then the AVC and AAC sequence headers,
/// then video starting at the latest keyframe sent before it joined (GOP cache), byte-exact.
#[test]
fn late_joiner_gets_metadata_headers_then_latest_gop() {
    let ng = Nginx::start(&simple_rtmp("live", "live on;"));
    let addr = ng.rtmp_addr();
    let mut publisher = RtmpClient::connect(addr, "live").expect("publisher connect");
    publisher.publish("gop").expect("publish");
    publisher.send_metadata(&metadata()).unwrap();
    let k1 = key(11, 4000);
    let k2 = key(12, 4100);
    let p_after_k2 = inter(13, 800);
    let before = vec![
        M::V(0, avc_seq_header()),
        M::A(0, aac_seq_header()),
        M::V(0, k1.clone()),
        M::A(20, aac(1)),
        M::V(40, inter(2, 600)),
        M::V(80, inter(3, 600)),
        M::V(120, k2.clone()),
        M::A(130, aac(4)),
        M::V(160, p_after_k2.clone()),
    ];
    for m in &before {
        send(&mut publisher, m);
    }
    std::thread::sleep(Duration::from_millis(500));

    let mut late = RtmpClient::connect(addr, "live").expect("late connect");
    let pre = late.play("gop").expect("late play");
    std::thread::sleep(Duration::from_millis(300));
    let after = vec![
        M::V(200, inter(5, 500)),
        M::A(210, aac(6)),
        M::V(240, key(7, 3000)),
    ];
    for m in &after {
        send(&mut publisher, m);
    }
    let mut evs = pre;
    evs.extend(late.collect_for(Duration::from_secs(3)).unwrap_or_default());
    let media = media_of(&evs);
    eprintln!(
        "late joiner got: {:?}",
        media.iter().map(short).collect::<Vec<_>>()
    );

    let (meta_idx, _) = meta_event(&evs).expect("late joiner got no onMetaData");
    let first_media_idx = evs
        .iter()
        .position(|e| matches!(e, Event::Video { .. } | Event::Audio { .. }))
        .expect("late joiner got no media");
    assert!(
        meta_idx < first_media_idx,
        "onMetaData must come before media"
    );

    let vids: Vec<Vec<u8>> = media
        .iter()
        .filter_map(|m| match m {
            M::V(_, d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    let auds: Vec<Vec<u8>> = media
        .iter()
        .filter_map(|m| match m {
            M::A(_, d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    let got_desc = media.iter().map(short).collect::<Vec<_>>();
    assert!(
        vids.first() == Some(&avc_seq_header()),
        "first video must be the AVC sequence header; got {:?}",
        got_desc
    );
    assert!(
        auds.first() == Some(&aac_seq_header()),
        "first audio must be the AAC sequence header; got {:?}",
        got_desc
    );
    assert!(
        vids.get(1) == Some(&k2),
        "after the sequence header the late joiner must get the latest keyframe sent before it \
         joined (GOP cache: V@120 len 4105); got {:?}",
        got_desc
    );
    assert!(
        vids.get(2) == Some(&p_after_k2),
        "then the frames after that keyframe, in order; got {:?}",
        got_desc
    );
    // And the live frames that followed.
    assert!(
        vids.contains(&inter(5, 500)) && vids.contains(&key(7, 3000)),
        "live frames missing"
    );
    ng.assert_no_alerts();
}
