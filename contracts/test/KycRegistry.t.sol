// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

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
import {RecordRulesTest} from "./KycRegistryRecordRules.sol";

/// @dev The global record (the rules of `RecordRulesTest` with `scope` = 0), levels, roles, pause.
contract KycRegistryTest is RecordRulesTest {
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

    // ------------------------------------------------------------ reads

    function test_IsVerified_AtLevel() public {
        _attest(_rec(alice, 2, 0, T0, T0 + YEAR));
        assertTrue(registry.isVerified(alice, uint8(0)));
        assertTrue(registry.isVerified(alice, 1));
        assertTrue(registry.isVerified(alice, 2));
        assertFalse(registry.isVerified(alice, 3));
        assertFalse(registry.isVerified(alice, 255));
        assertFalse(registry.isVerified(bob, uint8(0)));
    }

    function test_IsVerifiedAtLevel_FollowsExpiryAndRevocation() public {
        _attest(_rec(alice, 2, 0, T0, T0 + 100));
        _attest(_rec(bob, 2, 0, T0, T0 + YEAR));
        _revoke(bob, REASON_HOLDER);
        assertTrue(registry.isVerified(alice, 2));
        assertFalse(registry.isVerified(bob, uint8(0)), "revoked");
        vm.warp(T0 + 100);
        assertFalse(registry.isVerified(alice, 1), "expired");
        assertFalse(registry.isVerified(alice, uint8(0)), "expired");
    }

    function test_ClaimBits() public pure {
        assertEq(CLAIM_UNIQUE_PERSON, 1);
        assertEq(CLAIM_AGE_OVER_18, 2);
        assertEq(CLAIM_AGE_OVER_20, 4);
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

    function test_Pause_EmitsAndSetsPaused() public {
        vm.expectEmit(address(registry));
        emit Paused(admin);
        vm.prank(admin);
        registry.pause();
        assertTrue(registry.paused());
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

    function testFuzz_IsVerifiedAtLevel(uint8 level, uint8 minLevel) public {
        level = uint8(bound(level, 1, type(uint8).max));
        _attest(_rec(alice, level, 0, T0, T0 + YEAR));
        assertEq(registry.isVerified(alice, minLevel), level >= minLevel);
    }
}
