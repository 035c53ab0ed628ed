// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {KycRegistry} from "../src/KycRegistry.sol";
import {IKycRegistry} from "../src/IKycRegistry.sol";

/// @dev Shared set-up: a registry with one admin, one attester and one revoker, at a realistic time.
/// The `_attest`, `_revoke`, `_verified`, `_hasClaims`, `_stored` and `_expect*` helpers work on the
/// records of `scope`: the global record while it is 0 (the default), the scope's otherwise, so one
/// set of rule tests runs against both (see `RecordRulesTest`).
abstract contract KycRegistryBase is Test {
    KycRegistry internal registry;

    /// @dev The scope named `kyc-drop`, as a dApp writes it in a constant.
    bytes32 internal constant SCOPE_A = keccak256("honnin/v1/scope\x00kyc-drop");
    /// @dev The scope named `app.example.com`.
    bytes32 internal constant SCOPE_B = keccak256("honnin/v1/scope\x00app.example.com");

    /// @dev Where the helpers read and write: 0 = the global record, else this scope's records.
    bytes32 internal scope;

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

    /// @dev The scope id of `name`, as IKycRegistry documents it.
    function _scopeId(string memory name) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("honnin/v1/scope", bytes1(0), name));
    }

    /// @dev `attest(b)` or `attestScoped(scope, b)`, encoded.
    function _attestCall(IKycRegistry.Record[] memory b) internal view returns (bytes memory) {
        return
            scope == 0
                ? abi.encodeCall(IKycRegistry.attest, (b))
                : abi.encodeCall(IKycRegistry.attestScoped, (scope, b));
    }

    /// @dev `revoke(ws, reason)` or `revokeScoped(scope, ws, reason)`, encoded.
    function _revokeCall(address[] memory ws, uint8 reason) internal view returns (bytes memory) {
        return scope == 0
            ? abi.encodeCall(IKycRegistry.revoke, (ws, reason))
            : abi.encodeCall(IKycRegistry.revokeScoped, (scope, ws, reason));
    }

    /// @dev Sends `data` to the registry from `from`, bubbling a revert up (so `vm.expectRevert`
    /// sees the registry's error).
    function _send(address from, bytes memory data) internal {
        vm.prank(from);
        (bool ok, bytes memory ret) = address(registry).call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }

    function _attestBatch(address from, IKycRegistry.Record[] memory b) internal {
        _send(from, _attestCall(b));
    }

    function _revokeBatch(address from, address[] memory ws, uint8 reason) internal {
        _send(from, _revokeCall(ws, reason));
    }

    function _attest(IKycRegistry.Record memory r) internal {
        _attestBatch(attester, _batch(r));
    }

    function _revoke(address w, uint8 reason) internal {
        _revokeBatch(revoker, _wallets(w), reason);
    }

    function _verified(address w) internal view returns (bool) {
        return scope == 0 ? registry.isVerified(w) : registry.isVerified(w, scope);
    }

    function _hasClaims(address w, uint32 claims) internal view returns (bool) {
        return scope == 0 ? registry.hasClaims(w, claims) : registry.hasClaims(w, scope, claims);
    }

    function _stored(address w) internal view returns (IKycRegistry.Attestation memory) {
        return scope == 0 ? registry.attestationOf(w) : registry.attestationOf(w, scope);
    }

    /// @dev The topics an attest or revoke event of `wallet` carries after its selector.
    function _topics(address wallet) internal view returns (bytes32[] memory t) {
        t = new bytes32[](scope == 0 ? 1 : 2);
        if (scope != 0) t[0] = scope;
        t[t.length - 1] = bytes32(uint256(uint160(wallet)));
    }

    function _attestedSelector() internal view returns (bytes32) {
        return scope == 0 ? IKycRegistry.Attested.selector : IKycRegistry.ScopedAttested.selector;
    }

    function _revokedSelector() internal view returns (bytes32) {
        return scope == 0 ? IKycRegistry.Revoked.selector : IKycRegistry.ScopedRevoked.selector;
    }

    /// @dev Expects the next call to emit the attest event of `wallet` (global or scoped).
    function _expectAttested(address wallet, uint8 level, uint40 expiresAt) internal {
        vm.expectEmit(address(registry));
        if (scope == 0) emit IKycRegistry.Attested(wallet, level, expiresAt);
        else emit IKycRegistry.ScopedAttested(scope, wallet, level, expiresAt);
    }

    /// @dev Expects the next call to emit the revoke event of `wallet` (global or scoped).
    function _expectRevoked(address wallet, uint8 reason) internal {
        vm.expectEmit(address(registry));
        if (scope == 0) emit IKycRegistry.Revoked(wallet, reason);
        else emit IKycRegistry.ScopedRevoked(scope, wallet, reason);
    }

    /// @dev The record `_stored(wallet)` holds is `r`, revoked with `reason` (0 = not revoked).
    function _assertStored(address wallet, IKycRegistry.Record memory r, uint8 reason) internal view {
        _assertAttestation(_stored(wallet), r, reason);
    }

    function _assertAttestation(IKycRegistry.Attestation memory a, IKycRegistry.Record memory r, uint8 reason)
        internal
        pure
    {
        assertEq(a.level, r.level, "level");
        assertEq(a.claims, r.claims, "claims");
        assertEq(a.issuedAt, r.issuedAt, "issuedAt");
        assertEq(a.expiresAt, r.expiresAt, "expiresAt");
        assertEq(a.revocationReason, reason, "revocationReason");
        assertEq(a.revoked, reason != 0, "revoked");
    }
}
