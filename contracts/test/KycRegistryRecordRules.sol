// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {
    IKycRegistry,
    REASON_HOLDER,
    REASON_OPERATOR,
    REASON_CERTIFICATE_REVOKED,
    REASON_ERASURE,
    REASON_ROTATED,
    CLAIM_UNIQUE_PERSON,
    CLAIM_AGE_OVER_18,
    CLAIM_AGE_OVER_20
} from "../src/IKycRegistry.sol";
import {KycRegistryBase} from "./KycRegistryBase.sol";

/// @dev The rules of a record (write, replace, stale skip, expiry, revoke, reads, roles and pause
/// on the writes), written once against the base's helpers: `KycRegistryTest` runs them on the
/// global record (`scope` = 0), `KycRegistryScopedTest` on a scope's records, so the scoped
/// functions are held to exactly the global ones' behaviour.
abstract contract RecordRulesTest is KycRegistryBase {
    // ------------------------------------------------------------ attest

    function test_Attest_WritesRecordAndEmits() public {
        IKycRegistry.Record memory r = _rec(alice, 2, 0x8000_0001, T0 - 10, T0 + YEAR);
        _expectAttested(alice, 2, T0 + YEAR);
        _attest(r);
        _assertStored(alice, r, 0);
        assertTrue(_verified(alice));
        assertFalse(_verified(bob));
    }

    function test_Attest_BatchEmitsForEveryRecord() public {
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](3);
        b[0] = _rec(alice);
        b[1] = _rec(bob, 3, 7, T0, T0 + 2 * YEAR);
        b[2] = _rec(stranger);
        vm.recordLogs();
        _attestBatch(attester, b);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3);
        for (uint256 i; i < 3; ++i) {
            _assertEvent(logs[i], _attestedSelector(), b[i].wallet);
            assertEq(logs[i].data, abi.encode(b[i].level, b[i].expiresAt));
            _assertStored(b[i].wallet, b[i], 0);
        }
    }

    function test_Attest_NewerRecordReplaces() public {
        _attest(_rec(alice, 1, 1, T0, T0 + YEAR));
        IKycRegistry.Record memory renewed = _rec(alice, 2, 3, T0 + 1, T0 + 2 * YEAR);
        _expectAttested(alice, 2, T0 + 2 * YEAR);
        _attest(renewed);
        _assertStored(alice, renewed, 0);
    }

    function test_Attest_NewerRecordReverifiesAfterRevoke() public {
        _attest(_rec(alice, 1, 1, T0, T0 + YEAR));
        _revoke(alice, REASON_HOLDER);
        assertFalse(_verified(alice));
        vm.warp(T0 + 100);
        IKycRegistry.Record memory again = _rec(alice, 1, 1, T0 + 100, T0 + YEAR);
        _attest(again);
        _assertStored(alice, again, 0);
        assertTrue(_verified(alice));
    }

    function test_Attest_SameBatchTwiceLeavesSameState() public {
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](2);
        b[0] = _rec(alice);
        b[1] = _rec(bob, 2, 2, T0, T0 + YEAR);
        _attestBatch(attester, b);
        vm.recordLogs();
        _attestBatch(attester, b);
        assertEq(vm.getRecordedLogs().length, 0, "a resend writes and emits nothing");
        _assertStored(alice, b[0], 0);
        _assertStored(bob, b[1], 0);
    }

    function test_Attest_ResendAfterRevokeKeepsRevocation() public {
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        _revoke(alice, REASON_OPERATOR);
        _attest(r);
        _assertStored(alice, r, REASON_OPERATOR);
        assertFalse(_verified(alice));
    }

    function test_Attest_OlderRecordIsSkipped() public {
        IKycRegistry.Record memory current = _rec(alice, 2, 2, T0, T0 + YEAR);
        _attest(current);
        vm.recordLogs();
        _attest(_rec(alice, 1, 1, T0 - 1, T0 + 2 * YEAR));
        assertEq(vm.getRecordedLogs().length, 0);
        _assertStored(alice, current, 0);
    }

    function test_Attest_StaleResendAfterExpirySucceeds() public {
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        vm.warp(r.expiresAt + 1);
        _attest(r); // skipped as stale before the expiry check
        _assertStored(alice, r, 0);
        assertFalse(_verified(alice));
    }

    function test_RevertWhen_AttestCallerIsNotAttester() public {
        IKycRegistry.Record[] memory b = _batch(_rec(alice));
        address[3] memory callers = [stranger, admin, revoker];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, callers[i], registry.ATTESTER_ROLE()
                )
            );
            _attestBatch(callers[i], b);
        }
    }

    function test_RevertWhen_AttestWhilePaused() public {
        vm.prank(admin);
        registry.pause();
        vm.expectRevert(abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        _attest(_rec(alice));
    }

    function test_RevertWhen_AttestEmptyBatch() public {
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryEmptyBatch.selector));
        _attestBatch(attester, new IKycRegistry.Record[](0));
    }

    function test_RevertWhen_AttestZeroWallet() public {
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidWallet.selector, address(0)));
        _attest(_rec(address(0)));
    }

    function test_RevertWhen_AttestLevelZero() public {
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidLevel.selector, alice, uint8(0)));
        _attest(_rec(alice, 0, 1, T0, T0 + YEAR));
    }

    function test_RevertWhen_AttestExpiresNow() public {
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidExpiry.selector, alice, T0 - 10, T0));
        _attest(_rec(alice, 1, 1, T0 - 10, T0));
    }

    function test_RevertWhen_AttestExpiresInThePast() public {
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidExpiry.selector, alice, T0 - 10, T0 - 1));
        _attest(_rec(alice, 1, 1, T0 - 10, T0 - 1));
    }

    function test_RevertWhen_AttestExpiresNotAfterIssue() public {
        vm.expectRevert(
            abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidExpiry.selector, alice, T0 + 500, T0 + 500)
        );
        _attest(_rec(alice, 1, 1, T0 + 500, T0 + 500));
    }

    function test_RevertWhen_AttestBatchHasOneBadRecord_WritesNothing() public {
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](3);
        b[0] = _rec(alice);
        b[1] = _rec(bob);
        b[2] = _rec(stranger, 0, 0, T0, T0 + YEAR);
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidLevel.selector, stranger, uint8(0)));
        _attestBatch(attester, b);
        assertEq(_stored(alice).expiresAt, 0);
        assertEq(_stored(bob).expiresAt, 0);
    }

    /// @dev A hand-made encoding with a level of 256 must be refused like Solidity's decoder would.
    function test_RevertWhen_AttestCalldataIsDirty() public {
        bytes memory good = _attestCall(_batch(_rec(alice)));
        // The first record's words follow the selector, the head (the scope, if any, and the
        // array's offset) and the array's length.
        uint256 first = 4 + (scope == 0 ? 64 : 96);
        uint256[5] memory fieldOffsets = [first, first + 32, first + 64, first + 96, first + 128];
        for (uint256 f; f < fieldOffsets.length; ++f) {
            bytes memory bad = bytes.concat(good);
            bad[fieldOffsets[f] + 5] = 0x01; // a bit above every field's width
            vm.prank(attester);
            (bool ok, bytes memory ret) = address(registry).call(bad);
            assertFalse(ok, "dirty field accepted");
            assertEq(ret.length, 0, "not the decoder's empty revert");
        }
        assertEq(_stored(alice).expiresAt, 0);
        vm.prank(attester);
        (bool okGood,) = address(registry).call(good);
        assertTrue(okGood);
    }

    // ------------------------------------------------------------ revoke

    function test_Revoke_MarksRevokedAndEmits() public {
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        _expectRevoked(alice, REASON_CERTIFICATE_REVOKED);
        _revoke(alice, REASON_CERTIFICATE_REVOKED);
        _assertStored(alice, r, REASON_CERTIFICATE_REVOKED);
        assertFalse(_verified(alice));
    }

    function test_Revoke_SkipsWalletWithoutRecord() public {
        _attest(_rec(alice));
        address[] memory ws = new address[](3);
        ws[0] = bob;
        ws[1] = alice;
        ws[2] = address(0);
        vm.recordLogs();
        _revokeBatch(revoker, ws, REASON_OPERATOR);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "only alice has a record");
        _assertEvent(logs[0], _revokedSelector(), alice);
        IKycRegistry.Attestation memory none = _stored(bob);
        assertEq(none.expiresAt, 0);
        assertFalse(none.revoked);
        assertEq(none.revocationReason, 0);
    }

    function test_Revoke_AgainTakesTheNewReason() public {
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        _revoke(alice, REASON_HOLDER);
        _expectRevoked(alice, REASON_ERASURE);
        _revoke(alice, REASON_ERASURE);
        _assertStored(alice, r, REASON_ERASURE);
    }

    function test_Revoke_ExpiredRecord() public {
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        vm.warp(r.expiresAt + 1);
        _revoke(alice, REASON_ROTATED);
        _assertStored(alice, r, REASON_ROTATED);
    }

    function test_RevertWhen_RevokeCallerIsNotRevoker() public {
        _attest(_rec(alice));
        address[3] memory callers = [stranger, admin, attester];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, callers[i], registry.REVOKER_ROLE()
                )
            );
            _revokeBatch(callers[i], _wallets(alice), REASON_OPERATOR);
        }
    }

    function test_RevertWhen_RevokeWhilePaused() public {
        _attest(_rec(alice));
        vm.prank(admin);
        registry.pause();
        vm.expectRevert(abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        _revoke(alice, REASON_OPERATOR);
    }

    function test_RevertWhen_RevokeEmptyBatch() public {
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryEmptyBatch.selector));
        _revokeBatch(revoker, new address[](0), REASON_OPERATOR);
    }

    function test_RevertWhen_RevokeReasonZero() public {
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidRevocationReason.selector, uint8(0)));
        _revoke(alice, 0);
    }

    function test_RevertWhen_RevokeReasonUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidRevocationReason.selector, uint8(7)));
        _revoke(alice, 7);
    }

    // ------------------------------------------------------------ reads

    function test_IsVerified_FollowsExpiry() public {
        _attest(_rec(alice, 1, 1, T0, T0 + 100));
        vm.warp(T0 + 99);
        assertTrue(_verified(alice));
        vm.warp(T0 + 100);
        assertFalse(_verified(alice), "expired at expiresAt");
        vm.warp(T0 + 101);
        assertFalse(_verified(alice));
    }

    function test_HasClaims_NeedsEveryBitAndAVerifiedRecord() public {
        uint32 adult = CLAIM_UNIQUE_PERSON | CLAIM_AGE_OVER_18;
        _attest(_rec(alice, 1, adult, T0, T0 + YEAR));
        _attest(_rec(bob, 1, adult | CLAIM_AGE_OVER_20, T0, T0 + YEAR));
        assertTrue(_hasClaims(alice, 0));
        assertTrue(_hasClaims(alice, CLAIM_AGE_OVER_18));
        assertTrue(_hasClaims(alice, adult));
        assertFalse(_hasClaims(alice, CLAIM_AGE_OVER_20));
        assertFalse(_hasClaims(alice, CLAIM_AGE_OVER_18 | CLAIM_AGE_OVER_20));
        assertTrue(_hasClaims(bob, CLAIM_AGE_OVER_18 | CLAIM_AGE_OVER_20));
        assertFalse(_hasClaims(stranger, 0), "no record");
        _revoke(bob, REASON_HOLDER);
        assertFalse(_hasClaims(bob, CLAIM_AGE_OVER_18), "revoked");
        vm.warp(T0 + YEAR);
        assertFalse(_hasClaims(alice, CLAIM_AGE_OVER_18), "expired");
        assertFalse(_hasClaims(alice, 0), "expired");
    }

    function test_HasClaims_ARenewalReplacesTheClaims() public {
        _attest(_rec(alice, 1, CLAIM_UNIQUE_PERSON, T0, T0 + YEAR));
        assertFalse(_hasClaims(alice, CLAIM_AGE_OVER_18));
        // Verified again after the 18th birthday.
        _attest(_rec(alice, 1, CLAIM_UNIQUE_PERSON | CLAIM_AGE_OVER_18, T0 + 1, T0 + YEAR));
        assertTrue(_hasClaims(alice, CLAIM_AGE_OVER_18));
    }

    function test_AttestationOf_UnknownIsZero() public view {
        IKycRegistry.Attestation memory a = _stored(alice);
        assertEq(a.level, 0);
        assertEq(a.claims, 0);
        assertEq(a.issuedAt, 0);
        assertEq(a.expiresAt, 0);
        assertEq(a.revocationReason, 0);
        assertFalse(a.revoked);
    }

    function test_AttestationOf_FullWidthFields() public {
        IKycRegistry.Record memory r =
            _rec(alice, type(uint8).max, type(uint32).max, type(uint40).max - 1, type(uint40).max);
        _attest(r);
        _assertStored(alice, r, 0);
        _revoke(alice, REASON_ROTATED);
        _assertStored(alice, r, REASON_ROTATED);
    }

    function test_Pause_StopsWritesNotReads() public {
        _attest(_rec(alice));
        vm.prank(admin);
        registry.pause();
        assertTrue(_verified(alice));
        assertEq(_stored(alice).level, 1);
    }

    // ------------------------------------------------------------ fuzz

    function testFuzz_AttestRoundTrip(
        address wallet,
        uint8 level,
        uint32 claims,
        uint256 issuedAt,
        uint256 expiresAt,
        uint256 readAt
    ) public {
        vm.assume(wallet != address(0));
        level = uint8(bound(level, 1, type(uint8).max));
        issuedAt = bound(issuedAt, 0, type(uint40).max - 2);
        expiresAt = bound(expiresAt, _max(issuedAt, block.timestamp) + 1, type(uint40).max);
        IKycRegistry.Record memory r = _rec(wallet, level, claims, uint40(issuedAt), uint40(expiresAt));
        _attest(r);
        _assertStored(wallet, r, 0);
        readAt = bound(readAt, block.timestamp, type(uint40).max);
        vm.warp(readAt);
        assertEq(_verified(wallet), readAt < expiresAt);
    }

    function testFuzz_HasClaims(uint32 stored, uint32 asked, uint256 readAt) public {
        _attest(_rec(alice, 1, stored, T0, T0 + YEAR));
        readAt = bound(readAt, T0, uint256(T0) + 2 * YEAR);
        vm.warp(readAt);
        bool live = readAt < T0 + YEAR;
        assertEq(_hasClaims(alice, asked), live && stored & asked == asked);
        assertEq(_hasClaims(alice, 0), _verified(alice));
        assertFalse(_hasClaims(bob, asked));
    }

    function testFuzz_RevokeWithAnyDefinedReason(uint8 reason) public {
        reason = uint8(bound(reason, REASON_HOLDER, REASON_ROTATED));
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        _revoke(alice, reason);
        _assertStored(alice, r, reason);
        assertFalse(_verified(alice));
    }

    function testFuzz_RevertWhen_RevokeReasonUndefined(uint8 reason) public {
        reason = uint8(bound(reason, REASON_ROTATED + 1, type(uint8).max));
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidRevocationReason.selector, reason));
        _revoke(alice, reason);
    }

    function testFuzz_RevertWhen_StrangerWrites(address caller) public {
        vm.assume(caller != attester && caller != revoker);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, registry.ATTESTER_ROLE()
            )
        );
        _attestBatch(caller, _batch(_rec(alice)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, registry.REVOKER_ROLE()
            )
        );
        _revokeBatch(caller, _wallets(alice), REASON_OPERATOR);
    }

    function testFuzz_NewerReplacesOlderIsSkipped(uint256 first, uint256 second) public {
        first = bound(first, 0, T0);
        second = bound(second, 0, T0);
        IKycRegistry.Record memory a = _rec(alice, 1, 1, uint40(first), T0 + YEAR);
        IKycRegistry.Record memory b = _rec(alice, 2, 2, uint40(second), T0 + 2 * YEAR);
        _attest(a);
        _attest(b);
        _assertStored(alice, second > first ? b : a, 0);
    }

    function testFuzz_RevertWhen_AttestExpired(uint256 expiresAt) public {
        expiresAt = bound(expiresAt, 1, block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidExpiry.selector, alice, uint40(0), uint40(expiresAt))
        );
        _attest(_rec(alice, 1, 1, 0, uint40(expiresAt)));
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }

    /// @dev `log` is the registry's event `selector` of `wallet`, with the scope's topic if any.
    function _assertEvent(Vm.Log memory log, bytes32 selector, address wallet) private view {
        assertEq(log.emitter, address(registry), "emitter");
        bytes32[] memory want = _topics(wallet);
        assertEq(log.topics.length, want.length + 1, "topics");
        assertEq(log.topics[0], selector, "selector");
        for (uint256 i; i < want.length; ++i) {
            assertEq(log.topics[i + 1], want[i], "topic");
        }
    }
}
