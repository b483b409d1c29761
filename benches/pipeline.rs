//! Throughput of each pipeline stage over a generated 64 MiB transcript: framing alone,
//! framing + grammar (the scanner), and the whole check (scanner + session machine).
//! Run with `cargo bench`; the input is generated in memory, deterministically.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quant_session::frame::Framer;
use quant_session::pipeline::{Options, Pipeline};
use quant_session::rule::RuleOptions;
use quant_session::scan::{ScanOptions, Scanner};
use quant_session::sink::{Flow, Item, Sink};

mod transcript;

const CHUNK: usize = 64 * 1024;

struct Count(u64);

impl Sink for Count {
    type Error = std::convert::Infallible;

    fn push(&mut self, _input: &str, item: Item<'_>) -> Result<Flow, Self::Error> {
        if let Item::Finding(_) = item {
            self.0 += 1;
        }
        Ok(Flow::Continue)
    }

    fn shows_unchanged(&self) -> bool {
        false
    }
}

fn stages(c: &mut Criterion) {
    let input = transcript::generate(64 << 20, 7);
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.sample_size(10);
    group.bench_function("frame", |b| {
        b.iter(|| {
            let mut framer = Framer::default();
            let mut n = 0u64;
            let mut sink = |s: quant_session::frame::Segment<'_>| n += s.bytes.len() as u64;
            for chunk in input.chunks(CHUNK) {
                framer.feed(chunk, &mut sink);
            }
            framer.finish(&mut sink);
            n
        })
    });
    group.bench_function("scan", |b| {
        b.iter(|| {
            let mut scanner = Scanner::new(ScanOptions::default());
            let mut n = 0u64;
            let mut sink = |_e| n += 1;
            for chunk in input.chunks(CHUNK) {
                scanner.feed(chunk, &mut sink);
            }
            scanner.finish(&mut sink);
            n
        })
    });
    group.bench_function("check", |b| {
        b.iter(|| {
            let mut pipeline = Pipeline::new(
                "bench",
                Options {
                    rules: Some(RuleOptions::default()),
                    ..Options::default()
                },
            );
            let mut findings = Count(0);
            for chunk in input.chunks(CHUNK) {
                let Ok(_) = pipeline.feed(chunk, &mut findings);
            }
            let Ok(_) = pipeline.finish(&mut findings);
            assert_eq!(findings.0, 0, "the generated transcript is clean");
            findings.0
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
