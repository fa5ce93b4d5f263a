//! Which transaction rules are active: one flag per rule-changing fork.

/// The stateless transaction rules in force, one flag per rule change.
/// `Default` gives Frontier without a chain id check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxRules {
    /// The chain's id: typed and EIP-155 transactions must be signed for it.
    /// `None` accepts any chain id.
    pub chain_id: Option<u64>,
    /// Homestead: creation costs 53,000 gas, signature `s` must be in the
    /// lower half of the curve order (EIP-2).
    pub homestead: bool,
    /// Spurious Dragon: EIP-155 replay-protected signatures are accepted.
    pub eip155: bool,
    /// Istanbul: non-zero calldata bytes cost 16 gas instead of 68 (EIP-2028).
    pub istanbul: bool,
    /// Berlin: access-list transactions (type 1).
    pub eip2930: bool,
    /// London: dynamic-fee transactions (type 2).
    pub eip1559: bool,
    /// Shanghai: initcode size limit and word cost (EIP-3860).
    pub shanghai: bool,
    /// Cancun: blob transactions (type 3).
    pub eip4844: bool,
    /// Prague: set-code transactions (type 4).
    pub eip7702: bool,
    /// Prague: the calldata gas floor (EIP-7623) and nine blobs per block.
    pub prague: bool,
    /// Osaka: gas limit cap of 2^24 (EIP-7825), six blobs per transaction
    /// (EIP-7594).
    pub osaka: bool,
}

/// Forks that change transaction rules, in activation order, with the aliases
/// the fixtures and clients use for the same rules.
const FORKS: &[&[&str]] = &[
    &["Frontier"],
    &["Homestead"],
    &["EIP150", "TangerineWhistle"],
    &["EIP158", "SpuriousDragon"],
    &["Byzantium"],
    &["Constantinople"],
    &["ConstantinopleFix", "Petersburg"],
    &["Istanbul", "MuirGlacier"],
    &["Berlin"],
    &["London", "ArrowGlacier", "GrayGlacier"],
    &["Paris", "Merge"],
    &["Shanghai"],
    &["Cancun"],
    &["Prague"],
    &["Osaka"],
];

/// Position of a fork in [`FORKS`].
fn rank(name: &str) -> Option<usize> {
    FORKS.iter().position(|names| names.contains(&name))
}

impl TxRules {
    /// The rules of a fork named as in the ethereum-tests fixtures
    /// (`Frontier`, `Homestead`, `EIP150`, `EIP158`, `Byzantium`,
    /// `Constantinople`, `ConstantinopleFix`, `Istanbul`, `Berlin`, `London`,
    /// `Paris`/`Merge`, `Shanghai`, `Cancun`, `Prague`, `Osaka`, plus the
    /// usual aliases), with chain id 1 as in the fixtures; set `chain_id` for
    /// another chain. Transition names (`BerlinToLondonAt5`) and unknown names
    /// give `None`.
    pub fn for_fork_name(name: &str) -> Option<Self> {
        let fork = rank(name)?;
        let from = |first: &str| rank(first).is_some_and(|at| fork >= at);
        Some(Self {
            chain_id: Some(1),
            homestead: from("Homestead"),
            eip155: from("EIP158"),
            istanbul: from("Istanbul"),
            eip2930: from("Berlin"),
            eip1559: from("London"),
            shanghai: from("Shanghai"),
            eip4844: from("Cancun"),
            eip7702: from("Prague"),
            prague: from("Prague"),
            osaka: from("Osaka"),
        })
    }

    /// Most blobs one transaction may carry: EIP-7594's six from Osaka,
    /// otherwise the per-block maximum (six in Cancun, nine in Prague).
    pub(crate) const fn max_blobs_per_tx(&self) -> usize {
        if self.osaka {
            6
        } else if self.prague {
            9
        } else {
            6
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_names_map_to_cumulative_rules() {
        let frontier = TxRules::for_fork_name("Frontier").expect("known");
        assert_eq!(frontier, TxRules { chain_id: Some(1), ..TxRules::default() });
        let petersburg = TxRules::for_fork_name("Petersburg").expect("known");
        assert_eq!(petersburg, TxRules::for_fork_name("ConstantinopleFix").expect("known"));
        assert!(petersburg.eip155 && !petersburg.istanbul);
        let paris = TxRules::for_fork_name("Merge").expect("known");
        assert!(paris.eip1559 && !paris.shanghai);
        let osaka = TxRules::for_fork_name("Osaka").expect("known");
        assert!(osaka.homestead && osaka.eip4844 && osaka.eip7702 && osaka.prague && osaka.osaka);
        assert_eq!(TxRules::for_fork_name("BerlinToLondonAt5"), None);
        assert_eq!(TxRules::for_fork_name("frontier"), None);
    }
}
