//! Blob uploads: HEAD first (skip what is there), cross-repository mount, monolithic PUT for small
//! blobs, chunked PATCHes for large ones, resuming an interrupted session from the registry's
//! upload status (also across runs, via a journal of open sessions), content verified while it
//! streams (bounded memory whatever the size), progress events per chunk of bytes.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use futures::future::BoxFuture;
use reqwest::StatusCode;
use reqwest::header;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::ReaderStream;

use crate::client::{Registry, Scope, header_str};
use crate::digest::{Digest, Hasher};
use crate::error::{Error, Result};
use crate::manifest::BlobRef;
use crate::progress::{Event, Sink, Transfer};

pub type BoxRead = Pin<Box<dyn AsyncRead + Send>>;

/// Something a blob's bytes can be read from, starting at any offset (for resuming).
pub trait BlobSource: Send + Sync {
    fn open(&self, offset: u64) -> BoxFuture<'_, Result<BoxRead>>;
}

/// Uploads `blob` into `repo` unless it is there already; `mount_from` names a repository of the
/// same registry that has it. Returns how the blob got there.
pub async fn push_blob(
    reg: &Registry,
    repo: &str,
    blob: &BlobRef,
    src: &dyn BlobSource,
    mount_from: Option<&str>,
    progress: &Sink,
) -> Result<Transfer> {
    let how = match push_blob_once(reg, repo, blob, src, mount_from, progress).await {
        // A resumed session whose bytes the registry lost (killed between writing data and its
        // state) ends in DIGEST_INVALID, and every later run would resume it again: forget it
        // and upload the blob from zero once.
        Err(Error::Protocol { reason, .. })
            if reason.contains("does not match its digest") && reg.opts.resume_dir.is_some() =>
        {
            if let Some(d) = reg.opts.resume_dir.as_deref() {
                Journal::new(d, reg.name(), repo, &blob.digest).forget();
            }
            tracing::info!(blob = %blob.digest, "resumed upload refused by the registry; starting it again");
            push_blob_once(reg, repo, blob, src, mount_from, progress).await?
        }
        r => r?,
    };
    reg.known
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(blob.digest.clone(), repo.to_string());
    Ok(how)
}

async fn push_blob_once(
    reg: &Registry,
    repo: &str,
    blob: &BlobRef,
    src: &dyn BlobSource,
    mount_from: Option<&str>,
    progress: &Sink,
) -> Result<Transfer> {
    if reg.blob_size(repo, &blob.digest).await?.is_some() {
        return Ok(Transfer::Existing);
    }
    let known = reg
        .known
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&blob.digest)
        .cloned();
    let mount_from = mount_from.or(known.as_deref().filter(|k| *k != repo));
    progress(&Event::BlobStart {
        digest: blob.digest.clone(),
        size: blob.size,
    });
    let journal = reg
        .opts
        .resume_dir
        .as_deref()
        .map(|d| Journal::new(d, reg.name(), repo, &blob.digest));
    let mut session = match resumable_session(reg, repo, journal.as_ref()).await? {
        Some(s) => s,
        None => match start_session(reg, repo, &blob.digest, mount_from).await? {
            Started::Mounted => return Ok(Transfer::Mounted),
            Started::Session(loc) => Session {
                location: loc,
                offset: 0,
            },
        },
    };
    if let Some(j) = &journal {
        j.save(&session.location);
    }
    let resumed_at = session.offset;
    if resumed_at > 0 {
        progress(&Event::BlobResumed {
            digest: blob.digest.clone(),
            at: resumed_at,
        });
    }
    if session.offset == 0 && blob.size <= reg.opts.chunk_size {
        put_monolithic(reg, repo, blob, src, &session.location, progress).await?;
    } else {
        put_chunked(
            reg,
            repo,
            blob,
            src,
            &mut session,
            journal.as_ref(),
            progress,
        )
        .await?;
    }
    if let Some(j) = &journal {
        j.forget();
    }
    Ok(Transfer::Sent { resumed_at })
}

