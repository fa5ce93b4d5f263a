//! The chain specification: which fork rules apply at a given block.
//!
//! A [`ChainSpec`] is built either from a geth-format `genesis.json`
//! ([`ChainSpec::from_genesis`]) or from the fork names used by the Ethereum
//! fixtures ([`ChainSpec::from_fork_name`], e.g. `Cancun` or
//! `ShanghaiToCancunAtTime15k`).

use alloy_genesis::Genesis;
use alloy_primitives::Address;
use revm::primitives::hardfork::SpecId;
use std::fmt;

/// Ethereum hard forks in activation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hardfork {
    /// Launch rules.
    Frontier,
    /// EIP-2, EIP-7, EIP-8.
    Homestead,
    /// The DAO irregular state change.
    Dao,
    /// EIP-150 gas repricing.
    Tangerine,
    /// EIP-155, EIP-158/161 state clearing.
    SpuriousDragon,
    /// Metropolis part one.
    Byzantium,
    /// Metropolis part two (with EIP-1283, never live on mainnet).
    Constantinople,
    /// Constantinople without EIP-1283.
    Petersburg,
    /// EIP-1884, EIP-2028, EIP-2200.
    Istanbul,
    /// Difficulty bomb delay.
    MuirGlacier,
    /// EIP-2929, EIP-2930.
    Berlin,
    /// EIP-1559, EIP-3529.
    London,
    /// Difficulty bomb delay.
    ArrowGlacier,
    /// Difficulty bomb delay.
    GrayGlacier,
    /// The merge (EIP-3675, EIP-4399).
    Paris,
    /// Withdrawals, PUSH0, initcode limits.
    Shanghai,
    /// Blobs, transient storage, beacon root, EIP-6780.
    Cancun,
    /// EIP-7702, EIP-2935, execution requests.
    Prague,
    /// PeerDAS and gas limits on transactions.
    Osaka,
    /// First blob-parameter-only fork.
    Bpo1,
    /// Second blob-parameter-only fork.
    Bpo2,
    /// Third blob-parameter-only fork.
    Bpo3,
    /// Fourth blob-parameter-only fork.
    Bpo4,
    /// Fifth blob-parameter-only fork.
    Bpo5,
}

impl Hardfork {
    /// All forks in activation order.
    pub const ALL: [Self; 24] = [
        Self::Frontier,
        Self::Homestead,
        Self::Dao,
        Self::Tangerine,
        Self::SpuriousDragon,
        Self::Byzantium,
        Self::Constantinople,
        Self::Petersburg,
        Self::Istanbul,
        Self::MuirGlacier,
        Self::Berlin,
        Self::London,
        Self::ArrowGlacier,
        Self::GrayGlacier,
        Self::Paris,
        Self::Shanghai,
        Self::Cancun,
        Self::Prague,
        Self::Osaka,
        Self::Bpo1,
        Self::Bpo2,
        Self::Bpo3,
        Self::Bpo4,
        Self::Bpo5,
    ];

    /// The revm rule set for this fork.
    ///
    /// `Constantinople` maps to `PETERSBURG`: revm has no separate rule set for
    /// EIP-1283, so callers that must distinguish them check
    /// [`Hardfork::Constantinople`] themselves.
    pub const fn spec_id(self) -> SpecId {
        match self {
            Self::Frontier => SpecId::FRONTIER,
            Self::Homestead | Self::Dao => SpecId::HOMESTEAD,
            Self::Tangerine => SpecId::TANGERINE,
            Self::SpuriousDragon => SpecId::SPURIOUS_DRAGON,
            Self::Byzantium => SpecId::BYZANTIUM,
            Self::Constantinople | Self::Petersburg => SpecId::PETERSBURG,
            Self::Istanbul | Self::MuirGlacier => SpecId::ISTANBUL,
            Self::Berlin => SpecId::BERLIN,
            Self::London | Self::ArrowGlacier | Self::GrayGlacier => SpecId::LONDON,
            Self::Paris => SpecId::MERGE,
            Self::Shanghai => SpecId::SHANGHAI,
            Self::Cancun => SpecId::CANCUN,
            Self::Prague => SpecId::PRAGUE,
            Self::Osaka | Self::Bpo1 | Self::Bpo2 | Self::Bpo3 | Self::Bpo4 | Self::Bpo5 => SpecId::OSAKA,
        }
    }

