// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IKycRegistry} from "../IKycRegistry.sol";
import {KycGated} from "../KycGated.sol";

/// @title KycDrop
/// @notice An example dApp on {KycGated}: each verified wallet may claim a fixed amount of points
/// once. Used by honnin's end-to-end demo; not a token.
contract KycDrop is KycGated {
    /// @notice Points credited per claim.
    uint256 public immutable amountPerClaim;

    /// @notice Points held by each wallet.
    mapping(address wallet => uint256) public balanceOf;

    /// @notice Whether a wallet has claimed.
    mapping(address wallet => bool) public claimed;

    /// @notice `wallet` claimed `amount` points.
    event Claimed(address indexed wallet, uint256 amount);

    /// @notice `wallet` has already claimed.
    error KycDropAlreadyClaimed(address wallet);

    /// @param registry The honnin registry.
    /// @param amount Points per claim.
    constructor(IKycRegistry registry, uint256 amount) KycGated(registry) {
        amountPerClaim = amount;
    }

    /// @notice Credits `amountPerClaim` to the caller, once per wallet. Caller must be verified.
    function claim() external onlyVerified {
        if (claimed[msg.sender]) revert KycDropAlreadyClaimed(msg.sender);
        claimed[msg.sender] = true;
        balanceOf[msg.sender] += amountPerClaim;
        emit Claimed(msg.sender, amountPerClaim);
    }
}