struct Session {
    location: url::Url,
    offset: u64,
}

enum Started {
    Mounted,
    Session(url::Url),
}

/// `POST /v2/<repo>/blobs/uploads/` (with `mount=` and `from=` when mounting).
async fn start_session(
    reg: &Registry,
    repo: &str,
    digest: &Digest,
    mount_from: Option<&str>,
) -> Result<Started> {
    let (path, scope) = match mount_from {
        Some(from) if from != repo => (
            format!("v2/{repo}/blobs/uploads/?mount={digest}&from={from}"),
            Scope::push_mount(repo, from),
        ),
        _ => (format!("v2/{repo}/blobs/uploads/"), Scope::push(repo)),
    };
    let url = reg.url(&path)?;
    let resp = reg
        .send(&scope, true, |h| {
            h.post(url.clone()).header(header::CONTENT_LENGTH, "0")
        })
        .await?;
    match resp.status() {
        StatusCode::CREATED if mount_from.is_some() => Ok(Started::Mounted),
        StatusCode::ACCEPTED => Ok(Started::Session(location_of(reg, &resp)?)),
        _ => Err(reg.http_error(resp, "POST").await),
    }
}

fn location_of(reg: &Registry, resp: &reqwest::Response) -> Result<url::Url> {
    let loc = header_str(resp.headers(), header::LOCATION).ok_or_else(|| Error::Protocol {
        registry: reg.name().to_string(),
        reason: "upload response without Location".into(),
    })?;
    reg.resolve(&loc)
}

/// A session remembered from an earlier run, if the registry still has it: its offset comes from
/// the upload status (`Range: 0-<last byte>`).
async fn resumable_session(
    reg: &Registry,
    repo: &str,
    journal: Option<&Journal>,
) -> Result<Option<Session>> {
    let Some(location) = journal.and_then(|j| j.load()) else {
        return Ok(None);
    };
    let Ok(location) = reg.resolve(&location) else {
        return Ok(None);
    };
    match upload_status(reg, repo, &location).await {
        Ok(offset) => Ok(Some(Session { location, offset })),
        Err(e) => {
            tracing::info!(registry = reg.name(), error = %e, "earlier upload session is gone; starting a new one");
            Ok(None)
        }
    }
}

/// `GET <location>`: how many bytes the registry holds for this session.
async fn upload_status(reg: &Registry, repo: &str, location: &url::Url) -> Result<u64> {
    let resp = reg
        .send(&Scope::push(repo), true, |h| h.get(location.clone()))
        .await?;
    if resp.status() != StatusCode::NO_CONTENT && !resp.status().is_success() {
        return Err(reg.http_error(resp, "GET").await);
    }
    Ok(header_str(resp.headers(), header::RANGE)
        .and_then(|r| parse_range_end(&r))
        .map(|end| end + 1)
        .unwrap_or(0))
}

/// `0-1234` (or `bytes=0-1234`) → 1234; `0-0` with nothing uploaded is reported by some registries
/// for an empty session, which the next PATCH then corrects.
pub fn parse_range_end(r: &str) -> Option<u64> {
    let r = r.trim().trim_start_matches("bytes=");
    let (start, end) = r.split_once('-')?;
    let (start, end): (u64, u64) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    (end >= start).then_some(end)
}