    /// Whether the fork is scheduled by timestamp (Shanghai and later).
    pub const fn is_timestamp_based(self) -> bool {
        matches!(
            self,
            Self::Shanghai
                | Self::Cancun
                | Self::Prague
                | Self::Osaka
                | Self::Bpo1
                | Self::Bpo2
                | Self::Bpo3
                | Self::Bpo4
                | Self::Bpo5
        )
    }

    /// The key of this fork in a genesis `blobSchedule`, if it can carry one.
    pub const fn blob_schedule_key(self) -> Option<&'static str> {
        Some(match self {
            Self::Cancun => "cancun",
            Self::Prague => "prague",
            Self::Osaka => "osaka",
            Self::Bpo1 => "bpo1",
            Self::Bpo2 => "bpo2",
            Self::Bpo3 => "bpo3",
            Self::Bpo4 => "bpo4",
            Self::Bpo5 => "bpo5",
            _ => return None,
        })
    }

    /// Parses the fork names used by the Ethereum fixtures and by geth.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "Frontier" => Self::Frontier,
            "Homestead" => Self::Homestead,
            "Dao" | "DAO" => Self::Dao,
            "EIP150" | "Tangerine" | "TangerineWhistle" => Self::Tangerine,
            "EIP158" | "SpuriousDragon" => Self::SpuriousDragon,
            "Byzantium" => Self::Byzantium,
            "Constantinople" => Self::Constantinople,
            "ConstantinopleFix" | "Petersburg" => Self::Petersburg,
            "Istanbul" => Self::Istanbul,
            "MuirGlacier" => Self::MuirGlacier,
            "Berlin" => Self::Berlin,
            "London" => Self::London,
            "ArrowGlacier" => Self::ArrowGlacier,
            "GrayGlacier" => Self::GrayGlacier,
            "Paris" | "Merge" => Self::Paris,
            "Shanghai" => Self::Shanghai,
            "Cancun" => Self::Cancun,
            "Prague" => Self::Prague,
            "Osaka" => Self::Osaka,
            "BPO1" | "Bpo1" => Self::Bpo1,
            "BPO2" | "Bpo2" => Self::Bpo2,
            "BPO3" | "Bpo3" => Self::Bpo3,
            "BPO4" | "Bpo4" => Self::Bpo4,
            "BPO5" | "Bpo5" => Self::Bpo5,
            _ => return None,
        })
    }
}

impl fmt::Display for Hardfork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// When a fork activates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkCondition {
    /// At this block number.
    Block(u64),
    /// At the first block whose timestamp is at least this.
    Timestamp(u64),
    /// Not scheduled.
    Never,
}

impl ForkCondition {
    /// Whether the fork is active for a block with this number and timestamp.
    pub const fn is_active(self, number: u64, timestamp: u64) -> bool {
        match self {
            Self::Block(b) => number >= b,
            Self::Timestamp(t) => timestamp >= t,
            Self::Never => false,
        }
    }
}

/// Blob gas parameters of a fork (EIP-4844 as amended by EIP-7691, EIP-7840,
/// EIP-7918).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobSchedule {
    /// Target blobs per block.
    pub target: u64,
    /// Maximum blobs per block.
    pub max: u64,
    /// Denominator of the blob base fee exponential.
    pub update_fraction: u64,
}

impl BlobSchedule {
    /// Cancun's parameters (EIP-4844).
    pub const CANCUN: Self = Self { target: 3, max: 6, update_fraction: 3_338_477 };
    /// Prague's parameters (EIP-7691).
    pub const PRAGUE: Self = Self { target: 6, max: 9, update_fraction: 5_007_716 };

    /// Target blob gas per block.
    pub const fn target_blob_gas(&self) -> u64 {
        self.target * revm::primitives::eip4844::GAS_PER_BLOB
    }

