// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IKycRegistry} from "./IKycRegistry.sol";

/// @title KycGated
/// @notice Inherit to let only wallets that the honnin registry verifies call a function:
/// `function claim() external onlyVerified { ... }`, `onlyVerifiedAtLevel(2)` or
/// `onlyWithClaims(CLAIM_AGE_OVER_18)`; a dApp with a scope of its own (see {IKycRegistry}) asks for
/// its scope's records with `onlyVerifiedIn(SCOPE)` or `onlyWithClaimsIn(SCOPE, CLAIM_AGE_OVER_18)`,
/// where `bytes32 constant SCOPE = keccak256("honnin/v1/scope\x00kyc-drop");` for the scope named
/// `kyc-drop`.
/// @dev The caller checked is `msg.sender`, so a contract wallet (ERC-1271) must itself be the
/// attested wallet. The registry is fixed at construction; a dApp that wants to follow a new
/// registry deploys anew. The scoped modifiers read only the scope's record: a wallet verified
/// globally, or in another scope, is refused.
abstract contract KycGated {
    /// @notice The registry asked on every gated call.
    IKycRegistry public immutable kycRegistry;

    /// @notice `wallet` is not verified by the registry (at `minLevel` or above; 0 = any level).
    error KycGatedUnverifiedAccount(address wallet, uint8 minLevel);

    /// @notice `wallet` is not verified with every claim bit of `claims`.
    error KycGatedMissingClaims(address wallet, uint32 claims);

    /// @notice `wallet` is not verified in `scope`.
    error KycGatedUnverifiedAccountIn(address wallet, bytes32 scope);

    /// @notice `wallet` is not verified in `scope` with every claim bit of `claims`.
    error KycGatedMissingClaimsIn(address wallet, bytes32 scope, uint32 claims);

    /// @notice The registry given to the constructor has no code.
    error KycGatedInvalidRegistry(address registry);

    /// @notice Reverts with {KycGatedUnverifiedAccount} unless the caller is verified.
    modifier onlyVerified() {
        _checkVerified(msg.sender);
        _;
    }

    /// @notice Reverts with {KycGatedUnverifiedAccount} unless the caller is verified at
    /// `minLevel` or above.
    /// @param minLevel The lowest acceptable level.
    modifier onlyVerifiedAtLevel(uint8 minLevel) {
        _checkVerifiedAtLevel(msg.sender, minLevel);
        _;
    }

    /// @notice Reverts with {KycGatedMissingClaims} unless the caller is verified with every claim
    /// bit of `claims` (the registry's `CLAIM_*` constants, e.g. `CLAIM_AGE_OVER_18`).
    /// @param claims The claim bits that must all be set.
    modifier onlyWithClaims(uint32 claims) {
        _checkClaims(msg.sender, claims);
        _;
    }

    /// @notice Reverts with {KycGatedUnverifiedAccountIn} unless the caller is verified in `scope`
    /// (the registry reverts with `KycRegistryInvalidScope` for scope 0).
    /// @param scope The scope id.
    modifier onlyVerifiedIn(bytes32 scope) {
        _checkVerifiedIn(msg.sender, scope);
        _;
    }

    /// @notice Reverts with {KycGatedMissingClaimsIn} unless the caller is verified in `scope` with
    /// every claim bit of `claims` (the registry reverts with `KycRegistryInvalidScope` for scope 0).
    /// @param scope The scope id.
    /// @param claims The claim bits that must all be set.
    modifier onlyWithClaimsIn(bytes32 scope, uint32 claims) {
        _checkClaimsIn(msg.sender, scope, claims);
        _;
    }

    /// @param registry The honnin registry; must be a deployed contract.
    constructor(IKycRegistry registry) {
        if (address(registry).code.length == 0) revert KycGatedInvalidRegistry(address(registry));
        kycRegistry = registry;
    }

    /// @dev Reverts with {KycGatedUnverifiedAccount} unless `wallet` is verified.
    function _checkVerified(address wallet) internal view virtual {
        if (!kycRegistry.isVerified(wallet)) revert KycGatedUnverifiedAccount(wallet, 0);
    }

    /// @dev Reverts with {KycGatedUnverifiedAccount} unless `wallet` is verified at `minLevel`+.
    function _checkVerifiedAtLevel(address wallet, uint8 minLevel) internal view virtual {
        if (!kycRegistry.isVerified(wallet, minLevel)) revert KycGatedUnverifiedAccount(wallet, minLevel);
    }

    /// @dev Reverts with {KycGatedMissingClaims} unless `wallet` is verified with all of `claims`.
    function _checkClaims(address wallet, uint32 claims) internal view virtual {
        if (!kycRegistry.hasClaims(wallet, claims)) revert KycGatedMissingClaims(wallet, claims);
    }

    /// @dev Reverts with {KycGatedUnverifiedAccountIn} unless `wallet` is verified in `scope`.
    function _checkVerifiedIn(address wallet, bytes32 scope) internal view virtual {
        if (!kycRegistry.isVerified(wallet, scope)) revert KycGatedUnverifiedAccountIn(wallet, scope);
    }

    /// @dev Reverts with {KycGatedMissingClaimsIn} unless `wallet` is verified in `scope` with all
    /// of `claims`.
    function _checkClaimsIn(address wallet, bytes32 scope, uint32 claims) internal view virtual {
        if (!kycRegistry.hasClaims(wallet, scope, claims)) revert KycGatedMissingClaimsIn(wallet, scope, claims);
    }
}
