// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {OwnedWallet} from "../../src/examples/OwnedWallet.sol";

contract Target {
    error Nope(uint256 code);

    uint256 public received;

    function ping(uint256 x) external payable returns (uint256) {
        received += msg.value;
        return x + 1;
    }

    function fail() external pure {
        revert Nope(7);
    }
}

contract OwnedWalletTest is Test {
    OwnedWallet internal wallet;
    Target internal target;
    address internal owner;
    uint256 internal ownerKey;

    function setUp() public {
        (owner, ownerKey) = makeAddrAndKey("owner");
        wallet = new OwnedWallet(owner);
        target = new Target();
    }

    function _sign(uint256 key, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, hash);
        return abi.encodePacked(r, s, v);
    }

    function test_IsValidSignature_OwnerPersonalSign() public view {
        bytes32 hash = MessageHashUtils.toEthSignedMessageHash(bytes("honnin challenge"));
        assertEq(wallet.isValidSignature(hash, _sign(ownerKey, hash)), IERC1271.isValidSignature.selector);
    }

    function test_IsValidSignature_RefusesOtherSigner() public {
        (, uint256 otherKey) = makeAddrAndKey("other");
        bytes32 hash = keccak256("x");
        assertEq(wallet.isValidSignature(hash, _sign(otherKey, hash)), bytes4(0xffffffff));
    }

    function test_IsValidSignature_RefusesOtherHash() public view {
        bytes memory sig = _sign(ownerKey, keccak256("x"));
        assertEq(wallet.isValidSignature(keccak256("y"), sig), bytes4(0xffffffff));
    }

    function test_IsValidSignature_RefusesMalformed() public view {
        bytes32 hash = keccak256("x");
        assertEq(wallet.isValidSignature(hash, hex"1234"), bytes4(0xffffffff));
        assertEq(wallet.isValidSignature(hash, new bytes(65)), bytes4(0xffffffff));
    }

    function testFuzz_IsValidSignature(bytes32 hash, uint256 key) public {
        key = bound(key, 1, 115792089237316195423570985008687907852837564279074904382605163141518161494336);
        bool isOwner = key == ownerKey;
        bytes4 want = isOwner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
        assertEq(wallet.isValidSignature(hash, _sign(key, hash)), want);
    }

    function test_Execute_CallsAsTheWallet() public {
        vm.deal(owner, 1 ether);
        vm.prank(owner);
        bytes memory ret = wallet.execute{value: 1 ether}(address(target), 1 ether, abi.encodeCall(Target.ping, (41)));
        assertEq(abi.decode(ret, (uint256)), 42);
        assertEq(target.received(), 1 ether);
    }

    function test_RevertWhen_ExecuteByNonOwner() public {
        address stranger = makeAddr("stranger");
        vm.expectRevert(abi.encodeWithSelector(OwnedWallet.OwnedWalletUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        wallet.execute(address(target), 0, abi.encodeCall(Target.ping, (1)));
    }

    function test_RevertWhen_ExecutedCallReverts() public {
        vm.expectRevert(abi.encodeWithSelector(Target.Nope.selector, 7));
        vm.prank(owner);
        wallet.execute(address(target), 0, abi.encodeCall(Target.fail, ()));
    }

    function test_RevertWhen_ConstructorGetsZeroOwner() public {
        vm.expectRevert(abi.encodeWithSelector(OwnedWallet.OwnedWalletInvalidOwner.selector, address(0)));
        new OwnedWallet(address(0));
    }

    function test_Receive() public {
        vm.deal(address(this), 1 ether);
        (bool ok,) = address(wallet).call{value: 1 ether}("");
        assertTrue(ok);
        assertEq(address(wallet).balance, 1 ether);
    }
}
