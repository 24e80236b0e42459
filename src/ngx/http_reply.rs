//! What the /stat and /control handlers share: accepting a request (method, body) and sending
//! a whole in-memory body as the response.
use nginx_sys::{ngx_http_request_t, ngx_int_t, ngx_uint_t};
use std::ptr::null_mut;

/// Sends `status` with `body` of `content_type` (a static string), or headers only for a
/// HEAD request or an empty body. Returns what nginx's output chain returned.
///
/// # Safety
/// `r` must be a live request whose response has not been sent.
pub unsafe fn send_body(
    r: *mut ngx_http_request_t,
    status: u16,
    content_type: &'static str,
    body: &[u8],
) -> ngx_int_t {
    // SAFETY: guaranteed by the caller; the buffer is allocated from the request's pool.
    unsafe {
        let h = &mut (*r).headers_out;
        h.status = status as ngx_uint_t;
        h.content_type_len = content_type.len();
        h.content_type = nginx_sys::ngx_str_t {
            len: content_type.len(),
            data: content_type.as_ptr() as *mut u8,
        };
        h.content_length_n = body.len() as i64;
        if body.is_empty() {
            (*r).set_header_only(1);
        }
        let rc = nginx_sys::ngx_http_send_header(r);
        if rc == nginx_sys::NGX_ERROR as ngx_int_t
            || rc > nginx_sys::NGX_OK as ngx_int_t
            || (*r).header_only() != 0
        {
            return rc;
        }
        let b = nginx_sys::ngx_create_temp_buf((*r).pool, body.len());
        if b.is_null() {
            return nginx_sys::NGX_ERROR as ngx_int_t;
        }
        std::ptr::copy_nonoverlapping(body.as_ptr(), (*b).pos, body.len());
        (*b).last = (*b).pos.add(body.len());
        (*b).set_last_buf(if (*r).main == r { 1 } else { 0 });
        (*b).set_last_in_chain(1);
        let mut out = nginx_sys::ngx_chain_t {
            buf: b,
            next: null_mut(),
        };
        nginx_sys::ngx_http_output_filter(r, &mut out)
    }
}

/// Refuses a method outside `methods` (NGX_HTTP_GET | ...) and discards any request body.
/// Err holds the handler's return value.
///
/// # Safety
/// `r` must be the live request a content handler was called with.
pub unsafe fn accept(r: *mut ngx_http_request_t, methods: u32) -> Result<(), ngx_int_t> {
    // SAFETY: guaranteed by the caller.
    unsafe {
        if (*r).method & methods as ngx_uint_t == 0 {
            return Err(nginx_sys::NGX_HTTP_NOT_ALLOWED as ngx_int_t);
        }
        let rc = nginx_sys::ngx_http_discard_request_body(r);
        if rc != nginx_sys::NGX_OK as ngx_int_t {
            return Err(rc);
        }
    }
    Ok(())
}