    /// Maximum blob gas per block.
    pub const fn max_blob_gas(&self) -> u64 {
        self.max * revm::primitives::eip4844::GAS_PER_BLOB
    }
}

/// Errors building a [`ChainSpec`].
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A fork name that Mosaic does not know.
    #[error("unknown fork name `{0}`")]
    UnknownFork(String),
    /// The genesis file could not be parsed.
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
}

/// Fork schedule and chain parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSpec {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Activation of each fork, indexed like [`Hardfork::ALL`].
    forks: [ForkCondition; 24],
    /// Blob parameters keyed by the fork that introduces them.
    blob_schedule: Vec<(Hardfork, BlobSchedule)>,
    /// The EIP-6110 deposit contract, if the chain has one.
    pub deposit_contract: Option<Address>,
}

/// The mainnet deposit contract (EIP-6110 default).
pub const MAINNET_DEPOSIT_CONTRACT: Address =
    alloy_primitives::address!("0x00000000219ab540356cbb839cbe05303d7705fa");

impl ChainSpec {
    fn empty(chain_id: u64) -> Self {
        Self {
            chain_id,
            forks: [ForkCondition::Never; 24],
            blob_schedule: vec![
                (Hardfork::Cancun, BlobSchedule::CANCUN),
                (Hardfork::Prague, BlobSchedule::PRAGUE),
                (Hardfork::Osaka, BlobSchedule::PRAGUE),
            ],
            deposit_contract: Some(MAINNET_DEPOSIT_CONTRACT),
        }
    }

    fn set(&mut self, fork: Hardfork, cond: ForkCondition) {
        self.forks[fork as usize] = cond;
    }

    /// A chain with every fork up to and including `fork` active from genesis.
    pub fn with_fork_at_genesis(chain_id: u64, fork: Hardfork) -> Self {
        let mut spec = Self::empty(chain_id);
        for f in Hardfork::ALL.into_iter().take_while(|f| *f <= fork) {
            // Constantinople is only active in chains that ask for it by name;
            // Petersburg and later replace it.
            if f == Hardfork::Constantinople && fork != Hardfork::Constantinople {
                continue;
            }
            let cond =
                if f.is_timestamp_based() { ForkCondition::Timestamp(0) } else { ForkCondition::Block(0) };
            spec.set(f, cond);
        }
        spec
    }

    /// Builds the spec for a fixture network name such as `Cancun`,
    /// `BerlinToLondonAt5` or `ShanghaiToCancunAtTime15k`, with chain id 1.
    pub fn from_fork_name(name: &str) -> Result<Self, SpecError> {
        if let Some(fork) = Hardfork::from_name(name) {
            return Ok(Self::with_fork_at_genesis(1, fork));
        }
        let unknown = || SpecError::UnknownFork(name.to_string());
        let (from, rest) = name.split_once("To").ok_or_else(unknown)?;
        let (to, at) = rest.rsplit_once("At").ok_or_else(unknown)?;
        let from = Hardfork::from_name(from).ok_or_else(unknown)?;
        let to = Hardfork::from_name(to).ok_or_else(unknown)?;
        let mut spec = Self::with_fork_at_genesis(1, from);
        let cond = if let Some(time) = at.strip_prefix("Time") {
            let t = time
                .strip_suffix('k')
                .map_or_else(|| time.parse::<u64>().ok(), |k| k.parse::<u64>().ok().map(|v| v * 1000));
            ForkCondition::Timestamp(t.ok_or_else(unknown)?)
        } else {
            ForkCondition::Block(at.parse().map_err(|_| unknown())?)
        };
        for f in Hardfork::ALL.into_iter().filter(|f| *f > from && *f <= to) {
            spec.set(f, cond);
        }
        Ok(spec)
    }

