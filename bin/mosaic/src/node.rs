//! `mosaic node`: the sequencer. Serves JSON-RPC over HTTP and WebSocket,
//! admits transactions into the pool, and produces blocks — as soon as
//! transactions are pending (all pending ones batched into one block), or
//! every `--block-time` milliseconds. Blocks are committed to the datadir
//! one write transaction each; a restart resumes from the head. SIGINT or
//! SIGTERM finishes the block being committed, stops the servers, closes the
//! database and exits 0.

use crate::datadir::{DB_FILE, GENESIS_FILE};
use clap::Args;
use eyre::{Context, Result, eyre};
use mosaic_chain::{DEV_ACCOUNTS, PoolConfig, Sequencer, StoredChain, TxPool, dev_genesis};
use mosaic_primitives::ChainSpec;
use mosaic_rpc::{RpcConfig, RpcContext};
use mosaic_storage::StoreOptions;
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// Arguments of `mosaic node`.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// Development chain: chain id 1337, the test mnemonic's first ten
    /// accounts funded (created on first start).
    #[arg(long, conflicts_with = "genesis")]
    dev: bool,
    /// geth-format genesis.json for a new datadir (checked against an
    /// existing one).
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// Data directory.
    #[arg(long, default_value = "./mosaic-data")]
    datadir: PathBuf,
    /// HTTP and WebSocket listen address.
    #[arg(long = "http.addr", default_value = "127.0.0.1")]
    http_addr: IpAddr,
    /// HTTP port.
    #[arg(long = "http.port", default_value_t = 8545)]
    http_port: u16,
    /// WebSocket port.
    #[arg(long = "ws.port", default_value_t = 8546)]
    ws_port: u16,
    /// Allowed CORS origins for HTTP, comma separated (`*` for any); none
    /// by default.
    #[arg(long = "http.corsdomain", value_delimiter = ',')]
    cors: Option<Vec<String>>,
    /// Produce a block every this many milliseconds (empty or not) instead
    /// of as soon as transactions are pending.
    #[arg(long)]
    block_time: Option<u64>,
    /// Fee recipient of produced blocks.
    #[arg(long, default_value = "0x0000000000000000000000000000000000000000")]
    beneficiary: alloy_primitives::Address,
}

/// Wakes the block producer.
#[derive(Debug, Default)]
struct Wake {
    pending: Mutex<bool>,
    signal: Condvar,
}

