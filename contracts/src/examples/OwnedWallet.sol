// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title OwnedWallet
/// @notice A minimal ERC-1271 contract wallet for tests and the demo: one owner EOA signs for it,
/// and the owner can make it call anything.
/// @dev {isValidSignature} accepts a 65-byte ECDSA signature over exactly `hash` by the owner
/// (for an EIP-191 `personal_sign` message, `hash` is the EIP-191 digest). High-s and
/// malformed signatures are refused (OpenZeppelin {ECDSA.tryRecover}).
contract OwnedWallet is IERC1271 {
    /// @notice The EOA that signs for and controls this wallet.
    address public immutable owner;

    /// @notice The caller is not the owner.
    error OwnedWalletUnauthorizedAccount(address account);

    /// @notice The zero address was given as owner.
    error OwnedWalletInvalidOwner(address owner);

    /// @param owner_ The controlling EOA; not zero.
    constructor(address owner_) {
        if (owner_ == address(0)) revert OwnedWalletInvalidOwner(owner_);
        owner = owner_;
    }

    /// @notice Accepts plain ether transfers.
    receive() external payable {}

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && signer == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }

    /// @notice Calls `target` with `value` and `data` as this wallet. Owner only; a revert in the
    /// call bubbles up.
    /// @param target The contract or account to call.
    /// @param value Ether to send with the call.
    /// @param data The calldata.
    /// @return result What the call returned.
    function execute(address target, uint256 value, bytes calldata data)
        external
        payable
        returns (bytes memory result)
    {
        if (msg.sender != owner) revert OwnedWalletUnauthorizedAccount(msg.sender);
        return Address.functionCallWithValue(target, data, value);
    }
}
