//! nginx's own MD5 (ngx_md5.c, exported by every nginx binary; its header is not in the
//! bindings): `notify_relay_redirect` names a relayed stream by the hex MD5 of the URL, as
//! the C module does.

#[repr(C)]
struct NgxMd5 {
    bytes: u64,
    a: u32,
    b: u32,
    c: u32,
    d: u32,
    buffer: [u8; 64],
}

extern "C" {
    fn ngx_md5_init(ctx: *mut NgxMd5);
    fn ngx_md5_update(ctx: *mut NgxMd5, data: *const std::ffi::c_void, size: usize);
    fn ngx_md5_final(result: *mut u8, ctx: *mut NgxMd5);
}

/// Lower-case hex MD5 of `data`.
pub fn md5_hex(data: &[u8]) -> String {
    let mut out = [0u8; 16];
    // SAFETY: NgxMd5 has ngx_md5_t's layout (a 64-bit count, four 32-bit words, 64 bytes);
    // all-zero is a valid starting value that ngx_md5_init overwrites; result has 16 bytes.
    unsafe {
        let mut ctx: NgxMd5 = std::mem::zeroed();
        ngx_md5_init(&mut ctx);
        ngx_md5_update(
            &mut ctx,
            data.as_ptr() as *const std::ffi::c_void,
            data.len(),
        );
        ngx_md5_final(out.as_mut_ptr(), &mut ctx);
    }
    out.iter().map(|b| format!("{b:02x}")).collect()
}