impl Wake {
    fn notify(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            *pending = true;
        }
        self.signal.notify_all();
    }

    /// Waits until notified or `timeout`; returns whether notified.
    fn wait(&self, timeout: Duration) -> bool {
        let Ok(guard) = self.pending.lock() else { return false };
        let Ok((mut guard, _)) = self.signal.wait_timeout_while(guard, timeout, |pending| !*pending) else {
            return false;
        };
        std::mem::take(&mut *guard)
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `mosaic node`.
pub(crate) fn run(args: &NodeArgs) -> Result<bool> {
    std::fs::create_dir_all(&args.datadir).with_context(|| format!("creating {}", args.datadir.display()))?;
    let saved = args.datadir.join(GENESIS_FILE);
    let genesis_text = match (&args.genesis, args.dev) {
        (Some(path), _) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        (None, _) if saved.exists() => std::fs::read(&saved)?,
        (None, true) => serde_json::to_vec_pretty(&dev_genesis().0)?,
        (None, false) => {
            return Err(eyre!(
                "{} has no chain yet: pass --dev or --genesis genesis.json",
                args.datadir.display()
            ));
        }
    };
    let genesis: alloy_genesis::Genesis = serde_json::from_slice(&genesis_text).context("parsing genesis")?;
    let spec = ChainSpec::from_genesis(&genesis).map_err(|e| eyre!("genesis: {e}"))?;
    let store = Arc::new(StoreOptions::new().open_or_create(args.datadir.join(DB_FILE))?);
    StoredChain::init_genesis(&store, &genesis, &spec)?;
    if !saved.exists() {
        std::fs::write(&saved, &genesis_text)?;
    }
    let chain = StoredChain::new(store.clone(), spec.clone()).with_options(crate::exec_options());
    let head = chain.head()?;
    let pool = Arc::new(TxPool::new(Arc::new(spec.clone()), PoolConfig::default()));
    let sequencer = Sequencer::new(chain, pool.clone(), args.beneficiary);

    let wake = Arc::new(Wake::default());
    let on_new_tx = {
        let wake = wake.clone();
        Arc::new(move || wake.notify()) as Arc<dyn Fn() + Send + Sync>
    };
    let config = RpcConfig {
        http_addr: SocketAddr::new(args.http_addr, args.http_port),
        ws_addr: SocketAddr::new(args.http_addr, args.ws_port),
        cors: args.cors.clone(),
        ..RpcConfig::default()
    };
    let ctx =
        RpcContext { store: store.clone(), pool: pool.clone(), spec: Arc::new(spec.clone()), on_new_tx };
    let rpc = mosaic_rpc::start(ctx, config)?;

    if args.dev || genesis.config.chain_id == mosaic_chain::DEV_CHAIN_ID {
        println!("Available accounts (10,000 ETH each on a new dev chain):");
        for (i, (address, key)) in DEV_ACCOUNTS.iter().enumerate() {
            println!("({i}) {address}  private key {key}");
        }
    }
    println!("chain id {}, head {} {}", spec.chain_id, head.number, head.hash);
    println!("HTTP JSON-RPC on http://{}", rpc.http_addr());
    println!("WebSocket JSON-RPC on ws://{}", rpc.ws_addr());

    let stop = Arc::new(AtomicBool::new(false));
    watch_signals(stop.clone(), wake.clone())?;
    let interval = args.block_time.map(|ms| Duration::from_millis(ms.max(1)));
    let mut next_block = Instant::now() + interval.unwrap_or_default();
    let mut last_refresh = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        match interval {
            Some(every) => {
                // Interval mode: new transactions wait for the next tick.
                while !stop.load(Ordering::SeqCst) && Instant::now() < next_block {
                    wake.wait(next_block.saturating_duration_since(Instant::now()));
                }
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                next_block = (next_block + every).max(Instant::now());
                refresh_queued(&sequencer, &mut last_refresh);
            }
            None => {
                let queued = pool.status().queued > 0;
                wake.wait(if queued { REFRESH_QUEUED } else { Duration::from_millis(500) });
                refresh_queued(&sequencer, &mut last_refresh);
                if pool.status().pending == 0 {
                    continue;
                }
            }
        }
        match sequencer.produce(unix_now()) {
            Ok(produced) => {
                println!(
                    "block {} {} txs {} gas {}",
                    produced.head.number, produced.head.hash, produced.txs, produced.gas_used
                );
                for (hash, reason) in &produced.dropped {
                    eprintln!("dropped transaction {hash}: {reason}");
                }
                rpc.notify_new_block(produced.head);
            }
            Err(e) => {
                eprintln!("error: block production failed: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    println!("shutting down");
    rpc.stop();
    drop(sequencer);
    drop(store);
    Ok(true)
}

/// How often the producer re-reads the pool's senders while transactions
/// are queued.
const REFRESH_QUEUED: Duration = Duration::from_millis(100);

/// Re-reads every pool sender's account at the head while some transactions
/// are queued, at most every [`REFRESH_QUEUED`]. On the producer's thread no
/// block commits meanwhile, so the reads are current. This repairs a race:
/// `eth_sendRawTransaction` checks a transaction against the state of the
/// head it saw, and if a block that consumed the sender's previous nonce
/// commits before the transaction enters the pool (whose sender entry that
/// block emptied), the pool files it as queued behind the consumed nonce.
/// The pool re-reads only the accounts a block touches, so without this the
/// transaction would wait for its sender's next one.
fn refresh_queued(sequencer: &Sequencer, last: &mut Instant) {
    let pool = sequencer.pool();
    if pool.status().queued == 0 || last.elapsed() < REFRESH_QUEUED {
        return;
    }
    *last = Instant::now();
    let refreshed = sequencer.pool_head().map_err(|e| e.to_string()).and_then(|head| {
        let state = sequencer.chain().store().latest_state().map_err(|e| e.to_string())?;
        pool.refresh_all(&head, &state).map_err(|e| e.to_string())
    });
    match refreshed {
        Ok(update) if !update.promoted.is_empty() => {
            eprintln!("pool: {} queued transactions became pending on a re-read", update.promoted.len());
        }
        Ok(_) => {}
        Err(e) => eprintln!("error: re-reading pool senders: {e}"),
    }
}

/// Sets `stop` and wakes the producer on SIGINT or SIGTERM.
fn watch_signals(stop: Arc<AtomicBool>, wake: Arc<Wake>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        runtime.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int)) =
                    (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
                else {
                    return;
                };
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
        });
        stop.store(true, Ordering::SeqCst);
        wake.notify();
    })?;
    Ok(())
}
