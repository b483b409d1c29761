//! The OTLP/HTTP exporter (SPEC §9): the traces POSTed to a collector beside the
//! pipeline, never on its path. Requests wait in a bounded queue for a thread of their
//! own, which sends each with one deadline and retries it with backoff when the
//! collector says it is busy (429, 502, 503, 504); a slow or absent collector never
//! holds up checking or the passthrough. What could not be sent is counted and said at
//! the end of the run (exit 2).
//!
//! Configured as the OpenTelemetry SDKs are, by the `OTEL_EXPORTER_OTLP_*` environment
//! (endpoint per signal, headers, protocol `http/protobuf` by default or `http/json`,
//! timeout, gzip), `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`; http and https
//! through `ureq` with rustls (no system OpenSSL).

use std::io::{self, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Requests waiting to be sent, at most: past it, new ones are counted as dropped.
const QUEUE: usize = 256;
/// How long a run ended by a signal still waits for its last requests: long enough for
/// a collector that answers, short enough that Ctrl-C still ends the run within
/// [`crate::interrupt::GRACE`] (after which the run is ended for it).
const AFTER_SIGNAL: Duration = Duration::from_millis(300);
/// Attempts of one request when the collector is busy.
const ATTEMPTS: u32 = 4;

/// How requests are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Protobuf,
    Json,
}

/// What is exported: traces (sessions as spans) or logs (findings as log records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Logs,
}

impl Signal {
    fn path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Logs => "/v1/logs",
        }
    }

    /// `TRACES` or `LOGS`, as the per-signal variables spell it.
    fn word(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Logs => "LOGS",
        }
    }
}

/// Where and how to export.
#[derive(Debug, Clone)]
pub struct Config {
    pub signal: Signal,
    pub url: String,
    pub protocol: Protocol,
    pub headers: Vec<(String, String)>,
    /// One deadline per request, all its attempts included.
    pub timeout: Duration,
    pub gzip: bool,
    /// No endpoint was given: the default `http://localhost:4318` (said when it fails).
    pub defaulted: bool,
}

/// The environment as the OpenTelemetry SDKs read it: the signal's variable first,
/// then the general one.
fn env(signal: &str, general: &str) -> Option<String> {
    std::env::var(signal)
        .ok()
        .or_else(|| std::env::var(general).ok())
        .filter(|v| !v.trim().is_empty())
}

impl Config {
    /// The exporter's configuration: `url` (`--otlp-endpoint`: a base, to which
    /// `/v1/traces` is added unless it has a path) or the environment's endpoint
    /// (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else `http://localhost:4318`).
    pub fn from_env(url: Option<&str>) -> Result<Config, String> {
        Config::for_signal(Signal::Traces, url)
    }

