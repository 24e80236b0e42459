//! HLS (nginx-rtmp-module's `hls` family): MPEG-TS muxing, fragment cutting and playlists.
//! The shell does the file I/O through [`HlsFiles`].
