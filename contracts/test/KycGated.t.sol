// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    IKycRegistry,
    REASON_HOLDER,
    CLAIM_UNIQUE_PERSON,
    CLAIM_AGE_OVER_18,
    CLAIM_AGE_OVER_20
} from "../src/IKycRegistry.sol";
import {KycGated} from "../src/KycGated.sol";
import {KycRegistryBase} from "./KycRegistryBase.sol";

contract GatedHarness is KycGated {
    uint256 public calls;

    constructor(IKycRegistry registry) KycGated(registry) {}

    function gated() external onlyVerified {
        ++calls;
    }

    function gatedAtLevel2() external onlyVerifiedAtLevel(2) {
        ++calls;
    }

    function adultsOnly() external onlyWithClaims(CLAIM_AGE_OVER_18) {
        ++calls;
    }

    function over20Only() external onlyWithClaims(CLAIM_AGE_OVER_20) {
        ++calls;
    }

    /// @dev The scope named `kyc-drop`.
    bytes32 internal constant SCOPE = keccak256("honnin/v1/scope\x00kyc-drop");

    function gatedIn() external onlyVerifiedIn(SCOPE) {
        ++calls;
    }

    function adultsOnlyIn() external onlyWithClaimsIn(SCOPE, CLAIM_AGE_OVER_18) {
        ++calls;
    }

    function gatedInZeroScope() external onlyVerifiedIn(bytes32(0)) {
        ++calls;
    }
}

