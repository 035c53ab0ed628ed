// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IKycRegistry, REASON_HOLDER, REASON_OPERATOR, REASON_ERASURE} from "../src/IKycRegistry.sol";
import {RecordRulesTest} from "./KycRegistryRecordRules.sol";

/// @dev Scoped records: every rule of `RecordRulesTest` in scope `kyc-drop`, then what only scopes
/// have: the id derivation, the zero scope refused, and isolation (a record in one scope is in no
/// other scope and not global, and the other way round).
contract KycRegistryScopedTest is RecordRulesTest {
    function setUp() public override {
        super.setUp();
        scope = SCOPE_A;
    }

    // ------------------------------------------------------------ scope ids

    /// @dev The derivation IKycRegistry documents, its constant form, and fixed vectors (the same
    /// ones crates/chain checks against honnin-core's `Scope`).
    function test_ScopeId_Derivation() public pure {
        assertEq(_scopeId("kyc-drop"), SCOPE_A);
        assertEq(_scopeId("app.example.com"), SCOPE_B);
        assertEq(SCOPE_A, 0xa2860775b69a13371898a26db1b8c47b44c4cdadaed3401a3648e3d2d6e433d1);
        assertEq(SCOPE_B, 0xd67c7a342fde3c271bd600c2a6807dd487839f22a397a3cec65bafb322e628bc);
        assertEq(keccak256(bytes.concat("honnin/v1/scope", hex"00", "kyc-drop")), SCOPE_A);
    }

    // ------------------------------------------------------------ the zero scope

    function test_RevertWhen_AttestScopedZeroScope() public {
        vm.startPrank(attester);
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidScope.selector));
        registry.attestScoped(bytes32(0), _batch(_rec(alice)));
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidScope.selector));
        registry.attestScoped(bytes32(0), new IKycRegistry.Record[](0));
        vm.stopPrank();
        assertEq(registry.attestationOf(alice).expiresAt, 0, "nothing written globally");
    }

    /// @dev The role is checked first, as for every write: a stranger learns nothing about scopes.
    function test_RevertWhen_AttestScopedZeroScopeByStranger() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, registry.ATTESTER_ROLE()
            )
        );
        vm.prank(stranger);
        registry.attestScoped(bytes32(0), _batch(_rec(alice)));
    }

    function test_RevertWhen_RevokeScopedZeroScope() public {
        scope = 0;
        _attest(_rec(alice));
        vm.startPrank(revoker);
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidScope.selector));
        registry.revokeScoped(bytes32(0), _wallets(alice), REASON_HOLDER);
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidScope.selector));
        registry.revokeScoped(bytes32(0), new address[](0), 0);
        vm.stopPrank();
        assertTrue(registry.isVerified(alice), "the global record is untouched");
    }

    function test_RevertWhen_ScopedReadsGetZeroScope() public {
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidScope.selector));
        registry.isVerified(alice, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidScope.selector));
        registry.hasClaims(alice, bytes32(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidScope.selector));
        registry.attestationOf(alice, bytes32(0));
    }

    // ------------------------------------------------------------ isolation

    function test_Isolation_AScopedRecordIsOnlyInItsScope() public {
        IKycRegistry.Record memory r = _rec(alice, 2, 7, T0, T0 + YEAR);
        _attest(r);
        assertTrue(registry.isVerified(alice, SCOPE_A));
        assertTrue(registry.hasClaims(alice, SCOPE_A, 7));
        assertFalse(registry.isVerified(alice, SCOPE_B));
        assertFalse(registry.hasClaims(alice, SCOPE_B, 0));
        assertFalse(registry.isVerified(alice));
        assertFalse(registry.isVerified(alice, uint8(0)));
        assertFalse(registry.hasClaims(alice, 0));
        _assertAttestation(registry.attestationOf(alice, SCOPE_A), r, 0);
        _assertAttestation(registry.attestationOf(alice, SCOPE_B), _rec(address(0), 0, 0, 0, 0), 0);
        _assertAttestation(registry.attestationOf(alice), _rec(address(0), 0, 0, 0, 0), 0);
    }

    function test_Isolation_AGlobalRecordIsInNoScope() public {
        vm.prank(attester);
        registry.attest(_batch(_rec(alice)));
        assertTrue(registry.isVerified(alice));
        assertFalse(registry.isVerified(alice, SCOPE_A));
        assertFalse(registry.isVerified(alice, SCOPE_B));
        assertFalse(registry.hasClaims(alice, SCOPE_A, 0));
        assertEq(registry.attestationOf(alice, SCOPE_A).expiresAt, 0);
    }

    /// @dev One wallet, three different records: each read answers from its own.
    function test_Isolation_EachScopeKeepsItsOwnRecord() public {
        IKycRegistry.Record memory global = _rec(alice, 1, 1, T0, T0 + YEAR);
        IKycRegistry.Record memory inA = _rec(alice, 2, 3, T0 - 5, T0 + 2 * YEAR);
        IKycRegistry.Record memory inB = _rec(alice, 3, 5, T0 + 5, T0 + 100);
        vm.startPrank(attester);
        registry.attest(_batch(global));
        registry.attestScoped(SCOPE_A, _batch(inA));
        registry.attestScoped(SCOPE_B, _batch(inB));
        vm.stopPrank();
        _assertAttestation(registry.attestationOf(alice), global, 0);
        _assertAttestation(registry.attestationOf(alice, SCOPE_A), inA, 0);
        _assertAttestation(registry.attestationOf(alice, SCOPE_B), inB, 0);
        vm.warp(T0 + 100);
        assertFalse(registry.isVerified(alice, SCOPE_B), "B expired");
        assertTrue(registry.isVerified(alice, SCOPE_A));
        assertTrue(registry.isVerified(alice));
    }

    /// @dev A newer record elsewhere does not make an older one stale here, and a revocation
    /// elsewhere does not stop a write here.
    function test_Isolation_StaleSkipIsPerScope() public {
        IKycRegistry.Record memory newer = _rec(alice, 1, 1, T0 + 10, T0 + YEAR);
        vm.startPrank(attester);
        registry.attest(_batch(newer));
        registry.attestScoped(SCOPE_B, _batch(newer));
        vm.stopPrank();
        vm.prank(revoker);
        registry.revokeScoped(SCOPE_B, _wallets(alice), REASON_OPERATOR);
        IKycRegistry.Record memory older = _rec(alice, 1, 1, T0, T0 + YEAR);
        _expectAttested(alice, 1, T0 + YEAR);
        _attest(older);
        _assertStored(alice, older, 0);
        _assertAttestation(registry.attestationOf(alice), newer, 0);
        _assertAttestation(registry.attestationOf(alice, SCOPE_B), newer, REASON_OPERATOR);
    }

    function test_Isolation_RevokeInOneScopeLeavesTheOthers() public {
        vm.startPrank(attester);
        registry.attest(_batch(_rec(alice)));
        registry.attestScoped(SCOPE_A, _batch(_rec(alice)));
        registry.attestScoped(SCOPE_B, _batch(_rec(alice)));
        vm.stopPrank();
        vm.recordLogs();
        vm.prank(revoker);
        registry.revokeScoped(SCOPE_A, _wallets(alice), REASON_HOLDER);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], IKycRegistry.ScopedRevoked.selector);
        assertEq(logs[0].topics[1], SCOPE_A);
        assertFalse(registry.isVerified(alice, SCOPE_A));
        assertTrue(registry.isVerified(alice, SCOPE_B));
        assertTrue(registry.isVerified(alice));
        assertFalse(registry.attestationOf(alice).revoked);
        assertFalse(registry.attestationOf(alice, SCOPE_B).revoked);
    }

    function test_Isolation_GlobalRevokeLeavesTheScopes() public {
        vm.startPrank(attester);
        registry.attest(_batch(_rec(alice)));
        registry.attestScoped(SCOPE_A, _batch(_rec(alice)));
        vm.stopPrank();
        vm.prank(revoker);
        registry.revoke(_wallets(alice), REASON_ERASURE);
        assertFalse(registry.isVerified(alice));
        assertTrue(registry.isVerified(alice, SCOPE_A));
        assertEq(registry.attestationOf(alice, SCOPE_A).revocationReason, 0);
    }

    /// @dev A wallet with only a global record has no record in the scope: skipped, no event.
    function test_RevokeScoped_SkipsAWalletWithOnlyAGlobalRecord() public {
        vm.prank(attester);
        registry.attest(_batch(_rec(alice)));
        vm.recordLogs();
        _revoke(alice, REASON_OPERATOR);
        assertEq(vm.getRecordedLogs().length, 0);
        assertTrue(registry.isVerified(alice));
        assertEq(registry.attestationOf(alice, SCOPE_A).expiresAt, 0);
    }

    // ------------------------------------------------------------ fuzz

    /// @dev Any two different scopes and the global record are independent, both ways.
    function testFuzz_ScopeIsolation(bytes32 a, bytes32 b, address wallet, uint32 claims, uint8 reason) public {
        vm.assume(a != 0 && b != 0 && a != b && wallet != address(0));
        reason = uint8(bound(reason, 1, 6));
        IKycRegistry.Record memory r = _rec(wallet, 1, claims, T0, T0 + YEAR);
        vm.prank(attester);
        registry.attestScoped(a, _batch(r));

        assertTrue(registry.isVerified(wallet, a));
        assertTrue(registry.hasClaims(wallet, a, claims));
        assertFalse(registry.isVerified(wallet, b));
        assertFalse(registry.hasClaims(wallet, b, 0));
        assertFalse(registry.isVerified(wallet));
        assertEq(registry.attestationOf(wallet, b).expiresAt, 0);
        assertEq(registry.attestationOf(wallet).expiresAt, 0);

        // Revocations elsewhere find nothing to revoke.
        vm.recordLogs();
        vm.startPrank(revoker);
        registry.revokeScoped(b, _wallets(wallet), reason);
        registry.revoke(_wallets(wallet), reason);
        vm.stopPrank();
        assertEq(vm.getRecordedLogs().length, 0);
        assertTrue(registry.isVerified(wallet, a));

        // And the other way round: a record in b and a global one leave a's revocation alone.
        vm.prank(revoker);
        registry.revokeScoped(a, _wallets(wallet), reason);
        vm.startPrank(attester);
        registry.attestScoped(b, _batch(_rec(wallet, 1, claims, T0 + 1, T0 + YEAR)));
        registry.attest(_batch(_rec(wallet, 1, claims, T0 + 1, T0 + YEAR)));
        vm.stopPrank();
        _assertAttestation(registry.attestationOf(wallet, a), r, reason);
        assertTrue(registry.isVerified(wallet, b));
        assertTrue(registry.isVerified(wallet));
    }
}
