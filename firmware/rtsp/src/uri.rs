//! The parts of a Request-URI the server looks at: the path (which
//! stream, which track) and the scheme and authority it writes back in
//! `Content-Base` and `RTP-Info`.

/// `rtsp://host:port/a/b?q` → (`rtsp://host:port`, `/a/b`); an absolute
/// path alone → ("", path). `None` for anything else.
pub(crate) fn split(uri: &str) -> Option<(&str, &str)> {
    let uri = uri.split(['?', '#']).next().unwrap_or_default();
    if uri.starts_with('/') {
        return Some(("", uri));
    }
    let rest = uri
        .strip_prefix("rtsp://")
        .or_else(|| uri.strip_prefix("RTSP://"))?;
    let authority_len = rest.find('/').unwrap_or(rest.len());
    let base_len = "rtsp://".len() + authority_len;
    let path = &uri[base_len..];
    Some((&uri[..base_len], if path.is_empty() { "/" } else { path }))
}

/// What a path names, for a stream served at `/name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The stream as a whole (`/name` or `/name/`).
    Stream,
    /// One of its tracks (`/name/trackID=N`).
    Track(u8),
    /// Something else.
    Elsewhere,
}

pub(crate) fn target(path: &str, name: &str) -> Target {
    let name = name.trim_matches('/');
    let path = path.trim_start_matches('/');
    let Some(rest) = path.strip_prefix(name) else {
        return Target::Elsewhere;
    };
    match rest.trim_end_matches('/') {
        "" => Target::Stream,
        other => match other
            .strip_prefix("/trackID=")
            .and_then(|n| n.parse::<u8>().ok())
        {
            Some(id) => Target::Track(id),
            None => Target::Elsewhere,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_uris_and_paths() {
        assert_eq!(
            split("rtsp://127.0.0.1:8554/live/trackID=1?x=1"),
            Some(("rtsp://127.0.0.1:8554", "/live/trackID=1"))
        );
        assert_eq!(split("rtsp://box"), Some(("rtsp://box", "/")));
        assert_eq!(split("/live"), Some(("", "/live")));
        assert_eq!(split("http://box/live"), None);
        assert_eq!(split("*"), None);
    }

    #[test]
    fn targets() {
        assert_eq!(target("/live", "live"), Target::Stream);
        assert_eq!(target("/live/", "live"), Target::Stream);
        assert_eq!(target("/live/trackID=1", "live"), Target::Track(1));
        assert_eq!(target("/a/b/trackID=0", "a/b"), Target::Track(0));
        assert_eq!(target("/lively", "live"), Target::Elsewhere);
        assert_eq!(target("/live/other", "live"), Target::Elsewhere);
        assert_eq!(target("/other", "live"), Target::Elsewhere);
    }
}