contract KycGatedTest is KycRegistryBase {
    GatedHarness internal gatedApp;

    function setUp() public override {
        super.setUp();
        gatedApp = new GatedHarness(registry);
    }

    function test_Constructor_KeepsRegistry() public view {
        assertEq(address(gatedApp.kycRegistry()), address(registry));
    }

    function test_RevertWhen_RegistryHasNoCode() public {
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedInvalidRegistry.selector, alice));
        new GatedHarness(IKycRegistry(alice));
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedInvalidRegistry.selector, address(0)));
        new GatedHarness(IKycRegistry(address(0)));
    }

    function test_OnlyVerified_LetsVerifiedIn() public {
        _attest(_rec(alice));
        vm.prank(alice);
        gatedApp.gated();
        assertEq(gatedApp.calls(), 1);
    }

    function test_RevertWhen_OnlyVerifiedCallerUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedUnverifiedAccount.selector, bob, uint8(0)));
        vm.prank(bob);
        gatedApp.gated();
    }

    function test_RevertWhen_OnlyVerifiedCallerRevoked() public {
        _attest(_rec(alice));
        _revoke(alice, REASON_HOLDER);
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedUnverifiedAccount.selector, alice, uint8(0)));
        vm.prank(alice);
        gatedApp.gated();
    }

    function test_RevertWhen_OnlyVerifiedCallerExpired() public {
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        vm.warp(r.expiresAt);
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedUnverifiedAccount.selector, alice, uint8(0)));
        vm.prank(alice);
        gatedApp.gated();
    }

    function test_OnlyVerifiedAtLevel() public {
        _attest(_rec(alice, 2, 0, T0, T0 + YEAR));
        _attest(_rec(bob, 1, 0, T0, T0 + YEAR));
        vm.prank(alice);
        gatedApp.gatedAtLevel2();
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedUnverifiedAccount.selector, bob, uint8(2)));
        vm.prank(bob);
        gatedApp.gatedAtLevel2();
        assertEq(gatedApp.calls(), 1);
    }

    function test_OnlyWithClaims() public {
        _attest(_rec(alice, 1, CLAIM_UNIQUE_PERSON | CLAIM_AGE_OVER_18, T0, T0 + YEAR));
        _attest(_rec(bob, 1, CLAIM_UNIQUE_PERSON, T0, T0 + YEAR));
        vm.prank(alice);
        gatedApp.adultsOnly();
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedMissingClaims.selector, alice, CLAIM_AGE_OVER_20));
        vm.prank(alice);
        gatedApp.over20Only();
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedMissingClaims.selector, bob, CLAIM_AGE_OVER_18));
        vm.prank(bob);
        gatedApp.adultsOnly();
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedMissingClaims.selector, stranger, CLAIM_AGE_OVER_18));
        vm.prank(stranger);
        gatedApp.adultsOnly();
        _revoke(alice, REASON_HOLDER);
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedMissingClaims.selector, alice, CLAIM_AGE_OVER_18));
        vm.prank(alice);
        gatedApp.adultsOnly();
        assertEq(gatedApp.calls(), 1);
    }

    function test_OnlyVerifiedIn_LetsTheScopesVerifiedIn() public {
        scope = SCOPE_A;
        _attest(_rec(alice));
        vm.prank(alice);
        gatedApp.gatedIn();
        assertEq(gatedApp.calls(), 1);
    }

    function test_RevertWhen_OnlyVerifiedInCallerVerifiedElsewhere() public {
        _attest(_rec(alice)); // global
        scope = SCOPE_B;
        _attest(_rec(alice));
        _expectRefusedIn(alice, gatedApp.gatedIn);
        _expectRefusedIn(bob, gatedApp.gatedIn);
    }

    function test_RevertWhen_OnlyVerifiedInCallerRevokedOrExpired() public {
        scope = SCOPE_A;
        IKycRegistry.Record memory r = _rec(alice);
        _attest(r);
        _attest(_rec(bob));
        _revoke(bob, REASON_HOLDER);
        _expectRefusedIn(bob, gatedApp.gatedIn);
        vm.warp(r.expiresAt);
        _expectRefusedIn(alice, gatedApp.gatedIn);
    }

    /// @dev `wallet` calling `gate` is refused with {KycGatedUnverifiedAccountIn} for `SCOPE_A`.
    function _expectRefusedIn(address wallet, function() external gate) internal {
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedUnverifiedAccountIn.selector, wallet, SCOPE_A));
        vm.prank(wallet);
        gate();
    }

    /// @dev The registry's own error comes through for the zero scope.
    function test_RevertWhen_OnlyVerifiedInZeroScope() public {
        _attest(_rec(alice));
        vm.expectRevert(abi.encodeWithSelector(IKycRegistry.KycRegistryInvalidScope.selector));
        vm.prank(alice);
        gatedApp.gatedInZeroScope();
    }

    function test_OnlyWithClaimsIn() public {
        _attest(_rec(bob, 1, CLAIM_UNIQUE_PERSON | CLAIM_AGE_OVER_18, T0, T0 + YEAR)); // global
        scope = SCOPE_A;
        _attest(_rec(alice, 1, CLAIM_UNIQUE_PERSON | CLAIM_AGE_OVER_18, T0, T0 + YEAR));
        _attest(_rec(bob, 1, CLAIM_UNIQUE_PERSON, T0, T0 + YEAR));
        vm.prank(alice);
        gatedApp.adultsOnlyIn();
        vm.expectRevert(
            abi.encodeWithSelector(KycGated.KycGatedMissingClaimsIn.selector, bob, SCOPE_A, CLAIM_AGE_OVER_18)
        );
        vm.prank(bob);
        gatedApp.adultsOnlyIn();
        _revoke(alice, REASON_HOLDER);
        vm.expectRevert(
            abi.encodeWithSelector(KycGated.KycGatedMissingClaimsIn.selector, alice, SCOPE_A, CLAIM_AGE_OVER_18)
        );
        vm.prank(alice);
        gatedApp.adultsOnlyIn();
        assertEq(gatedApp.calls(), 1);
    }

    function testFuzz_OnlyWithClaimsIn(bytes32 appScope, uint32 stored, uint32 asked) public {
        vm.assume(appScope != 0 && appScope != SCOPE_A);
        scope = SCOPE_A; // a record elsewhere with every bit never counts
        _attest(_rec(alice, 1, type(uint32).max, T0, T0 + YEAR));
        scope = appScope;
        _attest(_rec(alice, 1, stored, T0, T0 + YEAR));
        GatedClaimsInHarness app = new GatedClaimsInHarness(registry, appScope, asked);
        if (stored & asked != asked) {
            vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedMissingClaimsIn.selector, alice, appScope, asked));
        }
        vm.prank(alice);
        app.gated();
    }

    function testFuzz_OnlyWithClaims(uint32 stored, uint32 asked) public {
        _attest(_rec(alice, 1, stored, T0, T0 + YEAR));
        GatedClaimsHarness app = new GatedClaimsHarness(registry, asked);
        if (stored & asked != asked) {
            vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedMissingClaims.selector, alice, asked));
        }
        vm.prank(alice);
        app.gated();
    }

    function testFuzz_OnlyVerifiedAtLevel(uint8 level, uint8 minLevel) public {
        level = uint8(bound(level, 1, type(uint8).max));
        _attest(_rec(alice, level, 0, T0, T0 + YEAR));
        GatedLevelHarness app = new GatedLevelHarness(registry, minLevel);
        if (level < minLevel) {
            vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedUnverifiedAccount.selector, alice, minLevel));
        }
        vm.prank(alice);
        app.gated();
    }
}

contract GatedLevelHarness is KycGated {
    uint8 internal immutable minLevel;

    constructor(IKycRegistry registry, uint8 minLevel_) KycGated(registry) {
        minLevel = minLevel_;
    }

    function gated() external onlyVerifiedAtLevel(minLevel) {}
}

contract GatedClaimsHarness is KycGated {
    uint32 internal immutable claims;

    constructor(IKycRegistry registry, uint32 claims_) KycGated(registry) {
        claims = claims_;
    }

    function gated() external onlyWithClaims(claims) {}
}

contract GatedClaimsInHarness is KycGated {
    bytes32 internal immutable scope;
    uint32 internal immutable claims;

    constructor(IKycRegistry registry, bytes32 scope_, uint32 claims_) KycGated(registry) {
        scope = scope_;
        claims = claims_;
    }

    function gated() external onlyWithClaimsIn(scope, claims) {}
}