    /// The logs exporter's configuration (findings as log records): the logs endpoint
    /// (`OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` as it is, else the base + `/v1/logs`; a
    /// `--otlp-endpoint` ending in `/v1/traces` gives its `/v1/logs`). `None` when
    /// `OTEL_LOGS_EXPORTER=none`, or when `--otlp-endpoint` names a path of its own (no
    /// logs path can be told from it).
    pub fn logs_from_env(url: Option<&str>) -> Result<Option<Config>, String> {
        if std::env::var("OTEL_LOGS_EXPORTER").is_ok_and(|v| v.trim() == "none") {
            return Ok(None);
        }
        let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
        // Only the traces endpoint named: the logs go nowhere the user did not name.
        if url.is_none()
            && !set("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
            && !set("OTEL_EXPORTER_OTLP_ENDPOINT")
            && set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        {
            return Ok(None);
        }
        let base = match url {
            Some(u) => {
                let full = with_path(u, Signal::Traces.path())?;
                match full.strip_suffix(Signal::Traces.path()) {
                    Some(base) => Some(base.to_owned()),
                    None => return Ok(None),
                }
            }
            None => None,
        };
        Config::for_signal(Signal::Logs, base.as_deref()).map(Some)
    }

    fn for_signal(signal: Signal, url: Option<&str>) -> Result<Config, String> {
        let var = |what: &str| format!("OTEL_EXPORTER_OTLP_{}_{what}", signal.word());
        let mut defaulted = false;
        let url = match url {
            Some(u) => with_path(u, signal.path())?,
            None => match std::env::var(var("ENDPOINT")) {
                Ok(u) if !u.trim().is_empty() => check_scheme(u.trim())?.to_owned(),
                // The general endpoint is a base: the signal's path is always added
                // (`https://host/otlp` sends traces to `https://host/otlp/v1/traces`).
                _ => match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
                    Ok(u) if !u.trim().is_empty() => {
                        let u = check_scheme(u.trim())?;
                        // The path goes before a query (`…/otlp?k=v` → `…/otlp/v1/traces?k=v`).
                        let (base, query) = u.split_once('?').unwrap_or((u, ""));
                        let query = if query.is_empty() {
                            String::new()
                        } else {
                            format!("?{query}")
                        };
                        format!("{}{}{query}", base.trim_end_matches('/'), signal.path())
                    }
                    _ => {
                        defaulted = true;
                        format!("http://localhost:4318{}", signal.path())
                    }
                },
            },
        };
        let protocol = match env(&var("PROTOCOL"), "OTEL_EXPORTER_OTLP_PROTOCOL")
            .as_deref()
            .map(str::trim)
        {
            None | Some("http/protobuf") => Protocol::Protobuf,
            Some("http/json") => Protocol::Json,
            Some(other) => {
                return Err(format!(
                    "OTEL_EXPORTER_OTLP_PROTOCOL `{other}`: this exporter speaks http/protobuf and http/json"
                ));
            }
        };
        let timeout = match env(&var("TIMEOUT"), "OTEL_EXPORTER_OTLP_TIMEOUT") {
            Some(ms) => Duration::from_millis(ms.trim().parse::<u64>().map_err(|_| {
                format!("OTEL_EXPORTER_OTLP_TIMEOUT `{ms}`: expected milliseconds")
            })?),
            None => Duration::from_secs(10),
        }
        .clamp(Duration::from_millis(1), Duration::from_secs(3600));
        let gzip = match env(&var("COMPRESSION"), "OTEL_EXPORTER_OTLP_COMPRESSION")
            .as_deref()
            .map(str::trim)
        {
            None | Some("none") => false,
            Some("gzip") => true,
            Some(other) => {
                return Err(format!(
                    "OTEL_EXPORTER_OTLP_COMPRESSION `{other}`: expected gzip or none"
                ));
            }
        };
        let headers = match env(&var("HEADERS"), "OTEL_EXPORTER_OTLP_HEADERS") {
            Some(h) => headers(&h)?,
            None => Vec::new(),
        };
        Ok(Config {
            signal,
            url,
            protocol,
            headers,
            timeout,
            gzip,
            defaulted,
        })
    }
}

/// `OTEL_EXPORTER_OTLP_HEADERS`, checked before anything is sent: each entry
/// `name=value`, the name an HTTP token, the value (percent-decoded) without a line
/// break or other control character.
fn headers(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for entry in text.split(',').filter(|e| !e.trim().is_empty()) {
        let Some((name, _)) = entry.split_once('=') else {
            return Err(format!(
                "OTEL_EXPORTER_OTLP_HEADERS: `{}` is no `name=value`",
                entry.trim()
            ));
        };
        let name = name.trim();
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(token) {
            return Err(format!(
                "OTEL_EXPORTER_OTLP_HEADERS: `{name}` is no HTTP header name"
            ));
        }
    }
    for (name, value) in key_values(text) {
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(format!(
                "OTEL_EXPORTER_OTLP_HEADERS: the value of `{name}` holds a control character"
            ));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// A URL as messages show it: escaped, and without a password or a query (either may
/// hold a key).
pub fn shown(url: &str) -> String {
    let url = url.split('?').next().unwrap_or(url);
    let hidden = match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let slash = if rest.contains('/') { "/" } else { "" };
            format!("{scheme}://{host}{slash}{path}")
        }
        None => url.to_owned(),
    };
    crate::sanitize::escape(hidden.as_bytes())
}

