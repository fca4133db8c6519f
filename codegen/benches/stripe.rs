//! Generation speed on the corpus's largest spec, Stripe's `spec3.json` (4.2 MB), against the
//! time serde_json alone takes to parse it. Run in release:
//!
//! ```sh
//! cargo bench -p codegen --bench stripe            # CODEGEN_BENCH_RUNS=N (default 15)
//! ```
//!
//! Prints the minimum and median of N runs for the serde_json parse, for `openapiv3`'s whole
//! model read from the same text alone (what a structure check by `openapiv3` alone would cost;
//! the generator's check reads only the document's structure outside Schema Objects with it),
//! for each stage of `codegen::generate_timed`, and the ratio of whole generation to the
//! serde_json parse, and `codegen::load` (the parse, then the structure check, on one thread).
//! Skips with a message when `../shared/corpus` is absent (it is not part of a clone). See
//! "Speed" in `codegen/README.md`.

#![allow(clippy::unwrap_used, clippy::print_stdout)] // a benchmark binary: panics are failures

use std::time::{Duration, Instant};

// The same allocator as the `cargo codegen` binary, so the figures are the CLI's (the
// serde_json parse it is compared with runs under it too).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpus/stripe-spec3-2022-04-12.json"
);

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[0], samples[samples.len() / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    // CODEGEN_BENCH_SPEC=PATH times another JSON spec the same way.
    let path = std::env::var("CODEGEN_BENCH_SPEC").unwrap_or_else(|_| SPEC.to_owned());
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("stripe bench: skipped: cannot read {path} (the corpus is not part of a clone)");
        return;
    };
    let runs: usize = std::env::var("CODEGEN_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(15)
        .max(1);
    let settings = codegen::Settings::default();
    let name = std::path::Path::new(&path)
        .file_name()
        .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
    let name = name.as_str();

    // Warm up (page cache, allocator), and check the output once.
    let code = codegen::generate(name, &text, true, &settings).unwrap();
    let _: serde_json::Value = serde_json::from_str(&text).unwrap();
    std::thread::sleep(Duration::from_millis(30));

    let mut serde = Vec::new();
    let mut typed = Vec::new();
    let mut typed_drop = Vec::new();
    let mut load = Vec::new();
    let mut parse = Vec::new();
    let mut check = Vec::new();
    let mut lower = Vec::new();
    let mut emit = Vec::new();
    let mut render = Vec::new();
    let mut total = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        serde.push(t.elapsed());
        drop(value);

        // For comparison: `openapiv3`'s whole model read from the text, alone.
        let t = Instant::now();
        let model: openapiv3::OpenAPI = serde_json::from_str(&text).unwrap();
        typed.push(t.elapsed());
        let t = Instant::now();
        drop(model);
        typed_drop.push(t.elapsed());

        // The parse and the structure check, one after the other on this thread.
        let t = Instant::now();
        let doc = codegen::load(name, &text, true).unwrap();
        load.push(t.elapsed());
        drop(doc);

        let t = Instant::now();
        let (out, timings) = codegen::generate_timed(name, &text, true, &settings).unwrap();
        total.push(t.elapsed());
        drop(out);
        // Generation frees the parsed document on a thread it does not wait for: let that
        // finish before the next round's serde_json parse, so it does not slow the reference.
        std::thread::sleep(Duration::from_millis(30));
        parse.push(timings.parse);
        check.push(timings.check);
        lower.push(timings.lower);
        emit.push(timings.emit);
        render.push(timings.render);
    }
    let (serde_min, serde_med) = stats(serde);
    let (total_min, total_med) = stats(total);
    println!(
        "{name}: {} bytes in, {} bytes ({} lines) out; {runs} runs, min / median",
        text.len(),
        code.len(),
        code.lines().count()
    );
    println!(
        "  serde_json::from_str::<Value>  {:8.1} / {:8.1} ms",
        ms(serde_min),
        ms(serde_med)
    );
    for (stage, samples) in [
        ("openapiv3 model from the text", typed),
        ("dropping that model", typed_drop),
        ("load (parse, then check)", load),
    ] {
        let (min, med) = stats(samples);
        println!("  {stage:<30} {:8.1} / {:8.1} ms", ms(min), ms(med));
    }
    println!("  codegen::generate_timed (stages overlap where cores are idle):");
    for (stage, samples) in [
        ("parse", parse),
        ("check (beside lowering, or after)", check),
        ("lower (+ analyse, name)", lower),
        ("emit (written directly)", emit),
        ("emit (prettyplease)", render),
    ] {
        let (min, med) = stats(samples);
        println!("    {stage:<28} {:8.1} / {:8.1} ms", ms(min), ms(med));
    }
    println!(
        "  generate (whole)               {:8.1} / {:8.1} ms",
        ms(total_min),
        ms(total_med)
    );
    println!(
        "  ratio generate / serde_json    {:8.2} / {:8.2} (target: at most 3)",
        total_min.as_secs_f64() / serde_min.as_secs_f64(),
        total_med.as_secs_f64() / serde_med.as_secs_f64()
    );
}
