// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {KycRegistry} from "../src/KycRegistry.sol";
import {IKycRegistry} from "../src/IKycRegistry.sol";

/// @dev Shared set-up: a registry with one admin, one attester and one revoker, at a realistic time.
abstract contract KycRegistryBase is Test {
    KycRegistry internal registry;

    address internal admin = makeAddr("admin");
    address internal attester = makeAddr("attester");
    address internal revoker = makeAddr("revoker");
    address internal stranger = makeAddr("stranger");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    uint40 internal constant T0 = 1_790_000_000; // 2026-09
    uint40 internal constant YEAR = 365 days;

    function setUp() public virtual {
        vm.warp(T0);
        registry = new KycRegistry(admin);
        vm.startPrank(admin);
        registry.grantRole(registry.ATTESTER_ROLE(), attester);
        registry.grantRole(registry.REVOKER_ROLE(), revoker);
        vm.stopPrank();
    }

    function _rec(address wallet, uint8 level, uint32 claims, uint40 issuedAt, uint40 expiresAt)
        internal
        pure
        returns (IKycRegistry.Record memory)
    {
        return IKycRegistry.Record({
            wallet: wallet, level: level, claims: claims, issuedAt: issuedAt, expiresAt: expiresAt
        });
    }

    /// @dev A valid record issued now, expiring in a year.
    function _rec(address wallet) internal view returns (IKycRegistry.Record memory) {
        return _rec(wallet, 1, 1, uint40(block.timestamp), uint40(block.timestamp) + YEAR);
    }

    function _batch(IKycRegistry.Record memory r) internal pure returns (IKycRegistry.Record[] memory b) {
        b = new IKycRegistry.Record[](1);
        b[0] = r;
    }

    function _wallets(address w) internal pure returns (address[] memory ws) {
        ws = new address[](1);
        ws[0] = w;
    }

    function _attest(IKycRegistry.Record memory r) internal {
        vm.prank(attester);
        registry.attest(_batch(r));
    }

    function _revoke(address w, uint8 reason) internal {
        vm.prank(revoker);
        registry.revoke(_wallets(w), reason);
    }

    function _assertStored(address wallet, IKycRegistry.Record memory r, uint8 reason) internal view {
        IKycRegistry.Attestation memory a = registry.attestationOf(wallet);
        assertEq(a.level, r.level, "level");
        assertEq(a.claims, r.claims, "claims");
        assertEq(a.issuedAt, r.issuedAt, "issuedAt");
        assertEq(a.expiresAt, r.expiresAt, "expiresAt");
        assertEq(a.revocationReason, reason, "revocationReason");
        assertEq(a.revoked, reason != 0, "revoked");
    }
}