/// `http(s)://HOST[:PORT]` with the signal's `path` added when it has no path.
fn with_path(url: &str, path: &str) -> Result<String, String> {
    let url = check_scheme(url.trim())?;
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let rest = base.split_once("://").map_or("", |(_, r)| r);
    Ok(match rest.find('/') {
        Some(i) if rest.len() > i + 1 => url.to_owned(),
        _ if query.is_empty() => format!("{}{path}", base.trim_end_matches('/')),
        _ => format!("{}{path}?{query}", base.trim_end_matches('/')),
    })
}

fn check_scheme(url: &str) -> Result<&str, String> {
    let host = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("{url}: expected http://HOST[:PORT][/PATH] or https://…"))?;
    if host.is_empty() || host.starts_with('/') {
        return Err(format!("{url}: no host"));
    }
    let authority = host.split('/').next().unwrap_or("");
    if let Some((_, port)) = authority.rsplit_once(':')
        && !authority.ends_with(']')
        && port.parse::<u16>().is_err()
    {
        return Err(format!("{url}: the port `{port}` is no port number"));
    }
    Ok(url)
}

/// `k1=v1,k2=v2` (W3C baggage style, values percent-decoded), as the SDKs read
/// `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES`.
pub fn key_values(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_owned(), percent_decode(v.trim())))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the sending thread did.
#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    failed: u64,
    /// The first failure, said at the end.
    first: Option<String>,
    /// Once the run has ended: when waiting for the collector stops (what is still
    /// queued then is not sent, and counted).
    give_up: Option<Instant>,
    not_sent: u64,
    /// How the collector answered a logs request it has no route for (404, 405, 501):
    /// it takes no logs.
    unsupported: Option<String>,
    /// Requests the collector answered so without a route.
    unrouted: u64,
    /// Spans or log records the collector took the request of but refused
    /// (`partial_success`), and its first reason.
    rejected: u64,
    rejected_why: Option<String>,
    /// The last request failed: the collector is not taking them now.
    failing: bool,
}

/// The exporter: a queue and the thread that empties it.
pub struct Exporter {
    config: Config,
    queue: Option<mpsc::SyncSender<Vec<u8>>>,
    thread: Option<JoinHandle<()>>,
    tally: Arc<Mutex<Tally>>,
    dropped: u64,
    /// Requests queued (not dropped).
    queued: u64,
    /// A wait for room in the queue ran out: the collector does not keep up, and no
    /// further request waits (the checking is never held up for long).
    stalled: bool,
}

