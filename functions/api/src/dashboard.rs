//! The operators' dashboard: static files embedded in the binary and served at `/` (the page)
//! and `/assets/…` (scripts, styles, the vendored chart library).
//!
//! The page holds no data, so it is served without auth; every `/v1` call it makes carries the
//! bearer token the user typed in. Every file is sent with a strict Content-Security-Policy (no
//! inline script or style, nothing from other origins), an `ETag` and `Cache-Control: no-cache`
//! (the browser revalidates and gets a 304 when nothing changed, so a new deployment is picked up
//! at once), and gzip-compressed when the client accepts it.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::respond;

/// One embedded file.
pub struct Asset {
    /// Path under `functions/api/dashboard/` (and under `/assets/` in URLs).
    pub path: &'static str,
    /// Content-Type header.
    pub content_type: &'static str,
    /// The bytes.
    pub body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $content_type:expr) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!("../dashboard/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file of the dashboard. `index.html` is served at `/`.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", CSS),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("i18n.js", JS),
    asset!("ui.js", JS),
    asset!("screens.js", JS),
    asset!("vendor/uPlot.esm.js", JS),
    asset!("vendor/uPlot.min.css", CSS),
    asset!("vendor/LICENSE-uPlot.txt", "text/plain; charset=utf-8"),
];

/// The policy of every dashboard response: this origin only, no inline script or style, no
/// framing. (uPlot sizes its elements through the CSSOM, which `style-src 'self'` allows.)
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What is computed once per file: its validator and its gzip form.
struct Prepared {
    etag: HeaderValue,
    gzip: Vec<u8>,
}

fn prepared() -> &'static [Prepared] {
    static PREPARED: OnceLock<Vec<Prepared>> = OnceLock::new();
    PREPARED.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let digest = Sha256::digest(a.body);
                let etag = format!("\"{}\"", hex::encode(&digest[..12]));
                Prepared {
                    etag: HeaderValue::from_str(&etag)
                        .unwrap_or_else(|_| HeaderValue::from_static("\"0\"")),
                    gzip: gzip(a.body),
                }
            })
            .collect()
    })
}

/// `body` compressed with gzip at the best level (empty when compression fails, which writing
/// to memory does not).
pub fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    if enc.write_all(body).is_err() {
        return Vec::new();
    }
    enc.finish().unwrap_or_default()
}

/// The routes of the dashboard (no auth).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*path}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.path == path) else {
        return ApiError::NotFound("no such file".to_owned()).into_response();
    };
    let asset = &ASSETS[i];
    let prep = &prepared()[i];
    let not_modified = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t.as_bytes() == prep.etag.as_bytes());
    let use_gzip = !prep.gzip.is_empty() && accepts_gzip(headers);
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else if use_gzip {
        let mut r = prep.gzip.as_slice().into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        asset.body.into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::ETAG, prep.etag.clone());
    respond::set_headers(
        h,
        &[
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::VARY, "Accept-Encoding"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
    );
    resp
}

/// Whether `Accept-Encoding` allows gzip (`gzip` or `*` without `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;
    use crate::source::MemorySource;
    use crate::{AppState, Config, router};

    /// The page weight budget of issue 8: everything the browser may load, gzip-compressed.
    #[test]
    fn the_whole_page_is_under_300_kb_compressed() {
        let total: usize = ASSETS.iter().map(|a| gzip(a.body).len()).sum();
        let raw: usize = ASSETS.iter().map(|a| a.body.len()).sum();
        eprintln!("dashboard: {raw} bytes, {total} bytes gzip-compressed");
        assert!(total > 0);
        assert!(total < 300 * 1024, "{total} bytes compressed");
    }

    /// Every `/assets/…` reference in the page and every relative module import resolves to an
    /// embedded file, so a renamed file cannot break the page silently.
    #[test]
    fn every_reference_resolves() {
        let known = |p: &str| ASSETS.iter().any(|a| a.path == p);
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".html")) {
            let text = std::str::from_utf8(a.body).unwrap();
            for piece in text.split("\"/assets/").skip(1) {
                let path = piece.split('"').next().unwrap();
                assert!(known(path), "{} refers to missing /assets/{path}", a.path);
            }
        }
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let text = std::str::from_utf8(a.body).unwrap();
            let dir = a.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            for piece in text.split(" from './").skip(1) {
                let name = piece.split('\'').next().unwrap();
                let path = if dir.is_empty() {
                    name.to_owned()
                } else {
                    format!("{dir}/{name}")
                };
                assert!(known(&path), "{} imports missing {path}", a.path);
            }
            let ours = !a.path.starts_with("vendor/");
            assert!(
                !ours || !(text.contains("eval(") || text.contains("innerHTML")),
                "{} must build the page with DOM calls only",
                a.path
            );
        }
    }

    fn app() -> axum::Router {
        // printf %s secret | sha256sum
        let config = Config::from_lookup(|k| match k {
            "AUTH_MODE" => Some("token".to_owned()),
            "TOKEN_SHA256" => {
                Some("2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b".to_owned())
            }
            _ => None,
        })
        .unwrap();
        router(AppState::new(config, Arc::new(MemorySource::new(100))))
    }

    async fn get(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = Request::get(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        app.clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn body(resp: Response) -> Vec<u8> {
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    #[tokio::test]
    async fn the_page_is_served_without_auth_and_the_api_still_needs_the_token() {
        let app = app();
        let resp = get(&app, "/", &[]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let h = resp.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
        assert_eq!(h[header::CACHE_CONTROL], "no-cache");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(h.get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body(resp).await, ASSETS[0].body);

        let resp = get(&app, "/v1/mail", &[]).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let resp = get(&app, "/v1/mail", &[("authorization", "Bearer secret")]).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn assets_have_their_types_and_unknown_files_are_404() {
        let app = app();
        for a in ASSETS {
            let resp = get(&app, &format!("/assets/{}", a.path), &[]).await;
            assert_eq!(resp.status(), StatusCode::OK, "{}", a.path);
            assert_eq!(resp.headers()[header::CONTENT_TYPE], a.content_type);
            assert_eq!(body(resp).await, a.body, "{}", a.path);
        }
        for bad in [
            "/assets/nope.js",
            "/assets/../Cargo.toml",
            "/assets/",
            "/assets/vendor",
            "/index.html",
        ] {
            let resp = get(&app, bad, &[]).await;
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{bad}");
        }
    }

    #[tokio::test]
    async fn gzip_when_accepted_and_304_when_unchanged() {
        let app = app();
        let resp = get(&app, "/assets/app.js", &[("accept-encoding", "br, gzip")]).await;
        assert_eq!(resp.headers()[header::CONTENT_ENCODING], "gzip");
        let etag = resp.headers()[header::ETAG].to_str().unwrap().to_owned();
        let compressed = body(resp).await;
        let mut plain = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(compressed.as_slice()),
            &mut plain,
        )
        .unwrap();
        let app_js = ASSETS.iter().find(|a| a.path == "app.js").unwrap();
        assert_eq!(plain, app_js.body);

        let resp = get(&app, "/assets/app.js", &[("accept-encoding", "gzip;q=0")]).await;
        assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());

        let resp = get(&app, "/assets/app.js", &[("if-none-match", &etag)]).await;
        assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
        assert!(body(resp).await.is_empty());
        let resp = get(&app, "/assets/app.js", &[("if-none-match", "\"other\"")]).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
