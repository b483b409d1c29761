//! Writes a benchmark transcript: `cargo run --release --example gen_transcript OUT SIZE_MIB SEED`.
//! The mix follows the shared `gen_transcript.py` (see `benches/transcript.rs`).

#[path = "../benches/transcript.rs"]
mod transcript;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, out, size, seed] = &args[..] else {
        eprintln!("usage: gen_transcript OUT SIZE_MIB SEED");
        std::process::exit(2);
    };
    let size: usize = size.parse().unwrap_or(64);
    let seed: u64 = seed.parse().unwrap_or(7);
    std::fs::write(out, transcript::generate(size << 20, seed))
}
