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
const AFTER_SIGNAL: Duration = Duration::from_millis(500);
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
        let url = match url {
            Some(u) => with_path(u, signal.path())?,
            None => match std::env::var(var("ENDPOINT")) {
                Ok(u) if !u.trim().is_empty() => check_scheme(u.trim())?.to_owned(),
                _ => with_path(
                    &std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
                        .ok()
                        .filter(|u| !u.trim().is_empty())
                        .unwrap_or_else(|| "http://localhost:4318".to_owned()),
                    signal.path(),
                )?,
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
        let headers = env(&var("HEADERS"), "OTEL_EXPORTER_OTLP_HEADERS")
            .map(|h| key_values(&h))
            .unwrap_or_default();
        Ok(Config {
            signal,
            url,
            protocol,
            headers,
            timeout,
            gzip,
        })
    }
}

/// `http(s)://HOST[:PORT]` with the signal's `path` added when it has no path.
fn with_path(url: &str, path: &str) -> Result<String, String> {
    let url = check_scheme(url.trim())?;
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    Ok(match rest.find('/') {
        Some(i) if rest.len() > i + 1 => url.to_owned(),
        _ => format!("{}{path}", url.trim_end_matches('/')),
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
                        Ok(()) => t.sent += 1,
                        // A collector without a logs route (Phoenix takes traces only):
                        // the findings went as span events; said once, not a failure.
                        Err(e)
                            if config.signal == Signal::Logs
                                && [" 404", " 405", " 501"].iter().any(|s| e.ends_with(s)) =>
                        {
                            t.unsupported.get_or_insert(e);
                            t.unrouted += 1;
                        }
                        Err(e) => {
                            t.failed += 1;
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
        }
    }

    /// Queues a request; never waits (a full queue drops it, counted).
    pub fn export<R: prost::Message + serde::Serialize>(&mut self, request: &R) -> io::Result<()> {
        let body = encode(self.config.protocol, self.config.gzip, request)?;
        if let Some(queue) = &self.queue {
            match queue.try_send(body) {
                Ok(()) => self.queued += 1,
                Err(_) => self.dropped += 1,
            }
        }
        Ok(())
    }

    /// Ends the export: waits for what is queued, at most one request deadline in all
    /// — at most [`AFTER_SIGNAL`] after a signal (a stopped `watch` still delivers its
    /// last sessions, and ends at once) — and says what could not be sent as an error.
    pub fn finish(&mut self) -> io::Result<()> {
        let interrupted = crate::interrupt::signal().is_some();
        let wait = if interrupted {
            self.config.timeout.min(AFTER_SIGNAL)
        } else {
            self.config.timeout
        };
        let until = Instant::now() + wait;
        {
            let mut t = self.tally.lock().unwrap_or_else(|e| e.into_inner());
            t.give_up = Some(until);
        }
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            // The thread ends once the queue is empty (what is left after `until` is
            // counted, not sent) and a request in flight by its own deadline; after a
            // signal, the run stops waiting at `until` whatever is in flight.
            while interrupted && !thread.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(5));
            }
            if !interrupted || thread.is_finished() {
                let _ = thread.join();
            }
        }
        let mut t = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        // What is still queued or in flight when the wait ends is not sent either.
        let answered = t.sent + t.failed + t.not_sent + t.unrouted;
        t.not_sent += self.queued.saturating_sub(answered);
        if let Some(answer) = &t.unsupported {
            crate::error::note(&format!(
                "{} at {}: it takes no logs; the findings were sent as span events only (OTEL_LOGS_EXPORTER=none stops sending them as logs)",
                answer,
                crate::sanitize::escape(self.config.url.as_bytes())
            ));
        }
        let unsent = t.not_sent + self.dropped;
        if t.failed == 0 && unsent == 0 {
            return Ok(());
        }
        let mut parts = Vec::new();
        if t.failed > 0 {
            parts.push(format!(
                "{} of {} requests failed (first: {})",
                t.failed,
                t.failed + t.sent,
                t.first.as_deref().unwrap_or("?")
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
        Err(io::Error::other(format!(
            "OTLP export to {}: {}",
            self.config.url,
            parts.join("; ")
        )))
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

/// Sends one request: retried with backoff while the collector is busy, within the
/// request's deadline.
fn send(agent: &ureq::Agent, config: &Config, body: &[u8]) -> Result<(), String> {
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
        let status = match request.send(body) {
            Ok(response) => response.status().as_u16(),
            Err(e) => return Err(crate::sanitize::escape(e.to_string().as_bytes())),
        };
        match status {
            200..=299 => return Ok(()),
            429 | 502 | 503 | 504 if attempt < ATTEMPTS && Instant::now() + wait < deadline => {
                std::thread::sleep(wait);
                wait *= 2;
            }
            _ => return Err(format!("the collector answered {status}")),
        }
    }
    Err("the collector stayed busy".to_owned())
}
