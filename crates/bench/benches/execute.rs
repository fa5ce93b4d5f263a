//! Criterion benches of `execute_block`: sequential vs the parallel engine at
//! 1 and 2 threads (and the core count) on smaller versions of the gigagas
//! blocks, so that a run takes about a minute and a half: `cargo bench -p mosaic-bench`
//! (filter with e.g. `-- erc20`). Throughput is counted in gas. The erc20
//! and uniswap blocks need the npm artifacts
//! (`scripts/install-bench-artifacts.sh`) and are skipped without them. Each
//! block is checked once, parallel against sequential, before it is timed.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mosaic_bench::{Erc20Params, Prepared, RawParams, UniswapParams, WorkloadResult};
use mosaic_executor::{BlockOutput, Engine, ExecMode, ExecOptions, execute_block};
use std::time::Duration;

fn options(engine: Engine, threads: usize) -> ExecOptions {
    ExecOptions { engine, threads, mode: ExecMode::Import, ..Default::default() }
}

fn execute(p: &Prepared, options: &ExecOptions) -> BlockOutput {
    match execute_block(&p.spec, &p.block, &p.txs, &p.state, options) {
        Ok(out) => out,
        Err(e) => panic!("benchmark block failed: {e}"),
    }
}

fn thread_counts() -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut counts = vec![1, 2];
    if cores > 2 {
        counts.push(cores);
    }
    counts
}

fn bench_block(c: &mut Criterion, name: &str, prepared: WorkloadResult<Prepared>) {
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("skipping {name}: {e}");
            return;
        }
    };
    let sequential = options(Engine::Sequential, 0);
    let reference = execute(&prepared, &sequential);
    for count in prepared.success_counts(&reference) {
        assert_eq!(count.succeeded, count.total, "{name}: {} transactions failed", count.class.name());
    }
    for &threads in &thread_counts() {
        let out = execute(&prepared, &options(Engine::Parallel, threads));
        assert!(out.same_result(&reference), "{name}: parallel ({threads} threads) differs from sequential");
    }

    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(reference.gas_used));
    group.bench_function("sequential", |b| b.iter(|| execute(&prepared, &sequential)));
    for threads in thread_counts() {
        let parallel = options(Engine::Parallel, threads);
        group.bench_with_input(BenchmarkId::new("parallel", threads), &parallel, |b, parallel| {
            b.iter(|| execute(&prepared, parallel))
        });
    }
    group.finish();
}

fn blocks(c: &mut Criterion) {
    bench_block(c, "raw", mosaic_bench::raw(RawParams { txs: 5_000, ..Default::default() }));
    bench_block(c, "erc20", mosaic_bench::erc20(Erc20Params { txs: 4_000, ..Default::default() }));
    let uniswap = UniswapParams { swaps: 1_000, pools: 8, ..Default::default() };
    bench_block(c, "uniswap", mosaic_bench::uniswap(uniswap));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = blocks
}
criterion_main!(benches);
