//! Probe: time each checker strategy on one generated history (development aid).
use faultline::checker::synth::{generate, mutate, SynthConfig};
use faultline::checker::{check_measured, CheckOptions, ModelKind, Strategy};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let calls: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(500);
    let procs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
    let info: f64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0.05);
    let keys: Option<usize> = args.get(4).and_then(|s| s.parse().ok());
    let h = generate(&SynthConfig {
        seed: 7,
        calls,
        processes: procs,
        keys,
        info_rate: info,
        values: 5,
    });
    let bad = mutate(&h).unwrap();
    println!(
        "ops {} crashed {}",
        h.ops.len(),
        h.ops
            .iter()
            .filter(|o| o.kind == faultline::history::OpType::Info)
            .count()
    );
    for (name, hist) in [("valid", &h), ("mutated", &bad)] {
        for s in [Strategy::Walk, Strategy::Wgl, Strategy::Compete] {
            let o = CheckOptions {
                model: ModelKind::Kv,
                time_limit: Some(Duration::from_secs(10)),
                ..CheckOptions::default()
            };
            let t = Instant::now();
            let (r, st) = check_measured(hist, &o, s).unwrap();
            let v = format!("{:?}", r.verdict);
            println!(
                "{name} {s:?}: {:.3}s peak {} KiB {}",
                t.elapsed().as_secs_f64(),
                st.peak_bytes >> 10,
                &v[..v.len().min(60)]
            );
        }
    }
}
#[allow(dead_code)]
fn unused() {}
