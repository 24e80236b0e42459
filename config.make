# ngx-rtmp for nginx's own build system (see config): the rule that builds the Rust crate,
# appended to objs/Makefile. It always runs: cargo knows what is out of date, and the .so
# that links the library is relinked after it.

cat << END                                                      >> $NGX_MAKEFILE

.PHONY: $ngx_rtmp_lib

$ngx_rtmp_lib:
	NGINX_SOURCE_DIR="$PWD" NGINX_BUILD_DIR="$ngx_rtmp_objs" \\
	$ngx_rtmp_cargo rustc --manifest-path "$ngx_addon_dir/Cargo.toml" -p ngx-rtmp --lib \\
		--release --crate-type staticlib --no-default-features \\
		--target-dir "$ngx_rtmp_target" \$(NGX_RTMP_CARGO_FLAGS)

$NGX_OBJS${ngx_dirsep}ngx_rtmp_module$ngx_modext:	$ngx_rtmp_lib

END