/// One `PUT <location>?digest=` carrying the whole blob.
async fn put_monolithic(
    reg: &Registry,
    repo: &str,
    blob: &BlobRef,
    src: &dyn BlobSource,
    location: &url::Url,
    progress: &Sink,
) -> Result<()> {
    let url = with_digest(location, &blob.digest);
    let failure = Arc::new(Mutex::new(None));
    let reader = src.open(0).await?;
    let body = Verified::new(
        reader,
        blob,
        0,
        Some(Hasher::new(blob.digest.algorithm())),
        progress.clone(),
        failure.clone(),
    );
    let body = reqwest::Body::wrap_stream(body);
    let body = Mutex::new(Some(body));
    let resp = reg
        .send(&Scope::push(repo), false, |h| {
            let rb = h
                .put(url.clone())
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .header(header::CONTENT_LENGTH, blob.size);
            match body.lock().unwrap_or_else(|p| p.into_inner()).take() {
                Some(b) => rb.body(b),
                None => rb,
            }
        })
        .await;
    finish(reg, blob, resp, &failure).await
}

/// PATCH chunks of `chunk_size` from the session's offset; after a broken connection or a 5xx the
/// upload status says where to continue. The digest is checked before the final PUT.
async fn put_chunked(
    reg: &Registry,
    repo: &str,
    blob: &BlobRef,
    src: &dyn BlobSource,
    s: &mut Session,
    journal: Option<&Journal>,
    progress: &Sink,
) -> Result<()> {
    let mut hasher = Some(prefix_hash(src, blob, s.offset).await?);
    let mut attempts = 0;
    while s.offset < blob.size {
        let len = reg.opts.chunk_size.min(blob.size - s.offset);
        match patch_chunk(reg, repo, blob, src, s, len, hasher.take(), progress).await {
            Ok((next, h)) => {
                hasher = Some(h);
                s.location = next;
                s.offset += len;
                attempts = 0;
                if let Some(j) = journal {
                    j.save(&s.location);
                }
            }
            Err(e) if e.is_transient() && attempts + 1 < reg.opts.max_attempts => {
                attempts += 1;
                tracing::info!(registry = reg.name(), blob = %blob.digest, error = %e, "chunk failed; resuming from the upload status");
                tokio::time::sleep(reg.opts.backoff * 2u32.pow(attempts)).await;
                s.offset = upload_status(reg, repo, &s.location).await?;
                hasher = Some(prefix_hash(src, blob, s.offset).await?);
            }
            Err(e) => return Err(e),
        }
    }
    let hasher = hasher.ok_or_else(|| Error::Protocol {
        registry: reg.name().into(),
        reason: "lost the running hash".into(),
    })?;
    if let Err(e) = hasher.finish_verify(&blob.digest) {
        cancel(reg, repo, &s.location).await;
        return Err(e);
    }
    let url = with_digest(&s.location, &blob.digest);
    let resp = reg
        .send(&Scope::push(repo), true, |h| {
            h.put(url.clone()).header(header::CONTENT_LENGTH, "0")
        })
        .await;
    finish(reg, blob, resp, &Arc::new(Mutex::new(None))).await
}

#[allow(clippy::too_many_arguments)]
async fn patch_chunk(
    reg: &Registry,
    repo: &str,
    blob: &BlobRef,
    src: &dyn BlobSource,
    s: &Session,
    len: u64,
    hasher: Option<Hasher>,
    progress: &Sink,
) -> Result<(url::Url, Hasher)> {
    let failure = Arc::new(Mutex::new(None));
    let reader: BoxRead = Box::pin(src.open(s.offset).await?.take(len));
    let hasher_slot = Arc::new(Mutex::new(None));
    let body = Verified::new(
        reader,
        blob,
        s.offset,
        hasher,
        progress.clone(),
        failure.clone(),
    )
    .keep_hasher(hasher_slot.clone(), len);
    let body = Mutex::new(Some(reqwest::Body::wrap_stream(body)));
    let range = format!("{}-{}", s.offset, s.offset + len - 1);
    let resp = reg
        .send(&Scope::push(repo), false, |h| {
            let rb = h
                .patch(s.location.clone())
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .header(header::CONTENT_LENGTH, len)
                .header("Content-Range", range.as_str());
            match body.lock().unwrap_or_else(|p| p.into_inner()).take() {
                Some(b) => rb.body(b),
                None => rb,
            }
        })
        .await;
    if let Some(e) = failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    let resp = resp?;
    if resp.status() != StatusCode::ACCEPTED {
        return Err(reg.http_error(resp, "PATCH").await);
    }
    let next = location_of(reg, &resp)?;
    let h = hasher_slot
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| Error::Protocol {
            registry: reg.name().into(),
            reason: "chunk body was not fully sent".into(),
        })?;
    Ok((next, h))
}