impl Exporter {
    pub fn start(config: Config) -> Exporter {
        let (queue, requests) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
        let tally = Arc::new(Mutex::new(Tally::default()));
        let thread = {
            let config = config.clone();
            let tally = tally.clone();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(config.timeout))
                    .http_status_as_error(false)
                    // A redirect is said, never followed: an OTLP POST turned into a GET
                    // elsewhere (with the headers, which may hold a key) delivers nothing.
                    .max_redirects(0)
                    .user_agent(concat!("quant-session/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .into();
                for body in requests {
                    {
                        let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                        if t.give_up.is_some_and(|at| Instant::now() >= at) {
                            t.not_sent += 1;
                            continue;
                        }
                    }
                    let result = send(&agent, &config, &body);
                    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                    match result {
                        Ok(None) => {
                            t.sent += 1;
                            t.failing = false;
                        }
                        // Taken in part: what the collector refused is said.
                        Ok(Some((rejected, why))) => {
                            t.sent += 1;
                            t.failing = false;
                            t.rejected += rejected;
                            t.rejected_why.get_or_insert(why);
                        }
                        // A collector without a logs route (Phoenix takes traces only):
                        // the findings went as span events; said once, not a failure.
                        Err(e)
                            if config.signal == Signal::Logs
                                && ["404", "405", "501"].iter().any(|s| {
                                    e.strip_prefix("the collector answered ")
                                        .is_some_and(|rest| rest.starts_with(s))
                                }) =>
                        {
                            t.unsupported
                                .get_or_insert_with(|| e.chars().take(26).collect());
                            t.unrouted += 1;
                        }
                        Err(e) => {
                            t.failed += 1;
                            t.failing = true;
                            t.first.get_or_insert(e);
                        }
                    }
                }
            })
        };
        Exporter {
            config,
            queue: Some(queue),
            thread: Some(thread),
            tally,
            dropped: 0,
            queued: 0,
            stalled: false,
        }
    }

    /// Queues a request. Live (`wait` false: a worker's output passes meanwhile), it
    /// never waits: a full queue drops it, counted. Otherwise (an input has ended, no
    /// output waits on the run) a full queue is waited on, up to one request deadline
    /// or a signal, so that checking a directory goes at the collector's pace rather
    /// than dropping what it cannot take at once.
    pub fn export<R: prost::Message + serde::Serialize>(
        &mut self,
        request: &R,
        wait: bool,
    ) -> io::Result<()> {
        let mut body = encode(self.config.protocol, self.config.gzip, request)?;
        let Some(queue) = &self.queue else {
            return Ok(());
        };
        // Waited on only while the collector takes what it is sent: one that fails
        // or hangs is not waited on (what does not fit is dropped, and said).
        let failing = || self.tally.lock().unwrap_or_else(|e| e.into_inner()).failing;
        let wait = wait && !self.stalled && !failing();
        let until = Instant::now() + self.config.timeout;
        loop {
            match queue.try_send(body) {
                Ok(()) => {
                    self.queued += 1;
                    return Ok(());
                }
                Err(mpsc::TrySendError::Full(back))
                    if wait
                        && Instant::now() < until
                        && crate::interrupt::signal().is_none()
                        && !failing() =>
                {
                    body = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => {
                    // Nothing went out for a whole deadline: the collector hangs, and
                    // waiting on it again would hold the checking up once per input.
                    self.stalled |= wait;
                    self.dropped += 1;
                    return Ok(());
                }
            }
        }
    }

    /// Where it sends, as it is shown (see [`shown`]).
    pub fn url(&self) -> String {
        shown(&self.config.url)
    }

    /// Ends the export: waits for what is queued, at most one request deadline in all
    /// — at most [`AFTER_SIGNAL`] after a signal (a stopped `watch` still delivers its
    /// last sessions, and ends at once) — and says what could not be sent as an error.
    pub fn finish(&mut self) -> io::Result<()> {
        let after_signal = || Instant::now() + self.config.timeout.min(AFTER_SIGNAL);
        // A request in flight when the run ends has the rest of its own deadline, which
        // the margin lets it reach (its failure is then said as what it is).
        let mut until = if crate::interrupt::signal().is_some() {
            after_signal()
        } else {
            Instant::now() + self.config.timeout + Duration::from_millis(250)
        };
        let give_up = |until: Instant| {
            let mut t = self.tally.lock().unwrap_or_else(|e| e.into_inner());
            t.give_up = Some(until);
        };
        give_up(until);
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            // The thread ends once the queue is empty (what is left after `until` is
            // counted, not sent). The wait ends at `until` whatever is in flight, and
            // sooner when a signal comes meanwhile.
            // A collector that keeps taking requests is waited on for as long as it
            // does (a deadline from the last it took): what a directory queued arrives.
            // Failures are no progress.
            let mut signalled = crate::interrupt::signal().is_some();
            let answered = || self.tally.lock().unwrap_or_else(|e| e.into_inner()).sent;
            let mut seen = answered();
            while !thread.is_finished() && Instant::now() < until {
                if !signalled && crate::interrupt::signal().is_some() {
                    signalled = true;
                    until = until.min(after_signal());
                    give_up(until);
                }
                let now = answered();
                if now > seen && !signalled {
                    seen = now;
                    until = Instant::now() + self.config.timeout + Duration::from_millis(250);
                    give_up(until);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
        let mut t = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        // What is still queued or in flight when the wait ends is not sent either.
        let answered = t.sent + t.failed + t.not_sent + t.unrouted;
        t.not_sent += self.queued.saturating_sub(answered);
        if let Some(answer) = &t.unsupported {
            crate::error::note(&format!(
                "note: {} at {}: it takes no logs; the findings were sent as span events only (OTEL_LOGS_EXPORTER=none stops sending them as logs)",
                answer,
                crate::sanitize::escape(self.config.url.as_bytes())
            ));
        }
        let unsent = t.not_sent + self.dropped;
        if t.failed == 0 && unsent == 0 && t.rejected == 0 {
            return Ok(());
        }
        let mut parts = Vec::new();
        if t.rejected > 0 {
            parts.push(format!(
                "the collector refused {} {} ({})",
                t.rejected,
                match self.config.signal {
                    Signal::Traces => "spans",
                    Signal::Logs => "log records",
                },
                t.rejected_why.as_deref().unwrap_or("no reason given")
            ));
        }
        if t.failed > 0 {
            parts.push(format!(
                "{} of {} requests failed (first: {}{})",
                t.failed,
                t.failed + t.sent,
                t.first.as_deref().unwrap_or("?"),
                if self.config.defaulted {
                    "; no endpoint was set, so the default http://localhost:4318 was tried: \
                     set OTEL_EXPORTER_OTLP_ENDPOINT or --otlp-endpoint"
                } else {
                    ""
                }
            ));
        }
        if self.dropped > 0 {
            parts.push(format!(
                "{} requests dropped: the collector could not keep up ({QUEUE} waiting)",
                self.dropped
            ));
        }
        if t.not_sent > 0 {
            parts.push(format!(
                "{} requests not sent within the deadline after the run ended",
                t.not_sent
            ));
        }
        Err(io::Error::other(parts.join("; ")))
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        // A run that ends early (a signal) does not wait for the collector.
        drop(self.queue.take());
    }
}

/// The request's body as the protocol asks, gzip-compressed when configured.
fn encode<R: prost::Message + serde::Serialize>(
    protocol: Protocol,
    gzip: bool,
    request: &R,
) -> io::Result<Vec<u8>> {
    let body = match protocol {
        Protocol::Protobuf => prost::Message::encode_to_vec(request),
        Protocol::Json => serde_json::to_vec(request).map_err(io::Error::other)?,
    };
    if !gzip {
        return Ok(body);
    }
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&body)?;
    z.finish()
}

/// What a collector refused of a request it took (`partial_success`: the count and its
/// reason), read from its answer.
#[derive(Clone, PartialEq, prost::Message)]
struct Answer {
    #[prost(message, optional, tag = "1")]
    partial_success: Option<Refused>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Refused {
    /// `rejected_spans` or `rejected_log_records`.
    #[prost(int64, tag = "1")]
    rejected: i64,
    #[prost(string, tag = "2")]
    error_message: String,
}

/// The refused part of a 2xx answer's body (binary protobuf or OTLP/JSON).
fn refused(body: &[u8], json: bool) -> Option<(u64, String)> {
    let (rejected, why) = if json {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        let p = v.get("partialSuccess")?;
        let n = ["rejectedSpans", "rejectedLogRecords"]
            .iter()
            .find_map(|k| p.get(k))
            .and_then(|n| n.as_i64().or_else(|| n.as_str()?.parse().ok()))
            .unwrap_or(0);
        let why = p.get("errorMessage").and_then(|m| m.as_str()).unwrap_or("");
        (n, why.to_owned())
    } else {
        let answer: Answer = prost::Message::decode(body).ok()?;
        let p = answer.partial_success?;
        (p.rejected, p.error_message)
    };
    (rejected > 0).then(|| {
        let why = if why.is_empty() {
            "no reason given".to_owned()
        } else {
            crate::sanitize::quote(why.as_bytes(), 200)
        };
        (u64::try_from(rejected).unwrap_or(0), why)
    })
}

/// What a failed answer most likely means, for the user to act on.
fn hint(status: u16, config: &Config) -> &'static str {
    match (status, config.protocol) {
        (415, Protocol::Json) => {
            ": it does not take OTLP/JSON (Arize Phoenix takes binary protobuf only): \
             set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"
        }
        (415, Protocol::Protobuf) => {
            ": it does not take binary protobuf: try OTEL_EXPORTER_OTLP_PROTOCOL=http/json"
        }
        (404 | 405, _) => {
            ": no OTLP route at this URL; check its path (OTLP/HTTP takes /v1/traces)"
        }
        (401 | 403, _) => ": check the credentials in OTEL_EXPORTER_OTLP_HEADERS",
        (413, _) => ": the request is too large for it",
        _ => "",
    }
}

/// An error of the connection itself, with what it most likely means.
fn io_hint(error: &str) -> &'static str {
    if error.contains("Connection refused") {
        ": nothing listens there"
    } else if error.contains("HTTP version") || error.contains("http parse") {
        ": it does not speak HTTP/1.1 (a gRPC port? this exporter speaks OTLP/HTTP, \
         usually on port 4318)"
    } else if error.contains("InvalidContentType") || error.contains("corrupt message") {
        ": no TLS there (an https:// URL for an http:// collector?)"
    } else {
        ""
    }
}

