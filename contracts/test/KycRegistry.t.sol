// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {KycRegistry} from "../src/KycRegistry.sol";
import {
    IKycRegistry,
    REASON_HOLDER,
    REASON_OPERATOR,
    REASON_CERTIFICATE_REVOKED,
    REASON_CERTIFICATE_SUPERSEDED,
    REASON_ERASURE,
    REASON_ROTATED,
    CLAIM_UNIQUE_PERSON,
    CLAIM_AGE_OVER_18,
    CLAIM_AGE_OVER_20
} from "../src/IKycRegistry.sol";
import {KycRegistryBase} from "./KycRegistryBase.sol";

contract KycRegistryTest is KycRegistryBase {
    event Attested(address indexed wallet, uint8 level, uint40 expiresAt);
    event Revoked(address indexed wallet, uint8 reason);
    event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender);
    event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender);
    event Paused(address account);
    event Unpaused(address account);

    // ------------------------------------------------------------ constructor and constants

    function test_Constructor_GrantsAdminOnly() public {
        vm.expectEmit(true, true, true, true);
        emit RoleGranted(bytes32(0), admin, address(this));
        KycRegistry r = new KycRegistry(admin);
        assertTrue(r.hasRole(r.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(r.hasRole(r.ATTESTER_ROLE(), admin));
        assertFalse(r.hasRole(r.REVOKER_ROLE(), admin));
        assertEq(r.roleMembers().length, 1);
        assertFalse(r.paused());
    }

    function test_RevertWhen_ConstructorGetsZeroAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidAccount.selector, address(0)));
        new KycRegistry(address(0));
    }

    function test_Constants() public view {
        assertEq(registry.ATTESTER_ROLE(), keccak256("ATTESTER_ROLE"));
        assertEq(registry.REVOKER_ROLE(), keccak256("REVOKER_ROLE"));
        assertEq(registry.DEFAULT_ADMIN_ROLE(), bytes32(0));
        assertEq(REASON_HOLDER, 1);
        assertEq(REASON_OPERATOR, 2);
        assertEq(REASON_CERTIFICATE_REVOKED, 3);
        assertEq(REASON_CERTIFICATE_SUPERSEDED, 4);
        assertEq(REASON_ERASURE, 5);
        assertEq(REASON_ROTATED, 6);
    }

    // ------------------------------------------------------------ attest

    function test_Attest_WritesRecordAndEmits() public {
        IKycRegistry.Record memory r = _rec(alice, 2, 0x8000_0001, T0 - 10, T0 + YEAR);
        vm.expectEmit(address(registry));
        emit Attested(alice, 2, T0 + YEAR);
        _attest(r);
        _assertStored(alice, r, 0);
        assertTrue(registry.isVerified(alice));
        assertTrue(registry.isVerified(alice, 2));
        assertFalse(registry.isVerified(bob));
    }

    function test_Attest_BatchEmitsForEveryRecord() public {
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](3);
        b[0] = _rec(alice);
        b[1] = _rec(bob, 3, 7, T0, T0 + 2 * YEAR);
        b[2] = _rec(stranger);
        vm.recordLogs();
        vm.prank(attester);
        registry.attest(b);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3);
        for (uint256 i; i < 3; ++i) {
            assertEq(logs[i].topics[0], IKycRegistry.Attested.selector);
            assertEq(logs[i].topics[1], bytes32(uint256(uint160(b[i].wallet))));
            assertEq(logs[i].data, abi.encode(b[i].level, b[i].expiresAt));
            _assertStored(b[i].wallet, b[i], 0);
        }
    }

    function test_Attest_NewerRecordReplaces() public {
        _attest(_rec(alice, 1, 1, T0, T0 + YEAR));
        IKycRegistry.Record memory renewed = _rec(alice, 2, 3, T0 + 1, T0 + 2 * YEAR);
        vm.expectEmit(address(registry));
        emit Attested(alice, 2, T0 + 2 * YEAR);
        _attest(renewed);
        _assertStored(alice, renewed, 0);
    }

    function test_Attest_NewerRecordReverifiesAfterRevoke() public {
        _attest(_rec(alice, 1, 1, T0, T0 + YEAR));
        _revoke(alice, REASON_HOLDER);
        assertFalse(registry.isVerified(alice));
        vm.warp(T0 + 100);
        IKycRegistry.Record memory again = _rec(alice, 1, 1, T0 + 100, T0 + YEAR);
        _attest(again);
        _assertStored(alice, again, 0);
        assertTrue(registry.isVerified(alice));
    }

    function test_Attest_SameBatchTwiceLeavesSameState() public {
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](2);
        b[0] = _rec(alice);
        b[1] = _rec(bob, 2, 2, T0, T0 + YEAR);
        vm.startPrank(attester);
        registry.attest(b);
        vm.recordLogs();
        registry.attest(b);
        vm.stopPrank();
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
        assertFalse(registry.isVerified(alice));
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
        assertFalse(registry.isVerified(alice));
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
            vm.prank(callers[i]);
            registry.attest(b);
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
        vm.prank(attester);
        registry.attest(new IKycRegistry.Record[](0));
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
        vm.prank(attester);
        registry.attest(b);
        assertEq(registry.attestationOf(alice).expiresAt, 0);
        assertEq(registry.attestationOf(bob).expiresAt, 0);
    }

    /// @dev A hand-made encoding with a level of 256 must be refused like Solidity's decoder would.
    function test_RevertWhen_AttestCalldataIsDirty() public {
        bytes memory good = abi.encodeCall(IKycRegistry.attest, (_batch(_rec(alice))));
        uint256[5] memory fieldOffsets = [uint256(4 + 64), 4 + 96, 4 + 128, 4 + 160, 4 + 192];
        for (uint256 f; f < fieldOffsets.length; ++f) {
            bytes memory bad = bytes.concat(good);
            bad[fieldOffsets[f] + 5] = 0x01; // a bit above every field's width
            vm.prank(attester);
            (bool ok, bytes memory ret) = address(registry).call(bad);
            assertFalse(ok, "dirty field accepted");
            assertEq(ret.length, 0, "not the decoder's empty revert");
        }
        assertEq(registry.attestationOf(alice).expiresAt, 0);
        vm.prank(attester);
        (bool okGood,) = address(registry).call(good);
        assertTrue(okGood);
    }

    // ------------------------------------------------------------ revoke

    function test_Revoke_MarksRevokedAndEmits() public {
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        vm.expectEmit(address(registry));
        emit Revoked(alice, REASON_CERTIFICATE_REVOKED);
        _revoke(alice, REASON_CERTIFICATE_REVOKED);
        _assertStored(alice, r, REASON_CERTIFICATE_REVOKED);
        assertFalse(registry.isVerified(alice));
        assertFalse(registry.isVerified(alice, 0));
    }

    function test_Revoke_SkipsWalletWithoutRecord() public {
        _attest(_rec(alice));
        address[] memory ws = new address[](3);
        ws[0] = bob;
        ws[1] = alice;
        ws[2] = address(0);
        vm.recordLogs();
        vm.prank(revoker);
        registry.revoke(ws, REASON_OPERATOR);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "only alice has a record");
        assertEq(logs[0].topics[1], bytes32(uint256(uint160(alice))));
        IKycRegistry.Attestation memory none = registry.attestationOf(bob);
        assertEq(none.expiresAt, 0);
        assertFalse(none.revoked);
        assertEq(none.revocationReason, 0);
    }

    function test_Revoke_AgainTakesTheNewReason() public {
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        _revoke(alice, REASON_HOLDER);
        vm.expectEmit(address(registry));
        emit Revoked(alice, REASON_ERASURE);
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
            vm.prank(callers[i]);
            registry.revoke(_wallets(alice), REASON_OPERATOR);
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
        vm.prank(revoker);
        registry.revoke(new address[](0), REASON_OPERATOR);
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
        assertTrue(registry.isVerified(alice));
        vm.warp(T0 + 100);
        assertFalse(registry.isVerified(alice), "expired at expiresAt");
        vm.warp(T0 + 101);
        assertFalse(registry.isVerified(alice));
        assertFalse(registry.isVerified(alice, 1));
    }

    function test_IsVerified_AtLevel() public {
        _attest(_rec(alice, 2, 0, T0, T0 + YEAR));
        assertTrue(registry.isVerified(alice, 0));
        assertTrue(registry.isVerified(alice, 1));
        assertTrue(registry.isVerified(alice, 2));
        assertFalse(registry.isVerified(alice, 3));
        assertFalse(registry.isVerified(alice, 255));
        assertFalse(registry.isVerified(bob, 0));
    }

    function test_ClaimBits() public pure {
        assertEq(CLAIM_UNIQUE_PERSON, 1);
        assertEq(CLAIM_AGE_OVER_18, 2);
        assertEq(CLAIM_AGE_OVER_20, 4);
    }

    function test_HasClaims_NeedsEveryBitAndAVerifiedRecord() public {
        uint32 adult = CLAIM_UNIQUE_PERSON | CLAIM_AGE_OVER_18;
        _attest(_rec(alice, 1, adult, T0, T0 + YEAR));
        _attest(_rec(bob, 1, adult | CLAIM_AGE_OVER_20, T0, T0 + YEAR));
        assertTrue(registry.hasClaims(alice, 0));
        assertTrue(registry.hasClaims(alice, CLAIM_AGE_OVER_18));
        assertTrue(registry.hasClaims(alice, adult));
        assertFalse(registry.hasClaims(alice, CLAIM_AGE_OVER_20));
        assertFalse(registry.hasClaims(alice, CLAIM_AGE_OVER_18 | CLAIM_AGE_OVER_20));
        assertTrue(registry.hasClaims(bob, CLAIM_AGE_OVER_18 | CLAIM_AGE_OVER_20));
        assertFalse(registry.hasClaims(stranger, 0), "no record");
        _revoke(bob, REASON_HOLDER);
        assertFalse(registry.hasClaims(bob, CLAIM_AGE_OVER_18), "revoked");
        vm.warp(T0 + YEAR);
        assertFalse(registry.hasClaims(alice, CLAIM_AGE_OVER_18), "expired");
        assertFalse(registry.hasClaims(alice, 0), "expired");
    }

    function test_HasClaims_ARenewalReplacesTheClaims() public {
        _attest(_rec(alice, 1, CLAIM_UNIQUE_PERSON, T0, T0 + YEAR));
        assertFalse(registry.hasClaims(alice, CLAIM_AGE_OVER_18));
        // Verified again after the 18th birthday.
        _attest(_rec(alice, 1, CLAIM_UNIQUE_PERSON | CLAIM_AGE_OVER_18, T0 + 1, T0 + YEAR));
        assertTrue(registry.hasClaims(alice, CLAIM_AGE_OVER_18));
    }

    function test_AttestationOf_UnknownIsZero() public view {
        IKycRegistry.Attestation memory a = registry.attestationOf(alice);
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

    function test_SupportsInterface() public view {
        assertTrue(registry.supportsInterface(type(IKycRegistry).interfaceId));
        assertTrue(registry.supportsInterface(type(IAccessControl).interfaceId));
        assertTrue(registry.supportsInterface(type(IERC165).interfaceId));
        assertFalse(registry.supportsInterface(0xffffffff));
    }

    // ------------------------------------------------------------ roles

    function test_GrantRole_EmitsAndListsMember() public {
        bytes32 role = registry.ATTESTER_ROLE();
        vm.expectEmit(address(registry));
        emit RoleGranted(role, bob, admin);
        vm.prank(admin);
        registry.grantRole(role, bob);
        assertTrue(registry.hasRole(role, bob));
        assertEq(registry.roleMembers().length, 4);
        vm.prank(bob);
        registry.attest(_batch(_rec(alice)));
        assertTrue(registry.isVerified(alice));
    }

    function test_GrantRole_TwiceIsANoOp() public {
        bytes32 role = registry.ATTESTER_ROLE();
        vm.recordLogs();
        vm.prank(admin);
        registry.grantRole(role, attester);
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(registry.roleMembers().length, 3);
    }

    function test_RevertWhen_GrantRoleByNonAdmin() public {
        bytes32 role = registry.ATTESTER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, attester, bytes32(0))
        );
        vm.prank(attester);
        registry.grantRole(role, stranger);
    }

    function test_RevertWhen_GrantUnknownRole() public {
        bytes32 role = keccak256("MINTER_ROLE");
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryUnknownRole.selector, role));
        vm.prank(admin);
        registry.grantRole(role, stranger);
        assertFalse(registry.hasRole(role, stranger));
    }

    function test_RevokeRole_RemovesAccess() public {
        bytes32 role = registry.ATTESTER_ROLE();
        vm.expectEmit(address(registry));
        emit RoleRevoked(role, attester, admin);
        vm.prank(admin);
        registry.revokeRole(role, attester);
        assertFalse(registry.hasRole(role, attester));
        assertEq(registry.roleMembers().length, 2);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, attester, role)
        );
        _attest(_rec(alice));
    }

    function test_RevokeRole_KeepsOtherRoles() public {
        bytes32 attesterRole = registry.ATTESTER_ROLE();
        bytes32 revokerRole = registry.REVOKER_ROLE();
        vm.startPrank(admin);
        registry.grantRole(revokerRole, attester);
        registry.revokeRole(attesterRole, attester);
        vm.stopPrank();
        assertTrue(registry.hasRole(revokerRole, attester));
        assertEq(registry.roleMembers().length, 3);
    }

    function test_RevokeRole_NotHeldIsANoOp() public {
        bytes32 role = registry.REVOKER_ROLE();
        vm.recordLogs();
        vm.prank(admin);
        registry.revokeRole(role, stranger);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_RevertWhen_RevokeRoleByNonAdmin() public {
        bytes32 role = registry.ATTESTER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, revoker, bytes32(0))
        );
        vm.prank(revoker);
        registry.revokeRole(role, attester);
    }

    function test_RenounceRole() public {
        bytes32 role = registry.ATTESTER_ROLE();
        vm.prank(attester);
        registry.renounceRole(role, attester);
        assertFalse(registry.hasRole(role, attester));
    }

    function test_RevertWhen_RenounceRoleForSomeoneElse() public {
        bytes32 role = registry.ATTESTER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlBadConfirmation.selector));
        vm.prank(admin);
        registry.renounceRole(role, attester);
    }

    function test_GetRoleAdmin_IsDefaultAdmin() public view {
        assertEq(registry.getRoleAdmin(registry.ATTESTER_ROLE()), bytes32(0));
        assertEq(registry.getRoleAdmin(registry.REVOKER_ROLE()), bytes32(0));
        assertEq(registry.getRoleAdmin(bytes32(0)), bytes32(0));
    }

    function test_HasRole_UnknownRoleIsFalse() public view {
        assertFalse(registry.hasRole(keccak256("OTHER"), admin));
    }

    // ------------------------------------------------------------ pause

    function test_Pause_StopsWritesNotReads() public {
        _attest(_rec(alice));
        vm.expectEmit(address(registry));
        emit Paused(admin);
        vm.prank(admin);
        registry.pause();
        assertTrue(registry.paused());
        assertTrue(registry.isVerified(alice));
        assertEq(registry.attestationOf(alice).level, 1);
    }

    function test_Unpause_ResumesWrites() public {
        vm.startPrank(admin);
        registry.pause();
        vm.expectEmit(address(registry));
        emit Unpaused(admin);
        registry.unpause();
        vm.stopPrank();
        assertFalse(registry.paused());
        _attest(_rec(alice));
        _revoke(alice, REASON_HOLDER);
        assertTrue(registry.attestationOf(alice).revoked);
    }

    function test_Pause_CoversRolesGrantedWhilePaused() public {
        bytes32 role = registry.ATTESTER_ROLE();
        vm.startPrank(admin);
        registry.pause();
        registry.grantRole(role, bob);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        vm.prank(bob);
        registry.attest(_batch(_rec(alice)));
        vm.prank(admin);
        registry.unpause();
        vm.prank(bob);
        registry.attest(_batch(_rec(alice)));
        assertTrue(registry.isVerified(alice));
    }

    function test_Pause_SurvivesRoleLossAndRegrant() public {
        bytes32 role = registry.ATTESTER_ROLE();
        vm.startPrank(admin);
        registry.pause();
        registry.revokeRole(role, attester);
        registry.grantRole(role, attester);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        _attest(_rec(alice));
    }

    function test_RevertWhen_PauseByNonAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, attester, bytes32(0))
        );
        vm.prank(attester);
        registry.pause();
    }

    function test_RevertWhen_UnpauseByNonAdmin() public {
        vm.prank(admin);
        registry.pause();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, revoker, bytes32(0))
        );
        vm.prank(revoker);
        registry.unpause();
    }

    function test_RevertWhen_PauseTwice() public {
        vm.startPrank(admin);
        registry.pause();
        vm.expectRevert(abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        registry.pause();
        vm.stopPrank();
    }

    function test_RevertWhen_UnpauseWhileNotPaused() public {
        vm.expectRevert(abi.encodeWithSelector(Pausable.ExpectedPause.selector));
        vm.prank(admin);
        registry.unpause();
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
        assertEq(registry.isVerified(wallet), readAt < expiresAt);
    }

    function testFuzz_IsVerifiedAtLevel(uint8 level, uint8 minLevel) public {
        level = uint8(bound(level, 1, type(uint8).max));
        _attest(_rec(alice, level, 0, T0, T0 + YEAR));
        assertEq(registry.isVerified(alice, minLevel), level >= minLevel);
    }

    function testFuzz_HasClaims(uint32 stored, uint32 asked, uint256 readAt) public {
        _attest(_rec(alice, 1, stored, T0, T0 + YEAR));
        readAt = bound(readAt, T0, uint256(T0) + 2 * YEAR);
        vm.warp(readAt);
        bool live = readAt < T0 + YEAR;
        assertEq(registry.hasClaims(alice, asked), live && stored & asked == asked);
        assertEq(registry.hasClaims(alice, 0), registry.isVerified(alice));
        assertFalse(registry.hasClaims(bob, asked));
    }

    function testFuzz_RevokeWithAnyDefinedReason(uint8 reason) public {
        reason = uint8(bound(reason, REASON_HOLDER, REASON_ROTATED));
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        _revoke(alice, reason);
        _assertStored(alice, r, reason);
        assertFalse(registry.isVerified(alice));
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
        vm.prank(caller);
        registry.attest(_batch(_rec(alice)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, registry.REVOKER_ROLE()
            )
        );
        vm.prank(caller);
        registry.revoke(_wallets(alice), REASON_OPERATOR);
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
}
