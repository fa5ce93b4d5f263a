// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// OpenZeppelin's ERC-20 with the whole supply minted to the deployer. A
/// transfer beyond the sender's balance reverts with OpenZeppelin's
/// `require(..., "ERC20: transfer amount exceeds balance")`.
contract MosaicToken is ERC20 {
    constructor(uint256 supply) ERC20("Mosaic Token", "MOS") {
        _mint(msg.sender, supply);
    }

    /// Always reverts with a reason string.
    function fail() external pure {
        require(false, "MosaicToken: always fails");
    }
}