/// Sends one request: retried with backoff while the collector is busy, within the
/// request's deadline. `Ok(Some(…))`: taken, but the collector refused part of it.
fn send(
    agent: &ureq::Agent,
    config: &Config,
    body: &[u8],
) -> Result<Option<(u64, String)>, String> {
    let deadline = Instant::now() + config.timeout;
    let content_type = match config.protocol {
        Protocol::Protobuf => "application/x-protobuf",
        Protocol::Json => "application/json",
    };
    let mut wait = Duration::from_millis(250);
    for attempt in 1..=ATTEMPTS {
        let mut request = agent.post(&config.url).header("Content-Type", content_type);
        if config.gzip {
            request = request.header("Content-Encoding", "gzip");
        }
        for (k, v) in &config.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let mut response = match request.send(body) {
            Ok(response) => response,
            Err(e) => {
                let e = crate::sanitize::escape(e.to_string().as_bytes());
                let hint = io_hint(&e);
                return Err(format!("{e}{hint}"));
            }
        };
        let status = response.status().as_u16();
        match status {
            200..=299 => {
                let json = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("json"));
                let answer = response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_vec()
                    .unwrap_or_default();
                return Ok(refused(&answer, json));
            }
            300..=399 => {
                let to = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(|l| crate::sanitize::quote(l.as_bytes(), 200))
                    .unwrap_or_else(|| "nowhere said".to_owned());
                return Err(format!(
                    "the collector answered {status}, a redirect to {to}: OTLP requests are \
                     not redirected (give that URL, if it is the collector's)"
                ));
            }
            429 | 502 | 503 | 504 if attempt < ATTEMPTS && Instant::now() + wait < deadline => {
                std::thread::sleep(wait);
                wait *= 2;
            }
            _ => {
                let text = response
                    .body_mut()
                    .with_config()
                    .limit(4096)
                    .read_to_vec()
                    .unwrap_or_default();
                let said = std::str::from_utf8(&text)
                    .ok()
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| format!(" ({})", crate::sanitize::quote(t.as_bytes(), 160)))
                    .unwrap_or_default();
                return Err(format!(
                    "the collector answered {status}{said}{}",
                    hint(status, config)
                ));
            }
        }
    }
    Err("the collector stayed busy".to_owned())
}