/// The hash of the first `offset` bytes, read again from the source when resuming.
async fn prefix_hash(src: &dyn BlobSource, blob: &BlobRef, offset: u64) -> Result<Hasher> {
    let mut h = Hasher::new(blob.digest.algorithm());
    if offset == 0 {
        return Ok(h);
    }
    let mut r = src.open(0).await?.take(offset);
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = r
            .read(&mut buf)
            .await
            .map_err(|e| Error::io(format!("blob {}", blob.digest), e))?;
        if n == 0 {
            return Ok(h);
        }
        h.update(&buf[..n]);
    }
}

async fn finish(
    reg: &Registry,
    blob: &BlobRef,
    resp: Result<reqwest::Response>,
    failure: &Mutex<Option<Error>>,
) -> Result<()> {
    if let Some(e) = failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    let resp = resp?;
    if resp.status() == StatusCode::CREATED || resp.status().is_success() {
        return Ok(());
    }
    let status = resp.status();
    let text = crate::client::error_text(resp).await;
    if text.contains("DIGEST_INVALID") || text.contains("SIZE_INVALID") {
        let reason = format!(
            "blob {} does not match its digest; the registry refused it ({text})",
            blob.digest
        );
        return Err(Error::Protocol {
            registry: reg.name().into(),
            reason,
        });
    }
    Err(Error::Http {
        registry: reg.name().into(),
        method: "PUT".into(),
        url: format!("blob upload {}", blob.digest),
        status: status.as_u16(),
        body: text,
    })
}

async fn cancel(reg: &Registry, repo: &str, location: &url::Url) {
    let _ = reg
        .send(&Scope::push(repo), false, |h| h.delete(location.clone()))
        .await;
}

fn with_digest(location: &url::Url, digest: &Digest) -> url::Url {
    let mut u = location.clone();
    u.query_pairs_mut()
        .append_pair("digest", &digest.to_string());
    u
}

/// A request body that reports progress, hashes what it sends and fails (instead of finishing the
/// request) when the content does not have the size or digest the descriptor promised.
struct Verified {
    inner: ReaderStream<BoxRead>,
    digest: Digest,
    size: u64,
    sent: u64,
    end: u64,
    hasher: Option<Hasher>,
    verify_at_end: bool,
    keep: Option<Arc<Mutex<Option<Hasher>>>>,
    finalized: bool,
    progress: Sink,
    failure: Arc<Mutex<Option<Error>>>,
}

impl Verified {
    fn new(
        reader: BoxRead,
        blob: &BlobRef,
        offset: u64,
        hasher: Option<Hasher>,
        progress: Sink,
        failure: Arc<Mutex<Option<Error>>>,
    ) -> Verified {
        Verified {
            inner: ReaderStream::with_capacity(reader, 256 << 10),
            digest: blob.digest.clone(),
            size: blob.size,
            sent: offset,
            end: blob.size,
            hasher,
            verify_at_end: true,
            keep: None,
            finalized: false,
            progress,
            failure,
        }
    }

    /// For a chunk: stop after `len` bytes and hand the running hash back instead of verifying.
    fn keep_hasher(mut self, slot: Arc<Mutex<Option<Hasher>>>, len: u64) -> Verified {
        self.end = self.sent + len;
        self.verify_at_end = false;
        self.keep = Some(slot);
        self
    }

