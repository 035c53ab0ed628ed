// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {KycGated} from "../../src/KycGated.sol";
import {KycDrop} from "../../src/examples/KycDrop.sol";
import {OwnedWallet} from "../../src/examples/OwnedWallet.sol";
import {REASON_HOLDER} from "../../src/IKycRegistry.sol";
import {KycRegistryBase} from "../KycRegistryBase.sol";

contract KycDropTest is KycRegistryBase {
    event Claimed(address indexed wallet, uint256 amount);

    KycDrop internal drop;

    function setUp() public override {
        super.setUp();
        drop = new KycDrop(registry, 100);
    }

    function test_Claim_OncePerVerifiedWallet() public {
        _attest(_rec(alice));
        vm.expectEmit(address(drop));
        emit Claimed(alice, 100);
        vm.prank(alice);
        drop.claim();
        assertEq(drop.balanceOf(alice), 100);
        assertTrue(drop.claimed(alice));
        assertEq(drop.amountPerClaim(), 100);
    }

    function test_RevertWhen_ClaimTwice() public {
        _attest(_rec(alice));
        vm.startPrank(alice);
        drop.claim();
        vm.expectRevert(abi.encodeWithSelector(KycDrop.KycDropAlreadyClaimed.selector, alice));
        drop.claim();
        vm.stopPrank();
        assertEq(drop.balanceOf(alice), 100);
    }

    function test_RevertWhen_ClaimUnverified() public {
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedUnverifiedAccount.selector, bob, uint8(0)));
        vm.prank(bob);
        drop.claim();
    }

    function test_RevertWhen_ClaimAfterRevocation() public {
        _attest(_rec(alice));
        _revoke(alice, REASON_HOLDER);
        vm.expectRevert(abi.encodeWithSelector(KycGated.KycGatedUnverifiedAccount.selector, alice, uint8(0)));
        vm.prank(alice);
        drop.claim();
    }

    function test_Claim_ThroughContractWallet() public {
        OwnedWallet wallet = new OwnedWallet(alice);
        _attest(_rec(address(wallet)));
        vm.prank(alice);
        wallet.execute(address(drop), 0, abi.encodeCall(KycDrop.claim, ()));
        assertEq(drop.balanceOf(address(wallet)), 100);
        assertEq(drop.balanceOf(alice), 0);
    }
}
