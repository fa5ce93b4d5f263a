//! EIP-2124 fork identifiers: the CRC-32 of the genesis hash followed by the
//! activation block numbers, then timestamps, of every fork so far (zero and
//! duplicates left out, as geth gathers them).

use alloy_primitives::{B256, FixedBytes};
use mosaic_primitives::{ChainSpec, ForkCondition, Hardfork};

/// CRC-32 (IEEE 802.3, reflected) continued from `crc` over `data`.
fn crc32_update(crc: u32, data: &[u8]) -> u32 {
    let mut crc = !crc;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// The activation points that enter the fork id: block numbers first, then
/// timestamps after genesis, each sorted and without repeats.
fn activations(spec: &ChainSpec, genesis_time: u64) -> (Vec<u64>, Vec<u64>) {
    let (mut blocks, mut times) = (Vec::new(), Vec::new());
    for fork in Hardfork::ALL {
        match spec.condition(fork) {
            ForkCondition::Block(n) if n > 0 => blocks.push(n),
            ForkCondition::Timestamp(t) if t > genesis_time => times.push(t),
            _ => {}
        }
    }
    for list in [&mut blocks, &mut times] {
        list.sort_unstable();
        list.dedup();
    }
    (blocks, times)
}

/// The fork id of the rules active at `time` (every block-numbered fork is
/// taken as passed).
pub(crate) fn fork_id(spec: &ChainSpec, genesis: B256, genesis_time: u64, time: u64) -> FixedBytes<4> {
    let (blocks, times) = activations(spec, genesis_time);
    let mut crc = crc32_update(0, genesis.as_slice());
    for point in blocks.into_iter().chain(times.into_iter().filter(|t| *t <= time)) {
        crc = crc32_update(crc, &point.to_be_bytes());
    }
    FixedBytes::from(crc.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    #[test]
    fn crc32_reference_value() {
        assert_eq!(crc32_update(0, b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn mainnet_fork_ids() {
        // EIP-2124's mainnet vectors: genesis, then after Homestead.
        let genesis = b256!("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3");
        assert_eq!(crc32_update(0, genesis.as_slice()), 0xfc64_ec04);
        let after = crc32_update(0xfc64_ec04, &1_150_000u64.to_be_bytes());
        assert_eq!(after, 0x97c2_c34c);
    }
}