    fn fail(&mut self, e: Error) -> Poll<Option<std::result::Result<Bytes, std::io::Error>>> {
        let msg = e.to_string();
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        Poll::Ready(Some(Err(std::io::Error::other(msg))))
    }

    /// Once the last byte is read — before it is handed to the request, so that the registry never
    /// receives a complete body with the wrong content — verify the digest, or hand the running
    /// hash over to the next chunk.
    fn finalize(&mut self) -> Result<()> {
        if self.finalized {
            return Ok(());
        }
        self.finalized = true;
        let hasher = self.hasher.take();
        if let (true, Some(h)) = (self.verify_at_end, hasher.clone()) {
            h.finish_verify(&self.digest)?;
        }
        if let Some(slot) = &self.keep {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = hasher;
        }
        Ok(())
    }

    fn at_end(&mut self) -> Poll<Option<std::result::Result<Bytes, std::io::Error>>> {
        if self.sent != self.end {
            // The source ended early: it holds fewer bytes than the descriptor says.
            let (expected, actual) = (self.size, self.sent);
            return self.fail(Error::SizeMismatch {
                digest: self.digest.clone(),
                expected,
                actual,
            });
        }
        if let Err(e) = self.finalize() {
            return self.fail(e);
        }
        Poll::Ready(None)
    }
}

impl Stream for Verified {
    type Item = std::result::Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => this.at_end(),
            Poll::Ready(Some(Err(e))) => {
                let path = format!("blob {}", this.digest);
                this.fail(Error::io(path, e))
            }
            Poll::Ready(Some(Ok(chunk))) => {
                this.sent += chunk.len() as u64;
                if this.sent > this.end {
                    let (expected, actual) = (this.size, this.sent);
                    return this.fail(Error::SizeMismatch {
                        digest: this.digest.clone(),
                        expected,
                        actual,
                    });
                }
                if let Some(h) = &mut this.hasher {
                    h.update(&chunk);
                }
                if this.sent == this.end
                    && let Err(e) = this.finalize()
                {
                    return this.fail(e);
                }
                (this.progress)(&Event::BlobBytes {
                    digest: this.digest.clone(),
                    done: this.sent,
                    size: this.size,
                });
                Poll::Ready(Some(Ok(chunk)))
            }
        }
    }
}

/// The journal of open upload sessions: one small file per (registry, repository, blob) holding
/// the session's Location, written after every chunk and removed when the blob is complete.
struct Journal {
    path: PathBuf,
}

impl Journal {
    fn new(dir: &Path, registry: &str, repo: &str, digest: &Digest) -> Journal {
        let key = Digest::of(format!("{registry}\n{repo}\n{digest}").as_bytes());
        Journal {
            path: dir.join(format!("upload-{}", &key.hex()[..32])),
        }
    }
    fn load(&self) -> Option<String> {
        std::fs::read_to_string(&self.path)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
    fn save(&self, location: &url::Url) {
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = self.path.with_extension("tmp");
        if std::fs::write(&tmp, location.as_str())
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .is_err()
        {
            tracing::warn!(path = %self.path.display(), "cannot record the upload session; an interrupted upload will restart from zero");
        }
    }
    fn forget(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_end_accepts_both_forms_and_refuses_garbage() {
        assert_eq!(parse_range_end("0-1023"), Some(1023));
        assert_eq!(parse_range_end("bytes=0-9"), Some(9));
        assert_eq!(parse_range_end("5-2"), None);
        assert_eq!(parse_range_end("x"), None);
    }

    #[test]
    fn digest_query_is_appended_to_a_location_with_its_own_query() {
        let u = url::Url::parse("http://r/v2/a/blobs/uploads/u1?_state=abc").unwrap();
        let d = Digest::of(b"");
        assert_eq!(
            with_digest(&u, &d).as_str(),
            format!(
                "http://r/v2/a/blobs/uploads/u1?_state=abc&digest=sha256%3A{}",
                d.hex()
            )
        );
    }
}