    /// Builds the spec from a geth-format genesis file's `config`.
    pub fn from_genesis(genesis: &Genesis) -> Result<Self, SpecError> {
        let c = &genesis.config;
        let mut spec = Self::empty(c.chain_id);
        let block = |b: Option<u64>| b.map_or(ForkCondition::Never, ForkCondition::Block);
        let time = |t: Option<u64>| t.map_or(ForkCondition::Never, ForkCondition::Timestamp);
        spec.set(Hardfork::Frontier, ForkCondition::Block(0));
        spec.set(Hardfork::Homestead, block(c.homestead_block));
        if c.dao_fork_support {
            spec.set(Hardfork::Dao, block(c.dao_fork_block));
        }
        spec.set(Hardfork::Tangerine, block(c.eip150_block));
        spec.set(Hardfork::SpuriousDragon, block(c.eip158_block.or(c.eip155_block)));
        spec.set(Hardfork::Byzantium, block(c.byzantium_block));
        spec.set(Hardfork::Constantinople, block(c.constantinople_block));
        spec.set(Hardfork::Petersburg, block(c.petersburg_block.or(c.constantinople_block)));
        spec.set(Hardfork::Istanbul, block(c.istanbul_block));
        spec.set(Hardfork::MuirGlacier, block(c.muir_glacier_block));
        spec.set(Hardfork::Berlin, block(c.berlin_block));
        spec.set(Hardfork::London, block(c.london_block));
        spec.set(Hardfork::ArrowGlacier, block(c.arrow_glacier_block));
        spec.set(Hardfork::GrayGlacier, block(c.gray_glacier_block));
        let merged_at_genesis = c.terminal_total_difficulty_passed
            || c.terminal_total_difficulty.is_some_and(|ttd| ttd <= genesis.difficulty);
        let paris = match c.merge_netsplit_block {
            Some(b) => ForkCondition::Block(b),
            None if merged_at_genesis => ForkCondition::Block(0),
            // A chain that merges by total difficulty without a netsplit
            // block: post-merge rules start with the first timestamp fork.
            None => c.shanghai_time.map_or(ForkCondition::Never, |_| ForkCondition::Block(0)),
        };
        spec.set(Hardfork::Paris, paris);
        spec.set(Hardfork::Shanghai, time(c.shanghai_time));
        spec.set(Hardfork::Cancun, time(c.cancun_time));
        spec.set(Hardfork::Prague, time(c.prague_time));
        spec.set(Hardfork::Osaka, time(c.osaka_time));
        spec.set(Hardfork::Bpo1, time(c.bpo1_time));
        spec.set(Hardfork::Bpo2, time(c.bpo2_time));
        spec.set(Hardfork::Bpo3, time(c.bpo3_time));
        spec.set(Hardfork::Bpo4, time(c.bpo4_time));
        spec.set(Hardfork::Bpo5, time(c.bpo5_time));
        for fork in Hardfork::ALL {
            let Some(key) = fork.blob_schedule_key() else { continue };
            if let Some(p) = c.blob_schedule.get(key) {
                let update_fraction = u64::try_from(p.update_fraction).map_err(|_| {
                    SpecError::InvalidGenesis(format!("blobSchedule.{key}: fraction too large"))
                })?;
                let schedule =
                    BlobSchedule { target: p.target_blob_count, max: p.max_blob_count, update_fraction };
                spec.blob_schedule.retain(|(f, _)| *f != fork);
                spec.blob_schedule.push((fork, schedule));
            }
        }
        spec.blob_schedule.sort_by_key(|(f, _)| *f);
        if c.deposit_contract_address.is_some() {
            spec.deposit_contract = c.deposit_contract_address;
        }
        Ok(spec)
    }

    /// Activation condition of `fork`.
    pub fn condition(&self, fork: Hardfork) -> ForkCondition {
        self.forks[fork as usize]
    }

    /// Whether `fork` is active at this block.
    pub fn is_active(&self, fork: Hardfork, number: u64, timestamp: u64) -> bool {
        self.condition(fork).is_active(number, timestamp)
    }

    /// Whether `fork` activates exactly at this block (its first block).
    pub fn activates_at(&self, fork: Hardfork, number: u64, timestamp: u64, parent_timestamp: u64) -> bool {
        match self.condition(fork) {
            ForkCondition::Block(b) => b == number,
            ForkCondition::Timestamp(t) => timestamp >= t && (number == 0 || parent_timestamp < t),
            ForkCondition::Never => false,
        }
    }

