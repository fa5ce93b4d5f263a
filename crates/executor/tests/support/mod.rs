//! Helpers of the differential tests: an EVM assembler, the test contracts,
//! a seeded block generator and the engine comparison.

pub(crate) mod asm;
pub(crate) mod blockgen;
pub(crate) mod compare;
pub(crate) mod contracts;
pub(crate) mod run;