    /// The newest fork active at this block.
    pub fn fork_at(&self, number: u64, timestamp: u64) -> Hardfork {
        Hardfork::ALL
            .into_iter()
            .rev()
            .find(|f| self.is_active(*f, number, timestamp))
            .unwrap_or(Hardfork::Frontier)
    }

    /// The revm rule set at this block.
    pub fn spec_id(&self, number: u64, timestamp: u64) -> SpecId {
        self.fork_at(number, timestamp).spec_id()
    }

    /// Whether Constantinople's EIP-1283 rules (not expressible in revm) would
    /// apply at this block.
    pub fn is_constantinople_only(&self, number: u64, timestamp: u64) -> bool {
        self.fork_at(number, timestamp) == Hardfork::Constantinople
    }

    /// Blob parameters at this block, `None` before Cancun.
    pub fn blob_schedule(&self, number: u64, timestamp: u64) -> Option<BlobSchedule> {
        if !self.is_active(Hardfork::Cancun, number, timestamp) {
            return None;
        }
        self.blob_schedule.iter().rev().find(|(f, _)| self.is_active(*f, number, timestamp)).map(|(_, s)| *s)
    }

    /// Whether the block is after the merge (no PoW rewards, difficulty 0).
    pub fn is_merged(&self, number: u64, timestamp: u64) -> bool {
        self.is_active(Hardfork::Paris, number, timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_names() {
        let s = ChainSpec::from_fork_name("Cancun").expect("known");
        assert_eq!(s.spec_id(0, 0), SpecId::CANCUN);
        assert_eq!(s.blob_schedule(0, 0), Some(BlobSchedule::CANCUN));
        let s = ChainSpec::from_fork_name("BerlinToLondonAt5").expect("known");
        assert_eq!(s.spec_id(4, 0), SpecId::BERLIN);
        assert_eq!(s.spec_id(5, 0), SpecId::LONDON);
        let s = ChainSpec::from_fork_name("ShanghaiToCancunAtTime15k").expect("known");
        assert_eq!(s.spec_id(1, 14_999), SpecId::SHANGHAI);
        assert_eq!(s.spec_id(1, 15_000), SpecId::CANCUN);
        assert!(ChainSpec::from_fork_name("Bogus").is_err());
        let s = ChainSpec::from_fork_name("ConstantinopleFix").expect("known");
        assert!(!s.is_active(Hardfork::Constantinople, 0, 0));
    }

    #[test]
    fn genesis_schedule() {
        let json = r#"{"config":{"chainId":7,"homesteadBlock":0,"eip150Block":3,"eip155Block":6,
            "eip158Block":6,"byzantiumBlock":9,"londonBlock":27,"mergeNetsplitBlock":36,
            "shanghaiTime":390,"cancunTime":420,"pragueTime":450,"osakaTime":480,"bpo1Time":510,
            "terminalTotalDifficulty":4732352,
            "blobSchedule":{"bpo1":{"target":10,"max":15,"baseFeeUpdateFraction":8346193}}},
            "alloc":{},"gasLimit":"0x1","difficulty":"0x20000"}"#;
        let g: Genesis = serde_json::from_str(json).expect("valid genesis");
        let s = ChainSpec::from_genesis(&g).expect("spec");
        assert_eq!(s.chain_id, 7);
        assert_eq!(s.spec_id(2, 0), SpecId::HOMESTEAD);
        assert_eq!(s.spec_id(35, 0), SpecId::LONDON);
        assert_eq!(s.spec_id(36, 0), SpecId::MERGE);
        assert_eq!(s.spec_id(40, 421), SpecId::CANCUN);
        assert_eq!(s.fork_at(50, 520), Hardfork::Bpo1);
        assert_eq!(s.blob_schedule(50, 520).map(|b| b.max), Some(15));
        assert_eq!(s.blob_schedule(50, 460), Some(BlobSchedule::PRAGUE));
    }
}
